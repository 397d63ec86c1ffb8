import type { StreamStatus } from '../src/log/types.ts';

/**
 * The four stream statuses, in the order the CLI and the viewer list them (`StreamStatus` of
 * src/log/types.ts): `active` until the actor ends, then `done`, `error` or `stopped`.
 * The one list the CLI (`streams --status`) and the viewer (its status chips) read.
 */
export const STREAM_STATUSES: readonly StreamStatus[] = ['active', 'done', 'error', 'stopped'];

/** True when `value` names a stream status. */
export function isStreamStatus(value: unknown): value is StreamStatus {
  return (STREAM_STATUSES as readonly unknown[]).includes(value);
}

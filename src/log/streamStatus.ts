/**
 * The four stream statuses, in the order the CLI and the viewer list them: `active` until the actor
 * ends, then `done` (it reached a final state), `error` (it failed) or `stopped` (it was stopped).
 * The one list the stores (the SQLite `listStreams` filter), the CLI (`streams --status`) and the
 * viewer (its status chips) read. (The `streams.status` CHECK of each store's schema states them too:
 * SQL the migrations ran as written.)
 */
export const STREAM_STATUSES = ['active', 'done', 'error', 'stopped'] as const;

/** The status of a stream (an actor): `active` until the actor ends. */
export type StreamStatus = (typeof STREAM_STATUSES)[number];

/** True when `value` names a stream status. */
export function isStreamStatus(value: unknown): value is StreamStatus {
  return (STREAM_STATUSES as readonly unknown[]).includes(value);
}

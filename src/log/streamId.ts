import { ActorlogError } from '../errors.ts';

/**
 * Checks a stream id given to a store or to `spawn`: a non-empty string. A missing id (easy in
 * JavaScript: `spawn('job', {})`) would otherwise be written as a NULL key that every later
 * `recover()` resumes and no one can address.
 * @param what names the call in the message (`createStream`, `spawn('job')`)
 * @throws ActorlogError `INVALID_OPTIONS` when `streamId` is not a non-empty string; nothing is written
 * @example
 * ```ts
 * assertStreamId(stream.streamId, 'createStream');
 * ```
 */
export function assertStreamId(streamId: unknown, what: string): asserts streamId is string {
  if (typeof streamId === 'string' && streamId.length > 0) return;
  const got = streamId === '' ? 'an empty string' : streamId === null ? 'null' : typeof streamId;
  throw new ActorlogError('INVALID_OPTIONS', `${what}: a stream id is a non-empty string, got ${got}`, {
    details: { streamId: typeof streamId === 'string' ? streamId : null },
  });
}

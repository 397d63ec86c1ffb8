/**
 * The causation id of a message between journaled actors (`EventMeta.causationId`): the one codec the
 * runtime writes it with and the CLI and the viewer read it with.
 *
 * Written form: `<sender stream>:<sender version>:<sender path>:<n>`. Only the stream id may hold a
 * `:` as it is; a `:` inside the path (a child id such as `a:b`) is written `%3A`, so the id splits
 * back from the right. (A path already escapes `%` and `/` inside ids as `%25` and `%2F`, see
 * src/runtime/actorTree.ts, so `%3A` there can only be this escape.) A path without `:` is written as
 * it is: such ids are the same as the runtime always wrote them.
 *
 * Logs written before the escape may hold a path with a bare `:`; {@link parseCausationId} still reads
 * them (the stream id is then the longest one `knownStream` knows, else the shortest that leaves a
 * path) and {@link causationIdForms} gives the form they were written in.
 * @internal
 */
export interface CausationId {
  /** The sending stream. */
  streamId: string;
  /** The sender's stream version whose transition sent the message. */
  version: number;
  /** The sender's path in its stream's actor tree (`''` its root, `worker/sub` a grandchild). */
  path: string;
  /** Which send of the actor at `path` in that transition (0, 1, …). */
  index: number;
}

/** The written form: a stream id (may hold `:`), a whole version, a path without `:`, a whole index. */
const WRITTEN = /^(.*):(\d+):([^:]*):(\d+)$/;

/**
 * Writes a causation id.
 * @example formatCausationId({ streamId: 'order-1', version: 3, path: 'worker', index: 0 }) // 'order-1:3:worker:0'
 * @internal
 */
export function formatCausationId(c: CausationId): string {
  return `${c.streamId}:${c.version}:${c.path.replaceAll(':', '%3A')}:${c.index}`;
}

/**
 * Reads a causation id back; `undefined` when `id` is not one (an application's own `system.send`
 * causation id, a UUID by default).
 * @param knownStream whether a stream exists: settles an id written before paths escaped `:`
 * @example parseCausationId('tenant:a:order-1:7:x%3A1:0') // { streamId: 'tenant:a:order-1', version: 7, path: 'x:1', index: 0 }
 * @internal
 */
export function parseCausationId(id: string, knownStream?: (streamId: string) => boolean): CausationId | undefined {
  const m = WRITTEN.exec(id);
  const written = m ? { streamId: m[1]!, version: Number(m[2]), path: m[3]!.replaceAll('%3A', ':'), index: Number(m[4]) } : undefined;
  if (written && (!knownStream || knownStream(written.streamId))) return written;
  return legacy(id, knownStream) ?? written;
}

/**
 * The forms `id` may stand in a log: `id`, and for a path holding `:` also the form written before
 * that `:` was escaped (recovery looks a message up by either, so it is delivered once across the upgrade).
 * @internal
 */
export function causationIdForms(id: string): string[] {
  const c = parseCausationId(id);
  if (!c || !c.path.includes(':')) return [id];
  return [id, `${c.streamId}:${c.version}:${c.path}:${c.index}`];
}

/** An id with a bare `:` in its path: every `:<digits>:` may end the stream id. */
function legacy(id: string, knownStream?: (streamId: string) => boolean): CausationId | undefined {
  const tail = /:(\d+)$/.exec(id);
  if (!tail) return undefined;
  const head = id.slice(0, tail.index);
  const candidates: CausationId[] = [];
  for (const m of head.matchAll(/:(\d+)(?=:)/g)) {
    candidates.push({ streamId: head.slice(0, m.index), version: Number(m[1]), path: head.slice(m.index + m[0].length + 1), index: Number(tail[1]) });
  }
  if (knownStream) return candidates.reverse().find((c) => knownStream(c.streamId));
  return candidates[0];
}

/**
 * The causation id of a message between journaled actors (`EventMeta.causationId`), as the runtime
 * writes it: `<sender stream>:<sender version>:<sender path>:<n>`. The one parser of the CLI and the
 * viewer (`inspect` names the sender, the viewer links to it). A stream id or a path may itself
 * hold `:`: the id is then read with the sender path taken as the part after the last `:<digits>:`
 * that leaves a whole number at the end, and `knownStream` (when given) settles what is left: the
 * first split whose stream exists wins.
 */
export interface CausationId {
  /** The sending stream. */
  streamId: string;
  /** The sender's stream version whose transition sent the message. */
  version: number;
  /** The sender's path in its tree (`''` its root). */
  path: string;
  /** Which send of that transition (0, 1, …). */
  index: number;
}

/** Parses a causation id; undefined when it is not one. */
export function parseCausationId(id: string, knownStream?: (streamId: string) => boolean): CausationId | undefined {
  const tail = /:(\d+)$/.exec(id);
  if (!tail) return undefined;
  const head = id.slice(0, tail.index);
  const candidates: CausationId[] = [];
  // every `:<digits>:` may end the stream id (overlapping ones too: `job:7:3:worker`)
  for (const m of head.matchAll(/:(\d+)(?=:)/g)) {
    candidates.push({ streamId: head.slice(0, m.index), version: Number(m[1]), path: head.slice(m.index + m[0].length + 1), index: Number(tail[1]) });
  }
  if (candidates.length === 0) return undefined;
  if (knownStream) {
    const known = candidates.find((c) => knownStream(c.streamId));
    if (known) return known;
  }
  // the writer's common case: a path without `:`
  return candidates.filter((c) => !c.path.includes(':')).at(0) ?? candidates.at(-1);
}

/** Writes a causation id (what the runtime writes; for tests and tools). */
export function formatCausationId(c: CausationId): string {
  return `${c.streamId}:${c.version}:${c.path}:${c.index}`;
}

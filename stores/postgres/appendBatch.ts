import { ActorlogError } from '../../src/errors.ts';
import type { AppendRequest, AppendResult } from '../../src/log/types.ts';
import { encodeEvents, type Appended } from './appendToStream.ts';
import type { Queryable } from './connection.ts';
import { pgCode, wrapPgError } from './errors.ts';
import { diagnose, type Fence } from './fence.ts';
import { FENCE_REFUSED } from './schema.ts';

/**
 * The fenced append of several streams in ONE statement: the UPDATE of every stream row checks its
 * expected version, owner node and epoch and (registered store) status `active`, and raises its
 * version; `fence_check` compares the rows it matched with the streams asked for and raises
 * `AL001` when any refused, which undoes the whole statement; the INSERT of every event (in batch
 * order, so global positions follow the batch) reads from the checked statement. One round trip for
 * a whole group commit, whatever the number of streams.
 *
 * Parameters: $1 stream ids, $2 expected versions, $3 event counts, $4 last `recordedAt`s (one per
 * stream), $5 owner node, $6 owner epoch, $7 stream count, then one per event: $8 stream id,
 * $9 version, $10 type, $11 data, $12 meta (JSON text).
 */
export const appendBatchSql = (S: string): string => `
  WITH fence AS (
    UPDATE ${S}.streams s SET version = s.version + r.n, last_at = r.last_at
    FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::float8[]) AS r(stream_id, expected, n, last_at)
    WHERE s.stream_id = r.stream_id AND s.version = r.expected
      AND s.owner_node IS NOT DISTINCT FROM $5::text AND s.owner_epoch IS NOT DISTINCT FROM $6::bigint
      AND ($5::text IS NULL OR s.status = 'active')
    RETURNING s.stream_id
  ), checked AS MATERIALIZED (
    SELECT ${S}.fence_check((SELECT count(*) FROM fence), $7::bigint) AS ok
  )
  INSERT INTO ${S}.events (stream_id, version, owner_epoch, type, data, meta)
  SELECT e.stream_id, e.version, $6::bigint, e.type, e.data::json, e.meta::json
  FROM checked, unnest($8::text[], $9::bigint[], $10::text[], $11::text[], $12::text[]) WITH ORDINALITY AS e(stream_id, version, type, data, meta, ord)
  WHERE checked.ok
  ORDER BY e.ord
  RETURNING global_position, transaction_id::text AS transaction_id, stream_id, version`;

/**
 * Whether {@link appendBatch} can take `requests` in one statement: two or more, none empty, and the
 * requests to one stream contiguous (each at the version the previous one leaves). Otherwise the
 * caller appends request by request (same outcome, with the right error for a gap).
 */
export function oneStatement(requests: readonly AppendRequest[]): boolean {
  if (requests.length < 2) return false;
  const next = new Map<string, number>();
  for (const r of requests) {
    if (r.events.length === 0) return false;
    const expected = next.get(r.streamId);
    if (expected !== undefined && expected !== r.expectedVersion) return false;
    next.set(r.streamId, r.expectedVersion + r.events.length);
  }
  return true;
}

/**
 * Appends `requests` (see {@link oneStatement}) with {@link appendBatchSql}. When a stream refuses,
 * nothing is written and the first refused request, in batch order, is named by the follow-up read
 * (`diagnose`: STREAM_NOT_FOUND, LEASE_LOST, ACTOR_STOPPED, VERSION_CONFLICT). Inside a transaction
 * the statement runs under a savepoint, so the read sees the batch's earlier writes (streams it created).
 *
 * @returns one result per request, in order, and the transaction id
 * @example
 * ```ts
 * await appendBatch(pool, S, NO_OWNER, [{ streamId: 'a', expectedVersion: 0, events }, { streamId: 'b', expectedVersion: 3, events }], false);
 * ```
 */
export async function appendBatch(q: Queryable, S: string, fence: Fence, requests: readonly AppendRequest[], inTransaction: boolean): Promise<Appended[]> {
  const streams = new Map<string, { expected: number; n: number; lastAt: number | null }>();
  const ev = { stream: [] as string[], version: [] as number[], type: [] as string[], data: [] as string[], meta: [] as string[] };
  for (const r of requests) {
    const encoded = encodeEvents(r.streamId, r.expectedVersion, r.events);
    const group = streams.get(r.streamId);
    if (group === undefined) streams.set(r.streamId, { expected: r.expectedVersion, n: r.events.length, lastAt: encoded.lastAt });
    else Object.assign(group, { n: group.n + r.events.length, lastAt: encoded.lastAt });
    for (let i = 0; i < r.events.length; i++) {
      ev.stream.push(r.streamId);
      ev.version.push(r.expectedVersion + i + 1);
    }
    ev.type.push(...encoded.types);
    ev.data.push(...encoded.data);
    ev.meta.push(...encoded.meta);
  }
  const ids = [...streams.keys()];
  const values = [
    ids,
    ids.map((id) => streams.get(id)!.expected),
    ids.map((id) => streams.get(id)!.n),
    ids.map((id) => streams.get(id)!.lastAt),
    fence.node,
    fence.epoch,
    ids.length,
    ev.stream,
    ev.version,
    ev.type,
    ev.data,
    ev.meta,
  ];
  let rows: Array<{ global_position: string; transaction_id: string; stream_id: string; version: string }>;
  try {
    if (inTransaction) await q.query('SAVEPOINT actorlog_append');
    rows = (await q.query<{ global_position: string; transaction_id: string; stream_id: string; version: string }>(appendBatchSql(S), values)).rows;
  } catch (err) {
    const code = pgCode(err);
    if (code !== FENCE_REFUSED && code !== '23505') throw wrapPgError(err, `append to ${ids.length} streams`, 'APPEND_FAILED', { streamIds: ids });
    if (inTransaction) await q.query('ROLLBACK TO SAVEPOINT actorlog_append').catch((e: unknown) => Promise.reject(wrapPgError(e, 'append', 'APPEND_FAILED')));
    for (const r of requests) {
      const found = await diagnose(q, S, fence, r.streamId, streams.get(r.streamId)!.expected);
      if ('error' in found) throw found.error;
    }
    throw new ActorlogError('APPEND_FAILED', `could not append to ${ids.length} streams: a stream changed meanwhile; nothing was written`, {
      cause: err,
      details: { streamIds: ids },
    });
  }
  const positions = new Map<string, number>();
  for (const row of rows) positions.set(`${row.stream_id}\u0000${row.version}`, Number(row.global_position));
  const transactionId = rows[0]!.transaction_id;
  return requests.map((r): Appended => {
    const nextVersion = r.expectedVersion + r.events.length;
    const result: AppendResult = { nextVersion, lastGlobalPosition: positions.get(`${r.streamId}\u0000${nextVersion}`)! };
    return { result, transactionId };
  });
}

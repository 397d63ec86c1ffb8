import { ActorlogError } from '../../src/errors.ts';
import { assertStreamId } from '../../src/log/streamId.ts';
import type { Passivation, StreamFilter, StreamRecord, StreamStatus } from '../../src/log/types.ts';
import type { Queryable } from './connection.ts';
import type { NewStream } from '../../src/log/types.ts';
import { pgCode, wrapPgError } from './errors.ts';
import { diagnose, type Fence } from './fence.ts';
import { encodeJson, STREAM_COLUMNS, toStreamRecord, type StreamRow } from './rows.ts';

/**
 * Creates a stream at version 0, `active`, owned by `fence` (a registered store's node and epoch;
 * nobody for an unregistered store).
 * @throws ActorlogError `INVALID_OPTIONS` for an id that is not a non-empty string (nothing is written, as
 *   SQLite and memory do); `STREAM_EXISTS` (details `{ streamId }`); `APPEND_FAILED` when the input is
 *   not JSON-safe or the insert fails; `STORE_UNAVAILABLE` for the connection
 * @example
 * ```ts
 * await createStream(pool, S, NO_OWNER, { streamId: 'job-1', machine: { name: 'job', hash: 'ab12' }, input: {}, createdAt: Date.now() });
 * ```
 */
export async function createStream(q: Queryable, S: string, fence: Fence, stream: NewStream): Promise<StreamRecord> {
  const { streamId, machine, createdAt } = stream;
  assertStreamId(streamId, 'createStream');
  let input: string;
  try {
    input = encodeJson(stream.input);
  } catch (err) {
    throw new ActorlogError('APPEND_FAILED', `could not create stream ${streamId}: its input is not JSON-safe (${(err as Error).message})`, {
      cause: err,
      details: { streamId },
    });
  }
  try {
    const { rows } = await q.query<StreamRow>(
      `INSERT INTO ${S}.streams (stream_id, machine_name, machine_hash, input, status, created_at, status_at, owner_node, owner_epoch)
       VALUES ($1, $2, $3, $4::json, 'active', $5, $5, $6, $7) RETURNING ${STREAM_COLUMNS}`,
      [streamId, machine.name, machine.hash, input, createdAt, fence.node, fence.epoch],
    );
    return toStreamRecord(rows[0]!);
  } catch (err) {
    if (pgCode(err) === '23505') throw new ActorlogError('STREAM_EXISTS', `stream ${streamId} already exists`, { cause: err, details: { streamId } });
    throw wrapPgError(err, `create stream ${streamId}`, 'APPEND_FAILED', { streamId });
  }
}

/** One stream by id, or undefined. */
export async function getStream(q: Queryable, S: string, streamId: string): Promise<StreamRecord | undefined> {
  const { rows } = await q.query<StreamRow>(`SELECT ${STREAM_COLUMNS} FROM ${S}.streams WHERE stream_id = $1`, [streamId]);
  return rows[0] === undefined ? undefined : toStreamRecord(rows[0]);
}

/**
 * Streams in creation order, only those with one of `filter.status` when given (the `(status, seq)`
 * index), and passivated or resident ones only with `filter.passivated` (resident active streams: the
 * `streams_resident` partial index, so sleeping streams are never read).
 */
export async function listStreams(q: Queryable, S: string, filter?: StreamFilter): Promise<StreamRecord[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter?.status !== undefined) {
    if (filter.status.length === 0) return [];
    // a literal 'active' lets the planner use the partial indexes on active streams
    if (filter.status.length === 1 && filter.status[0] === 'active') where.push(`status = 'active'`);
    else where.push(`status = ANY($${params.push(filter.status)}::text[])`);
  }
  if (filter?.passivated !== undefined) where.push(filter.passivated ? 'passivated_at IS NOT NULL' : 'passivated_at IS NULL');
  const sql = `SELECT ${STREAM_COLUMNS} FROM ${S}.streams ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`;
  return (await q.query<StreamRow>(sql, params)).rows.map(toStreamRecord);
}

/**
 * Passivates streams (see {@link Passivation}), fenced like a status change: only the owner (or, for
 * an unregistered store, nobody) may; the owner is cleared, so the stream wakes wherever it is needed.
 * @throws ActorlogError `STREAM_NOT_FOUND`; `LEASE_LOST` (another owner)
 */
export async function passivateStreams(q: Queryable, S: string, fence: Fence, passivations: readonly Passivation[]): Promise<void> {
  if (passivations.length === 0) return;
  let rows: Array<{ stream_id: string }>;
  try {
    ({ rows } = await q.query<{ stream_id: string }>(
      `UPDATE ${S}.streams s SET passivated_at = p.at, wake_at = p.wake_at, owner_node = NULL, owner_epoch = NULL
       FROM unnest($1::text[], $2::float8[], $3::float8[]) AS p(stream_id, at, wake_at)
       WHERE s.stream_id = p.stream_id AND s.owner_node IS NOT DISTINCT FROM $4::text AND s.owner_epoch IS NOT DISTINCT FROM $5::bigint
       RETURNING s.stream_id`,
      [passivations.map((p) => p.streamId), passivations.map((p) => p.at), passivations.map((p) => p.wakeAt ?? null), fence.node, fence.epoch],
    ));
  } catch (err) {
    throw wrapPgError(err, 'passivate streams', 'APPEND_FAILED');
  }
  if (rows.length === passivations.length) return;
  const done = new Set(rows.map((r) => r.stream_id));
  const refused = passivations.find((p) => !done.has(p.streamId))!;
  const found = await diagnose(q, S, fence, refused.streamId, undefined);
  if ('error' in found) throw found.error;
  throw new ActorlogError('APPEND_FAILED', `could not passivate stream ${refused.streamId}: its row changed meanwhile`, {
    details: { streamId: refused.streamId },
  });
}

/**
 * Wakes passivated active streams: `ids`, or up to `due.limit` of those whose `wake_at` is at or
 * before `due.at` (earliest first, `FOR UPDATE SKIP LOCKED`, so nodes polling at once share them).
 * Clears the passivation and makes `fence` the owner; returns the streams it woke.
 */
export async function activateStreams(
  q: Queryable,
  S: string,
  fence: Fence,
  pick: { ids: readonly string[] } | { at: number; limit: number },
): Promise<StreamRecord[]> {
  const chosen =
    'ids' in pick
      ? {
          sql: `SELECT stream_id FROM ${S}.streams WHERE stream_id = ANY($3::text[]) AND status = 'active' AND passivated_at IS NOT NULL FOR UPDATE SKIP LOCKED`,
          params: [[...new Set(pick.ids)]],
        }
      : {
          sql: `SELECT stream_id FROM ${S}.streams WHERE status = 'active' AND passivated_at IS NOT NULL AND wake_at <= $3 ORDER BY wake_at LIMIT $4 FOR UPDATE SKIP LOCKED`,
          params: [pick.at, Math.max(0, Math.floor(pick.limit))],
        };
  if ('ids' in pick && pick.ids.length === 0) return [];
  // a materialized CTE runs the LIMIT … SKIP LOCKED choice once (an IN subquery may be re-run by the plan)
  const { rows } = await q.query<StreamRow & { seq: string }>(
    `WITH chosen AS MATERIALIZED (${chosen.sql})
     UPDATE ${S}.streams s SET passivated_at = NULL, wake_at = NULL, owner_node = $1, owner_epoch = $2
     FROM chosen WHERE s.stream_id = chosen.stream_id AND s.status = 'active' AND s.passivated_at IS NOT NULL
     RETURNING ${STREAM_COLUMNS.split(', ')
       .map((c) => `s.${c}`)
       .join(', ')}, s.seq`,
    [fence.node, fence.epoch, ...chosen.params],
  );
  return rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map(toStreamRecord);
}

/**
 * Sets a stream's status at `at` (ms), fenced like an append: a registered store changes only the
 * streams it owns, an unregistered one only streams without an owner.
 * @throws ActorlogError `STREAM_NOT_FOUND`; `LEASE_LOST` (another owner)
 */
export async function setStreamStatus(q: Queryable, S: string, fence: Fence, streamId: string, status: StreamStatus, at: number): Promise<void> {
  let changed: number;
  try {
    const result = await q.query(
      `UPDATE ${S}.streams SET status = $2, status_at = $3
       WHERE stream_id = $1 AND owner_node IS NOT DISTINCT FROM $4::text AND owner_epoch IS NOT DISTINCT FROM $5::bigint`,
      [streamId, status, at, fence.node, fence.epoch],
    );
    changed = result.rowCount ?? 0;
  } catch (err) {
    throw wrapPgError(err, `set the status of stream ${streamId}`, 'APPEND_FAILED', { streamId });
  }
  if (changed > 0) return;
  const found = await diagnose(q, S, fence, streamId, undefined);
  if ('error' in found) throw found.error;
  throw new ActorlogError('APPEND_FAILED', `could not set the status of stream ${streamId}: its row changed meanwhile`, { details: { streamId } });
}

import { ActorlogError } from '../../src/errors.ts';
import { assertStreamId } from '../../src/log/streamId.ts';
import type { StreamRecord, StreamStatus } from '../../src/log/types.ts';
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

/** Streams in creation order, only those with one of `filter.status` when given (the `(status, seq)` index). */
export async function listStreams(q: Queryable, S: string, filter?: { status?: StreamStatus[] }): Promise<StreamRecord[]> {
  if (filter?.status === undefined) {
    return (await q.query<StreamRow>(`SELECT ${STREAM_COLUMNS} FROM ${S}.streams ORDER BY seq`)).rows.map(toStreamRecord);
  }
  if (filter.status.length === 0) return [];
  const { rows } = await q.query<StreamRow>(`SELECT ${STREAM_COLUMNS} FROM ${S}.streams WHERE status = ANY($1::text[]) ORDER BY seq`, [filter.status]);
  return rows.map(toStreamRecord);
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

import { ActorlogError } from '../../src/errors.ts';
import type { AppendResult, NewEvent } from '../../src/log/types.ts';
import type { Queryable } from './connection.ts';
import { pgCode, wrapPgError } from './errors.ts';
import { diagnose, type Fence } from './fence.ts';
import { encodeJson } from './rows.ts';

/** An append's result and the id of the transaction that wrote it (xid8, decimal; '0' when nothing was written). */
export interface Appended {
  result: AppendResult;
  transactionId: string;
}

/**
 * The fenced append, ONE statement per stream: the UPDATE of the stream row checks the expected
 * version, the owner node and epoch (NULL = NULL for an unregistered store) and, for a registered
 * store, status `active`, and raises the version; the INSERT of the events reads from that UPDATE, so
 * a refused UPDATE inserts nothing. Concurrent appends to a stream serialize on its row lock; one
 * waiting behind a takeover re-checks the new row (READ COMMITTED) and is refused. Each event row
 * gets `transaction_id = pg_current_xact_id()` by default.
 *
 * Parameters: $1 stream id, $2 expected version, $3 event count, $4 last event's `meta.recordedAt`,
 * $5 owner node, $6 owner epoch, $7 types, $8 data (JSON text), $9 meta (JSON text).
 */
export const appendSql = (S: string): string => `
  WITH fence AS (
    UPDATE ${S}.streams SET version = version + $3, last_at = $4
    WHERE stream_id = $1 AND version = $2
      AND owner_node IS NOT DISTINCT FROM $5::text AND owner_epoch IS NOT DISTINCT FROM $6::bigint
      AND ($5::text IS NULL OR status = 'active')
    RETURNING stream_id)
  INSERT INTO ${S}.events (stream_id, version, owner_epoch, type, data, meta)
  SELECT f.stream_id, $2::bigint + e.ord, $6::bigint, e.type, e.data::json, e.meta::json
  FROM fence f, unnest($7::text[], $8::text[], $9::text[]) WITH ORDINALITY AS e(type, data, meta, ord)
  RETURNING global_position, transaction_id::text AS transaction_id`;

/** The columns of the append statement, encoded; a value that is not JSON-safe throws APPEND_FAILED. */
export function encodeEvents(
  streamId: string,
  expectedVersion: number,
  events: readonly NewEvent[],
): { types: string[]; data: string[]; meta: string[]; lastAt: number | null } {
  const types: string[] = [];
  const data: string[] = [];
  const meta: string[] = [];
  try {
    for (const e of events) {
      types.push(e.type);
      data.push(encodeJson(e.data));
      meta.push(encodeJson(e.meta));
    }
  } catch (err) {
    throw new ActorlogError('APPEND_FAILED', `could not append to stream ${streamId}: an event is not JSON-safe (${(err as Error).message})`, {
      cause: err,
      details: { streamId, expectedVersion },
    });
  }
  const recordedAt = events.at(-1)?.meta.recordedAt;
  return { types, data, meta, lastAt: typeof recordedAt === 'number' && Number.isFinite(recordedAt) ? recordedAt : null };
}

/**
 * Appends `events` to one stream at `expectedVersion` with the fenced statement ({@link appendSql}).
 * When it writes nothing, one follow-up read names the reason (`diagnose`): `STREAM_NOT_FOUND`,
 * `LEASE_LOST`, `ACTOR_STOPPED` (registered store, ended stream) or `VERSION_CONFLICT`. An empty
 * `events` writes nothing and only checks (same codes). A pg failure is `APPEND_FAILED` (or
 * `STORE_UNAVAILABLE` for the connection), with the pg error as `cause`.
 *
 * @param q the pool (autocommit: the one statement is the transaction) or a transaction's client
 * @param inTransaction true inside a batch: a unique violation then cannot be diagnosed (the
 *   transaction is aborted) and is reported as VERSION_CONFLICT without `actualVersion`
 * @example
 * ```ts
 * const { result } = await appendToStream(pool, '"actorlog"', NO_OWNER, 'job-1', 0, [event], false);
 * result; // { nextVersion: 1, lastGlobalPosition: 17 }
 * ```
 */
export async function appendToStream(
  q: Queryable,
  S: string,
  fence: Fence,
  streamId: string,
  expectedVersion: number,
  events: readonly NewEvent[],
  inTransaction: boolean,
): Promise<Appended> {
  if (events.length === 0) {
    const found = await diagnose(q, S, fence, streamId, expectedVersion);
    if ('error' in found) throw found.error;
    return { result: { nextVersion: expectedVersion, lastGlobalPosition: found.position }, transactionId: '0' };
  }
  const { types, data, meta, lastAt } = encodeEvents(streamId, expectedVersion, events);
  const values = [streamId, expectedVersion, events.length, lastAt, fence.node, fence.epoch, types, data, meta];
  for (let attempt = 0; ; attempt++) {
    let rows: Array<{ global_position: string; transaction_id: string }>;
    try {
      rows = (await q.query<{ global_position: string; transaction_id: string }>(appendSql(S), values)).rows;
    } catch (err) {
      if (pgCode(err) === '23505') {
        // an event row at this version exists though the stream row said otherwise: written around the store
        if (inTransaction) {
          throw new ActorlogError('VERSION_CONFLICT', `stream ${streamId} already has an event at version ${expectedVersion + 1}`, {
            cause: err,
            details: { streamId, expectedVersion },
          });
        }
        const found = await diagnose(q, S, fence, streamId, expectedVersion);
        if ('error' in found) throw found.error;
      }
      throw wrapPgError(err, `append to stream ${streamId}`, 'APPEND_FAILED', { streamId, expectedVersion });
    }
    if (rows.length > 0) {
      let last = 0;
      for (const r of rows) last = Math.max(last, Number(r.global_position));
      return { result: { nextVersion: expectedVersion + events.length, lastGlobalPosition: last }, transactionId: rows[0]!.transaction_id };
    }
    const found = await diagnose(q, S, fence, streamId, expectedVersion);
    if ('error' in found) throw found.error;
    // the row matched again by the time of the read (an owner that changed back): try once more
    if (attempt >= 2) {
      throw new ActorlogError('APPEND_FAILED', `could not append to stream ${streamId}: its row kept changing`, { details: { streamId, expectedVersion } });
    }
  }
}

import type { Queryable } from './connection.ts';
import type { EventRecord, LogCursor } from '../../src/log/types.ts';
import { eventColumns, toEventRecord, type EventRow } from './rows.ts';

/** Where a read of the global order starts (both bounds apply when both are given). */
export interface ReadFrom {
  /** Only events with global position greater than this. */
  afterPosition?: number;
  /** Only events after this (transaction id, global position) pair. */
  afterCursor?: LogCursor;
  streamId?: string;
  limit: number;
}

/** A batch of the global order and the horizon it was read under. */
export interface ReadBatch {
  records: EventRecord[];
  /**
   * `pg_snapshot_xmin(pg_current_snapshot())` of the read, as a bigint: every transaction with a
   * smaller id had ended when the read ran; events of transactions from this id on were left out.
   */
  horizon: bigint;
}

/**
 * Reads the log in commit-safe global order: only events of transactions older than
 * `pg_snapshot_xmin(pg_current_snapshot())` (every transaction that could still commit an event
 * has an id at or above it), ordered by `(transaction_id, global_position)`, after the given position
 * and/or cursor, at most `limit`. An event is never returned before an event of an older transaction
 * that was still open, and a transaction that rolled back leaves nothing behind: no gap to wait for,
 * no timeout. The horizon comes back with the batch, also when it is empty (one statement: the
 * horizon and the rows share the snapshot).
 *
 * @example
 * ```ts
 * const { records, horizon } = await readBatch(pool, S, { afterCursor: { transactionId: '741', globalPosition: 12 }, limit: 500 });
 * ```
 */
export async function readBatch(q: Queryable, S: string, from: ReadFrom): Promise<ReadBatch> {
  const values: unknown[] = [from.limit];
  const where: string[] = ['e.transaction_id < h.xmin'];
  if (from.afterPosition !== undefined && from.afterPosition > 0) {
    values.push(from.afterPosition);
    where.push(`e.global_position > $${values.length}`);
  }
  if (from.afterCursor !== undefined) {
    values.push(from.afterCursor.transactionId, from.afterCursor.globalPosition);
    where.push(`(e.transaction_id, e.global_position) > ($${values.length - 1}::xid8, $${values.length}::bigint)`);
  }
  if (from.streamId !== undefined) {
    values.push(from.streamId);
    where.push(`e.stream_id = $${values.length}`);
  }
  const { rows } = await q.query<EventRow & { horizon: string; global_position: string | null }>(
    `SELECT h.xmin::text AS horizon, r.* FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin) h
     LEFT JOIN LATERAL (
       SELECT ${eventColumns('e')} FROM ${S}.events e
       WHERE ${where.join(' AND ')}
       ORDER BY e.transaction_id, e.global_position LIMIT $1
     ) r ON true`,
    values,
  );
  const horizon = BigInt(rows[0]!.horizon);
  const records = rows[0]!.global_position === null ? [] : rows.map(toEventRecord);
  return { records, horizon };
}

/** The global position of the last committed event, 0 when the log is empty. */
export async function headPosition(q: Queryable, S: string): Promise<number> {
  const { rows } = await q.query<{ head: string }>(`SELECT COALESCE(max(global_position), 0) AS head FROM ${S}.events`);
  return Number(rows[0]!.head);
}

import type { Queryable } from './connection.ts';
import type { EventRecord } from '../../src/log/types.ts';
import { eventColumns, toEventRecord, type EventRow } from './rows.ts';

/**
 * The events of one stream with `fromVersion <= version <= toVersion` (defaults 1 and unbounded), in
 * version order, through the `(stream_id, version)` index. No horizon is needed: appends to one
 * stream serialize on its row, so its versions commit in order.
 */
export async function readStream(q: Queryable, S: string, streamId: string, range?: { fromVersion?: number; toVersion?: number }): Promise<EventRecord[]> {
  const { rows } = await q.query<EventRow>(
    `SELECT ${eventColumns()} FROM ${S}.events WHERE stream_id = $1 AND version >= $2 AND version <= $3 ORDER BY version`,
    [streamId, range?.fromVersion ?? 1, range?.toVersion ?? Number.MAX_SAFE_INTEGER],
  );
  return rows.map(toEventRecord);
}

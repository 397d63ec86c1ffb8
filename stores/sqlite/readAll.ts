import type Database from 'better-sqlite3';
import type { EventRecord, LogCursor } from '../../src/log/types.ts';
import { positionAfter } from '../../src/log/writeBatch.ts';
import { EVENT_COLUMNS, toEventRecord, type EventRow } from './rows.ts';

/** The whole-log reads of the SQLite store (see {@link prepareReadAll}). */
export interface ReadAll {
  /**
   * Events with global position greater than `after` (default 0), in order, at most `limit` (default
   * all); with `streamId`, only that stream's.
   */
  readAll(options?: { after?: number | LogCursor; limit?: number; streamId?: string }): EventRecord[];
  /** The global position of the last event, 0 when the log is empty. */
  headPosition(): number;
}

/** `readAll({ streamId })`: parameters stream id, `after`, `limit` (-1: all). Exported for query-plan tests. */
export const READ_STREAM_AFTER_SQL = `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND global_position > ? ORDER BY global_position LIMIT ?`;

/**
 * Prepares the reads across streams: `readAll` is a range of the `events` rowid (the global
 * position), or with `streamId` a range of the `events (stream_id, global_position)` index (schema
 * version 2), so a stream's reads never visit other streams' rows; `headPosition` is the rowid's MAX. Both see rows committed by other processes (WAL readers see the
 * last commit when their statement starts).
 *
 * @example
 * ```ts
 * const { readAll, headPosition } = prepareReadAll(db);
 * readAll({ after: 100, limit: 50 }); // positions 101… at most 50 records
 * readAll({ after: 100, streamId: 'job-1' }); // job-1's events after position 100
 * headPosition(); // e.g. 180
 * ```
 */
export function prepareReadAll(db: Database.Database): ReadAll {
  const select = db.prepare<[number, number], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE global_position > ? ORDER BY global_position LIMIT ?`);
  const selectStream = db.prepare<[string, number, number], EventRow>(READ_STREAM_AFTER_SQL);
  const head = db.prepare('SELECT COALESCE(MAX(global_position), 0) FROM events').pluck();
  return {
    readAll(options) {
      const after = positionAfter(options?.after);
      const limit = options?.limit === undefined ? -1 : Math.max(0, options.limit);
      const streamId = options?.streamId;
      const rows = streamId === undefined ? select.all(after, limit) : selectStream.all(streamId, after, limit);
      return rows.map(toEventRecord);
    },
    headPosition: () => head.get() as number,
  };
}

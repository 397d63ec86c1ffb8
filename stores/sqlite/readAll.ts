import type Database from 'better-sqlite3';
import type { EventRecord } from '../../src/log/types.ts';
import { EVENT_COLUMNS, toEventRecord, type EventRow } from './rows.ts';

/** The whole-log reads of the SQLite store (see {@link prepareReadAll}). */
export interface ReadAll {
  /** Events with global position greater than `after` (default 0), in order, at most `limit` (default all). */
  readAll(options?: { after?: number; limit?: number }): EventRecord[];
  /** The global position of the last event, 0 when the log is empty. */
  headPosition(): number;
}

/**
 * Prepares the reads across streams: `readAll` is a range scan of the `events` rowid (the global
 * position), `headPosition` its MAX. Both see rows committed by other processes (WAL readers see the
 * last commit when their statement starts).
 *
 * @example
 * ```ts
 * const { readAll, headPosition } = prepareReadAll(db);
 * readAll({ after: 100, limit: 50 }); // positions 101… at most 50 records
 * headPosition(); // e.g. 180
 * ```
 */
export function prepareReadAll(db: Database.Database): ReadAll {
  const select = db.prepare<[number, number], EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE global_position > ? ORDER BY global_position LIMIT ?`,
  );
  const head = db.prepare('SELECT COALESCE(MAX(global_position), 0) FROM events').pluck();
  return {
    readAll(options) {
      const limit = options?.limit;
      const rows = select.all(options?.after ?? 0, limit === undefined ? -1 : Math.max(0, limit));
      return rows.map(toEventRecord);
    },
    headPosition: () => head.get() as number,
  };
}

import type Database from 'better-sqlite3';
import type { EventRecord } from '../../src/log/types.ts';
import { EVENT_COLUMNS, rawToEventRecord, type RawEventRow } from './rows.ts';

/** Reads one stream's events in a version range (see {@link prepareReadStream}). */
export type ReadStream = (streamId: string, range?: { fromVersion?: number; toVersion?: number }) => EventRecord[];

/**
 * Prepares `readStream` of the SQLite store: the events of one stream with
 * `fromVersion <= version <= toVersion` (both inclusive, defaults 1 and unbounded), in version order,
 * through the `events (stream_id, version)` index. An unknown stream reads as empty. Rows come as
 * arrays (better-sqlite3's `raw` mode: no object per row to build and drop), the hot path of
 * replay and recovery.
 *
 * @example
 * ```ts
 * const readStream = prepareReadStream(db);
 * readStream('job-1', { fromVersion: 3 }); // events 3, 4, … of job-1
 * ```
 */
export function prepareReadStream(db: Database.Database): ReadStream {
  const select = db
    .prepare<[string, number, number], RawEventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND version >= ? AND version <= ? ORDER BY version`,
    )
    .raw(true);
  return (streamId, range) => {
    const rows = select.all(streamId, range?.fromVersion ?? 1, range?.toVersion ?? Number.MAX_SAFE_INTEGER);
    return rows.map(rawToEventRecord);
  };
}

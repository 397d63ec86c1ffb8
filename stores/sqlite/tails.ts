import type Database from 'better-sqlite3';
import type { StreamTail } from '../../src/log/types.ts';
import { toEventRecord, type EventRow } from './rows.ts';

/** Reads the tails of many streams (see {@link prepareReadTails}). */
export type ReadTails = (streamIds: readonly string[]) => StreamTail[];

/** Ids per statement: the ids go in as one JSON array (`json_each`), the rows of a chunk are held at once. */
const CHUNK = 1_000;

/**
 * Prepares `readTails` of the SQLite store: for a chunk of stream ids, two statements (the latest
 * snapshot of each, then the events after it), both walking the `(stream_id, version)` keys of the
 * ids given, instead of two statements per stream. The latest snapshot's version is the same
 * `MAX(version)` subquery in both, so they agree as long as no snapshot is saved between them (the
 * streams recovered are not running).
 *
 * @example
 * ```ts
 * const readTails = prepareReadTails(db);
 * readTails(['job-1', 'job-2']); // [{ streamId: 'job-1', snapshot, events: [...] }, ...]
 * ```
 */
export function prepareReadTails(db: Database.Database): ReadTails {
  const latest = `(SELECT MAX(version) FROM snapshots m WHERE m.stream_id = j.value)`;
  const snapshots = db.prepare<[string], { stream_id: string; version: number; snapshot: string; recorded_at: number }>(
    `SELECT s.stream_id, s.version, s.snapshot, s.recorded_at FROM json_each(?) j JOIN snapshots s ON s.stream_id = j.value AND s.version = ${latest}`,
  );
  const events = db.prepare<[string], EventRow>(
    `SELECT e.global_position, e.stream_id, e.version, e.type, e.data, e.meta FROM json_each(?) j
       JOIN events e ON e.stream_id = j.value AND e.version > COALESCE(${latest}, 0)
       ORDER BY j.key, e.version`,
  );
  const exists = db.prepare<[string], { stream_id: string }>('SELECT s.stream_id FROM json_each(?) j JOIN streams s ON s.stream_id = j.value');
  return (streamIds) => {
    const tails: StreamTail[] = [];
    for (let from = 0; from < streamIds.length; from += CHUNK) {
      const ids = JSON.stringify([...new Set(streamIds.slice(from, from + CHUNK))]); // an id given twice would join its events twice
      const byId = new Map<string, StreamTail>();
      for (const row of exists.all(ids)) byId.set(row.stream_id, { streamId: row.stream_id, events: [] });
      for (const row of snapshots.all(ids)) {
        byId.get(row.stream_id)!.snapshot = { streamId: row.stream_id, version: row.version, snapshot: JSON.parse(row.snapshot), recordedAt: row.recorded_at };
      }
      for (const row of events.all(ids)) byId.get(row.stream_id)!.events.push(toEventRecord(row));
      for (const id of streamIds.slice(from, from + CHUNK)) {
        const tail = byId.get(id);
        if (tail) tails.push(tail);
      }
    }
    return tails;
  };
}

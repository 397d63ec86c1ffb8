import type Database from 'better-sqlite3';
import type { SnapshotRecord } from '../../src/log/types.ts';
import { encodeForWrite } from './rows.ts';

/** The snapshot operations of the SQLite store (see {@link prepareSnapshots}). */
export interface Snapshots {
  saveSnapshot(snapshot: SnapshotRecord): void;
  loadSnapshot(streamId: string, atOrBeforeVersion?: number): SnapshotRecord | undefined;
  listSnapshots(streamId: string): SnapshotRecord[];
}

interface SnapshotRow {
  stream_id: string;
  version: number;
  snapshot: string;
  recorded_at: number;
}

const toSnapshotRecord = (row: SnapshotRow): SnapshotRecord => ({
  streamId: row.stream_id,
  version: row.version,
  snapshot: JSON.parse(row.snapshot),
  recordedAt: row.recorded_at,
});

/**
 * Prepares the operations on `snapshots`: save replaces a snapshot of the same stream and version and,
 * in the same transaction (a savepoint inside an open one), deletes the stream's snapshots below its
 * `keep` highest versions; load returns the one with the highest version `<= atOrBeforeVersion`
 * (default: the latest); list returns all of a stream's, in increasing version order. All three are
 * ranges of the `(stream_id, version)` primary key. Snapshot JSON is parsed into fresh objects.
 *
 * @param keep how many snapshots per stream to keep (an integer >= 1), or `Infinity`: keep all
 * @example
 * ```ts
 * const snapshots = prepareSnapshots(db, 10);
 * snapshots.saveSnapshot({ streamId: 'job-1', version: 10, snapshot: persisted, recordedAt: Date.now() });
 * snapshots.loadSnapshot('job-1', 12)?.version; // 10
 * snapshots.listSnapshots('job-1').map((s) => s.version); // [10]
 * ```
 */
export function prepareSnapshots(db: Database.Database, keep: number): Snapshots {
  const upsert = db.prepare('INSERT OR REPLACE INTO snapshots (stream_id, version, snapshot, recorded_at) VALUES (?, ?, ?, ?)');
  const select = db.prepare<[string, number], SnapshotRow>(
    'SELECT stream_id, version, snapshot, recorded_at FROM snapshots WHERE stream_id = ? AND version <= ? ORDER BY version DESC LIMIT 1',
  );
  const list = db.prepare<[string], SnapshotRow>('SELECT stream_id, version, snapshot, recorded_at FROM snapshots WHERE stream_id = ? ORDER BY version');
  // the keep-th highest version is the lowest one kept; with fewer snapshots it is NULL: nothing goes
  const prune = db.prepare<[string, string, number]>(
    `DELETE FROM snapshots WHERE stream_id = ? AND version <
       (SELECT version FROM snapshots WHERE stream_id = ? ORDER BY version DESC LIMIT 1 OFFSET ?)`,
  );
  const saveAndPrune = db.transaction((s: SnapshotRecord) => {
    upsert.run(s.streamId, s.version, encodeForWrite(s.snapshot, `snapshot of ${s.streamId}`, { streamId: s.streamId, version: s.version }), s.recordedAt);
    prune.run(s.streamId, s.streamId, keep - 1);
  });
  return {
    saveSnapshot(s) {
      if (keep === Infinity)
        upsert.run(s.streamId, s.version, encodeForWrite(s.snapshot, `snapshot of ${s.streamId}`, { streamId: s.streamId, version: s.version }), s.recordedAt);
      else saveAndPrune.immediate(s);
    },
    loadSnapshot(streamId, atOrBeforeVersion) {
      const row = select.get(streamId, atOrBeforeVersion ?? Number.MAX_SAFE_INTEGER);
      return row === undefined ? undefined : toSnapshotRecord(row);
    },
    listSnapshots(streamId) {
      return list.all(streamId).map(toSnapshotRecord);
    },
  };
}

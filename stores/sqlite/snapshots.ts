import type Database from 'better-sqlite3';
import type { SnapshotRecord } from '../../src/log/types.ts';
import { encodeJson } from './rows.ts';

/** The snapshot operations of the SQLite store (see {@link prepareSnapshots}). */
export interface Snapshots {
  saveSnapshot(snapshot: SnapshotRecord): void;
  loadSnapshot(streamId: string, atOrBeforeVersion?: number): SnapshotRecord | undefined;
}

interface SnapshotRow {
  stream_id: string;
  version: number;
  snapshot: string;
  recorded_at: number;
}

/**
 * Prepares the operations on `snapshots`: save replaces a snapshot of the same stream and version;
 * load returns the one with the highest version `<= atOrBeforeVersion` (default: the latest), the
 * snapshot JSON parsed into a fresh object.
 *
 * @example
 * ```ts
 * const snapshots = prepareSnapshots(db);
 * snapshots.saveSnapshot({ streamId: 'job-1', version: 10, snapshot: persisted, recordedAt: Date.now() });
 * snapshots.loadSnapshot('job-1', 12)?.version; // 10
 * ```
 */
export function prepareSnapshots(db: Database.Database): Snapshots {
  const upsert = db.prepare('INSERT OR REPLACE INTO snapshots (stream_id, version, snapshot, recorded_at) VALUES (?, ?, ?, ?)');
  const select = db.prepare<[string, number], SnapshotRow>(
    'SELECT stream_id, version, snapshot, recorded_at FROM snapshots WHERE stream_id = ? AND version <= ? ORDER BY version DESC LIMIT 1',
  );
  return {
    saveSnapshot(s) {
      upsert.run(s.streamId, s.version, encodeJson(s.snapshot), s.recordedAt);
    },
    loadSnapshot(streamId, atOrBeforeVersion) {
      const row = select.get(streamId, atOrBeforeVersion ?? Number.MAX_SAFE_INTEGER);
      if (row === undefined) return undefined;
      return { streamId: row.stream_id, version: row.version, snapshot: JSON.parse(row.snapshot), recordedAt: row.recorded_at };
    },
  };
}

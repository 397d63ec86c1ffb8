import { ActorlogError } from '../../src/errors.ts';
import type { SnapshotRecord } from '../../src/log/types.ts';
import type { Queryable } from './connection.ts';
import { wrapPgError } from './errors.ts';
import { encodeJson } from './rows.ts';

interface SnapshotRow {
  stream_id: string;
  version: string;
  snapshot: unknown;
  recorded_at: number;
}

const toSnapshotRecord = (row: SnapshotRow): SnapshotRecord => ({
  streamId: row.stream_id,
  version: Number(row.version),
  snapshot: row.snapshot,
  recordedAt: row.recorded_at,
});

/**
 * Saves a snapshot and prunes the stream's snapshots to the `keep` highest versions, in ONE statement:
 * the lowest kept version is computed over the stored versions plus the new one; the new snapshot is
 * written (replacing one of the same version) only when it is kept, and every older one is deleted.
 * Parameters: $1 stream, $2 version, $3 snapshot JSON, $4 recordedAt (ms), $5 keep (NULL: all).
 */
const saveSql = (S: string) => `
  WITH keep AS (
    SELECT min(v) AS lowest FROM (
      SELECT v FROM (SELECT version AS v FROM ${S}.snapshots WHERE stream_id = $1 UNION SELECT $2::bigint) t
      ORDER BY v DESC LIMIT $5::bigint) k
  ), saved AS (
    INSERT INTO ${S}.snapshots (stream_id, version, snapshot, recorded_at)
    SELECT $1, $2, $3::json, $4 FROM keep WHERE $2::bigint >= keep.lowest
    ON CONFLICT (stream_id, version) DO UPDATE SET snapshot = excluded.snapshot, recorded_at = excluded.recorded_at
  )
  DELETE FROM ${S}.snapshots s USING keep WHERE s.stream_id = $1 AND s.version < keep.lowest`;

/**
 * Saves a snapshot (a later save of the same stream and version replaces it) and keeps the stream's
 * `keep` highest versions (`Infinity`: all), in one statement.
 * @throws ActorlogError `APPEND_FAILED` when the snapshot is not JSON-safe or the write fails
 * @example
 * ```ts
 * await saveSnapshot(pool, S, 10, { streamId: 'job-1', version: 12, snapshot: persisted, recordedAt: Date.now() });
 * ```
 */
export async function saveSnapshot(q: Queryable, S: string, keep: number, s: SnapshotRecord): Promise<void> {
  let json: string;
  try {
    json = encodeJson(s.snapshot);
  } catch (err) {
    throw new ActorlogError('APPEND_FAILED', `could not save a snapshot of stream ${s.streamId}: it is not JSON-safe (${(err as Error).message})`, {
      cause: err,
      details: { streamId: s.streamId, version: s.version },
    });
  }
  try {
    await q.query(saveSql(S), [s.streamId, s.version, json, s.recordedAt, keep === Infinity ? null : keep]);
  } catch (err) {
    throw wrapPgError(err, `save a snapshot of stream ${s.streamId}`, 'APPEND_FAILED', { streamId: s.streamId, version: s.version });
  }
}

/** The snapshot of a stream with the highest version `<= atOrBeforeVersion` (default: the latest). */
export async function loadSnapshot(q: Queryable, S: string, streamId: string, atOrBeforeVersion?: number): Promise<SnapshotRecord | undefined> {
  const { rows } = await q.query<SnapshotRow>(
    `SELECT stream_id, version, snapshot, recorded_at FROM ${S}.snapshots WHERE stream_id = $1 AND version <= $2 ORDER BY version DESC LIMIT 1`,
    [streamId, atOrBeforeVersion ?? Number.MAX_SAFE_INTEGER],
  );
  return rows[0] === undefined ? undefined : toSnapshotRecord(rows[0]);
}

/** Every kept snapshot of a stream, in increasing version order. */
export async function listSnapshots(q: Queryable, S: string, streamId: string): Promise<SnapshotRecord[]> {
  const { rows } = await q.query<SnapshotRow>(`SELECT stream_id, version, snapshot, recorded_at FROM ${S}.snapshots WHERE stream_id = $1 ORDER BY version`, [
    streamId,
  ]);
  return rows.map(toSnapshotRecord);
}

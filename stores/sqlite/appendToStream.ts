import type Database from 'better-sqlite3';
import { ActorlogError } from '../../src/errors.ts';
import type { AppendResult, NewEvent } from '../../src/log/types.ts';
import { encodeJson } from './rows.ts';
import type { VersionCache } from './versionCache.ts';

/** Appends events to one stream at an expected version (see {@link prepareAppendToStream}). */
export type AppendToStream = (streamId: string, expectedVersion: number, events: readonly NewEvent[]) => AppendResult;

/**
 * Prepares the append of the SQLite store: `INSERT INTO events`, once, at open.
 *
 * The append path makes no SELECT: `versions` caches each stream's version (valid because the store's
 * connection is its only writer), for the most recently written streams (a bounded {@link VersionCache}). A cache miss or mismatch re-reads the version before deciding, so a
 * stale cache never causes a false conflict; the `UNIQUE (stream_id, version)` index catches a
 * conflict the cache missed (another process appended). Any failure drops the stream from the cache.
 * The owner must also clear `versions` when a transaction rolls back (index.ts does).
 *
 * A single event is one INSERT (atomic by itself, autocommit outside a transaction); several events
 * run in one transaction (a savepoint when nested).
 *
 * @param versions the store's version cache: streamId -> current version (a miss is re-read)
 * @returns the append function. It throws ActorlogError `STREAM_NOT_FOUND` (unknown stream),
 *   `VERSION_CONFLICT` (details `{ streamId, expectedVersion, actualVersion }`) or `APPEND_FAILED`
 *   (SQLite or JSON failure, with `cause`).
 * @example
 * ```ts
 * const append = prepareAppendToStream(db, new VersionCache());
 * append('job-1', 0, [{ type: 'submit', data: {}, meta: { source: 'external', recordedAt: 1 } }]);
 * // -> { nextVersion: 1, lastGlobalPosition: 1 }
 * ```
 */
export function prepareAppendToStream(db: Database.Database, versions: VersionCache): AppendToStream {
  const insert = db.prepare('INSERT INTO events (stream_id, version, type, data, meta) VALUES (?, ?, ?, ?, ?)');
  const current = db
    .prepare('SELECT COALESCE((SELECT MAX(e.version) FROM events e WHERE e.stream_id = s.stream_id), 0) FROM streams s WHERE s.stream_id = ?')
    .pluck();
  const positionAt = db.prepare('SELECT global_position FROM events WHERE stream_id = ? AND version = ?').pluck();
  const insertMany = db.transaction((streamId: string, expected: number, events: readonly NewEvent[]): number => {
    let position = 0;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      position = insert.run(streamId, expected + i + 1, e.type, encodeJson(e.data), encodeJson(e.meta)).lastInsertRowid as number;
    }
    return position;
  });

  const conflict = (streamId: string, expectedVersion: number, actualVersion: number) =>
    new ActorlogError('VERSION_CONFLICT', `stream ${streamId} is at version ${actualVersion}, not ${expectedVersion}`, {
      details: { streamId, expectedVersion, actualVersion },
    });

  /** The slow path: reads the stream's version, refreshes the cache, throws unless it is `expected`. */
  const verify = (streamId: string, expected: number): void => {
    const actual = current.get(streamId) as number | undefined;
    if (actual === undefined) {
      versions.delete(streamId);
      throw new ActorlogError('STREAM_NOT_FOUND', `no stream ${streamId}`, { details: { streamId } });
    }
    versions.set(streamId, actual);
    if (actual !== expected) throw conflict(streamId, expected, actual);
  };

  const failure = (err: unknown, streamId: string, expected: number): ActorlogError => {
    versions.delete(streamId);
    const code = (err as { code?: unknown }).code;
    if (code === 'SQLITE_CONSTRAINT_UNIQUE') {
      try {
        const actual = current.get(streamId) as number | undefined;
        if (actual !== undefined) return conflict(streamId, expected, actual);
      } catch {
        // fall through to APPEND_FAILED with the original cause
      }
    }
    return new ActorlogError('APPEND_FAILED', `could not append to stream ${streamId}: ${(err as Error).message}`, {
      cause: err,
      details: { streamId, expectedVersion: expected },
    });
  };

  return function append(streamId, expectedVersion, events) {
    if (versions.get(streamId) !== expectedVersion) verify(streamId, expectedVersion);
    const n = events.length;
    let position: number;
    try {
      if (n === 1) {
        const e = events[0]!;
        position = insert.run(streamId, expectedVersion + 1, e.type, encodeJson(e.data), encodeJson(e.meta)).lastInsertRowid as number;
      } else if (n === 0) {
        position = expectedVersion === 0 ? 0 : (positionAt.get(streamId, expectedVersion) as number);
      } else {
        position = insertMany.immediate(streamId, expectedVersion, events);
      }
    } catch (err) {
      throw failure(err, streamId, expectedVersion);
    }
    versions.set(streamId, expectedVersion + n);
    return { nextVersion: expectedVersion + n, lastGlobalPosition: position };
  };
}

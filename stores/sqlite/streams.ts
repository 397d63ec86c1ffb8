import type Database from 'better-sqlite3';
import { ActorlogError } from '../../src/errors.ts';
import { assertStreamId } from '../../src/log/streamId.ts';
import type { NewStream, Passivation, StreamFilter, StreamRecord, StreamStatus } from '../../src/log/types.ts';
import { STREAM_STATUSES } from '../../src/log/streamStatus.ts';
import { encodeJson, STREAM_COLUMNS, toStreamRecord, type StreamRow } from './rows.ts';
import type { VersionCache } from './versionCache.ts';

/**
 * `listStreams({ status })`: four status parameters (a shorter list repeats a value), a search of the
 * `streams_status` index, then sorted by creation. Exported for query-plan tests.
 */
export const LIST_STREAMS_BY_STATUS_SQL = `SELECT ${STREAM_COLUMNS} FROM streams s WHERE s.status IN (?, ?, ?, ?) ORDER BY s.rowid`;

/** The stream operations of the SQLite store (see {@link prepareStreams}). */
export interface Streams {
  createStream(stream: NewStream): StreamRecord;
  getStream(streamId: string): StreamRecord | undefined;
  listStreams(filter?: StreamFilter): StreamRecord[];
  setStreamStatus(streamId: string, status: StreamStatus, at: number): void;
  passivate(passivation: Passivation): void;
  activate(streamIds: readonly string[]): StreamRecord[];
  activateDue(at: number, limit: number): StreamRecord[];
}

/**
 * Prepares the operations on `streams`. A stream's `version` and the append part of `updatedAt` are
 * derived from its events when read (two index lookups), so appends never UPDATE `streams`;
 * `updatedAt` is the later of the last status change (or creation) and the last event's
 * `meta.recordedAt` (ms).
 *
 * `createStream` throws ActorlogError `STREAM_EXISTS`, and `INVALID_OPTIONS` for an id that is not a non-empty string; `setStreamStatus` throws `STREAM_NOT_FOUND`.
 * A created stream is put in `versions` at 0. `listStreams` with a status filter searches the
 * `streams_status` index (no scan of `streams`); without one it reads every stream in creation order.
 *
 * @example
 * ```ts
 * const streams = prepareStreams(db, versions);
 * streams.createStream({ streamId: 'job-1', machine: { name: 'job', hash: 'ab12' }, input: {}, createdAt: 1 });
 * streams.listStreams({ status: ['active'] });
 * ```
 */
export function prepareStreams(db: Database.Database, versions: VersionCache): Streams {
  const insert = db.prepare(
    `INSERT INTO streams (stream_id, machine_name, machine_hash, input, status, created_at, status_at)
     VALUES (?, ?, ?, ?, 'active', ?, ?)`,
  );
  const get = db.prepare<[string], StreamRow>(`SELECT ${STREAM_COLUMNS} FROM streams s WHERE s.stream_id = ?`);
  const listAll = db.prepare<[], StreamRow>(`SELECT ${STREAM_COLUMNS} FROM streams s ORDER BY s.rowid`);
  const listByStatus = db.prepare<[string, string, string, string], StreamRow>(LIST_STREAMS_BY_STATUS_SQL);
  const setStatus = db.prepare('UPDATE streams SET status = ?, status_at = ? WHERE stream_id = ?');
  // Passivation (schema 5) is prepared at first use: an older file opened read-only has no such columns.
  const lazy = <T>(make: () => T): (() => T) => {
    let made: T | undefined;
    return () => (made ??= make());
  };
  const passivation = lazy(() => ({
    set: db.prepare('UPDATE streams SET passivated_at = ?, wake_at = ? WHERE stream_id = ?'),
    wake: db.prepare<[string]>(
      `UPDATE streams SET passivated_at = NULL, wake_at = NULL WHERE stream_id = ? AND passivated_at IS NOT NULL AND status = 'active'`,
    ),
    due: db.prepare<[number, number], { stream_id: string }>(
      `SELECT stream_id FROM streams INDEXED BY streams_wake WHERE passivated_at IS NOT NULL AND wake_at <= ? AND status = 'active' ORDER BY wake_at LIMIT ?`,
    ),
    resident: db.prepare<[string, string, string, string], StreamRow>(
      `SELECT ${STREAM_COLUMNS} FROM streams s INDEXED BY streams_resident WHERE s.status IN (?, ?, ?, ?) AND s.passivated_at IS NULL ORDER BY s.rowid`,
    ),
    sleeping: db.prepare<[string, string, string, string], StreamRow>(
      `SELECT ${STREAM_COLUMNS} FROM streams s WHERE s.status IN (?, ?, ?, ?) AND s.passivated_at IS NOT NULL ORDER BY s.rowid`,
    ),
  }));
  const activate = (streamIds: readonly string[]): StreamRecord[] => {
    const { wake } = passivation();
    const out: StreamRecord[] = [];
    for (const id of new Set(streamIds)) {
      if (wake.run(id).changes === 0) continue;
      const row = get.get(id);
      if (row !== undefined) out.push(toStreamRecord(row));
    }
    return out;
  };

  return {
    createStream(stream): StreamRecord {
      const { streamId, machine, createdAt } = stream;
      assertStreamId(streamId, 'createStream');
      const input = encodeJson(stream.input);
      try {
        insert.run(streamId, machine.name, machine.hash, input, createdAt, createdAt);
      } catch (err) {
        if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new ActorlogError('STREAM_EXISTS', `stream ${streamId} already exists`, { details: { streamId } });
        }
        throw err;
      }
      versions.set(streamId, 0);
      const record: StreamRecord = {
        streamId,
        machine: { name: machine.name, hash: machine.hash },
        input: JSON.parse(input),
        status: 'active',
        version: 0,
        createdAt,
        updatedAt: createdAt,
      };
      return record;
    },
    getStream(streamId) {
      const row = get.get(streamId);
      return row === undefined ? undefined : toStreamRecord(row);
    },
    listStreams(filter) {
      if (filter?.status === undefined && filter?.passivated === undefined) return listAll.all().map(toStreamRecord);
      const wanted = STREAM_STATUSES.filter((s) => filter.status?.includes(s) ?? true);
      if (wanted.length === 0) return [];
      const [a, b = a, c = b, d = c] = wanted as [StreamStatus, ...StreamStatus[]];
      if (filter.passivated === undefined) return listByStatus.all(a, b, c, d).map(toStreamRecord);
      return (filter.passivated ? passivation().sleeping : passivation().resident).all(a, b, c, d).map(toStreamRecord);
    },
    passivate({ streamId, at, wakeAt }) {
      if (passivation().set.run(at, wakeAt ?? null, streamId).changes === 0) {
        throw new ActorlogError('STREAM_NOT_FOUND', `no stream ${streamId}`, { details: { streamId } });
      }
    },
    activate,
    activateDue(at, limit) {
      return activate(
        passivation()
          .due.all(at, Math.max(0, Math.floor(limit)))
          .map((r) => r.stream_id),
      );
    },
    setStreamStatus(streamId: string, status: StreamStatus, at: number) {
      if (setStatus.run(status, at, streamId).changes === 0) {
        throw new ActorlogError('STREAM_NOT_FOUND', `no stream ${streamId}`, { details: { streamId } });
      }
    },
  };
}

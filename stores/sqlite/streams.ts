import type Database from 'better-sqlite3';
import { ActorlogError } from '../../src/errors.ts';
import type { LogStore, StreamRecord, StreamStatus } from '../../src/log/types.ts';
import { encodeJson, STREAM_COLUMNS, toStreamRecord, type StreamRow } from './rows.ts';

/** The stream operations of the SQLite store (see {@link prepareStreams}). */
export type Streams = Pick<LogStore, 'createStream' | 'getStream' | 'listStreams' | 'setStreamStatus'>;

/**
 * Prepares the operations on `streams`. A stream's `version` and the append part of `updatedAt` are
 * derived from its events when read (two index lookups), so appends never UPDATE `streams`;
 * `updatedAt` is the later of the last status change (or creation) and the last event's
 * `meta.recordedAt` (ms).
 *
 * `createStream` throws ActorlogError `STREAM_EXISTS`; `setStreamStatus` throws `STREAM_NOT_FOUND`.
 * A created stream is put in `versions` at 0.
 *
 * @example
 * ```ts
 * const streams = prepareStreams(db, versions);
 * streams.createStream({ streamId: 'job-1', machine: { name: 'job', hash: 'ab12' }, input: {}, createdAt: 1 });
 * streams.listStreams({ status: ['active'] });
 * ```
 */
export function prepareStreams(db: Database.Database, versions: Map<string, number>): Streams {
  const insert = db.prepare(
    `INSERT INTO streams (stream_id, machine_name, machine_hash, input, status, created_at, status_at)
     VALUES (?, ?, ?, ?, 'active', ?, ?)`,
  );
  const get = db.prepare<[string], StreamRow>(`SELECT ${STREAM_COLUMNS} FROM streams s WHERE s.stream_id = ?`);
  const list = db.prepare<[string | null, string | null], StreamRow>(
    `SELECT ${STREAM_COLUMNS} FROM streams s
     WHERE ? IS NULL OR s.status IN (SELECT value FROM json_each(?))
     ORDER BY s.rowid`,
  );
  const setStatus = db.prepare('UPDATE streams SET status = ?, status_at = ? WHERE stream_id = ?');

  return {
    createStream(stream): StreamRecord {
      const { streamId, machine, createdAt } = stream;
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
      const status = filter?.status === undefined ? null : JSON.stringify(filter.status);
      return list.all(status, status).map(toStreamRecord);
    },
    setStreamStatus(streamId: string, status: StreamStatus, at: number) {
      if (setStatus.run(status, at, streamId).changes === 0) {
        throw new ActorlogError('STREAM_NOT_FOUND', `no stream ${streamId}`, { details: { streamId } });
      }
    },
  };
}

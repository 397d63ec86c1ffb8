import type Database from 'better-sqlite3';
import type { InboxMessage, StoredInboxMessage } from '../../src/log/types.ts';
import { encodeForWrite } from './rows.ts';

/** The inbox operations of the SQLite store (see {@link prepareInbox}). */
export interface Inbox {
  postMessage(message: InboxMessage): void;
  consumeMessage(streamId: string, id: number): void;
  readInbox(streamId: string, limit?: number): StoredInboxMessage[];
  inboxStreams(limit?: number): string[];
}

interface InboxRow {
  id: number;
  stream_id: string;
  causation_id: string;
  type: string;
  data: string;
  sender: string;
  posted_at: number;
}

/**
 * Prepares the operations on `inbox` (schema version 4): messages to a journaled actor that wait
 * until the process running it appends them to its stream. Posting keeps the first message of a
 * (stream, causation id) pair (`INSERT … ON CONFLICT DO NOTHING`); consuming deletes the row, in the
 * transaction that appends it. A read-only store of an older schema (no table) reads an empty inbox.
 *
 * @example
 * ```ts
 * const inbox = prepareInbox(db);
 * inbox.postMessage({ streamId: 'b', causationId: 'a:3:/:0', type: 'ping', data: {}, from: 'a', postedAt: Date.now() });
 * inbox.readInbox('b'); // [{ id: 1, streamId: 'b', … }]
 * ```
 */
export function prepareInbox(db: Database.Database): Inbox {
  const hasTable = (): boolean => db.prepare<[], number>("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'inbox'").pluck().get() === 1;
  if (!hasTable()) {
    return {
      postMessage: () => {
        throw new Error('the log file has no inbox table (schema older than 4)');
      },
      consumeMessage: () => {},
      readInbox: () => [],
      inboxStreams: () => [],
    };
  }
  const insert = db.prepare(
    'INSERT INTO inbox (stream_id, causation_id, type, data, sender, posted_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (stream_id, causation_id) DO NOTHING',
  );
  const remove = db.prepare('DELETE FROM inbox WHERE id = ? AND stream_id = ?');
  const select = db.prepare<[string, number], InboxRow>(
    'SELECT id, stream_id, causation_id, type, data, sender, posted_at FROM inbox WHERE stream_id = ? ORDER BY id LIMIT ?',
  );
  const streams = db.prepare<[number], string>('SELECT DISTINCT stream_id FROM inbox LIMIT ?').pluck();
  return {
    postMessage(m) {
      insert.run(
        m.streamId,
        m.causationId,
        m.type,
        encodeForWrite(m.data, `message to ${m.streamId}`, { streamId: m.streamId, causationId: m.causationId }),
        m.from,
        m.postedAt,
      );
    },
    consumeMessage(streamId, id) {
      remove.run(id, streamId);
    },
    readInbox(streamId, limit = -1) {
      return select.all(streamId, limit).map((r) => ({
        id: r.id,
        streamId: r.stream_id,
        causationId: r.causation_id,
        type: r.type,
        data: JSON.parse(r.data) as unknown,
        from: r.sender,
        postedAt: r.posted_at,
      }));
    },
    inboxStreams(limit = 1000) {
      return streams.all(limit);
    },
  };
}

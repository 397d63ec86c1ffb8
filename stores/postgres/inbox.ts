import { ActorlogError } from '../../src/errors.ts';
import type { Queryable } from './connection.ts';
import type { InboxMessage, StoredInboxMessage } from '../../src/log/types.ts';
import { wrapPgError } from './errors.ts';
import { encodeJson } from './rows.ts';

interface InboxRow {
  id: string;
  stream_id: string;
  causation_id: string;
  type: string;
  data: unknown;
  sender: string;
  posted_at: number;
}

/**
 * Posts messages to inboxes, several in one statement. A message whose `(streamId, causationId)` is
 * already waiting is ignored (`ON CONFLICT DO NOTHING`): a sender that posts again after a crash
 * leaves one message. (A message already consumed is gone from the inbox; the receiver's own log
 * then holds its causation id.)
 * @throws ActorlogError `APPEND_FAILED` when a message's data is not JSON-safe or the write fails
 * @example
 * ```ts
 * await postMessages(client, S, [{ streamId: 'b', causationId: 'a:3:/:0', type: 'ping', data: {}, from: 'a', postedAt: Date.now() }]);
 * ```
 */
export async function postMessages(q: Queryable, S: string, messages: readonly InboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  let data: string[];
  try {
    data = messages.map((m) => encodeJson(m.data));
  } catch (err) {
    throw new ActorlogError('APPEND_FAILED', `could not post a message: its data is not JSON-safe (${(err as Error).message})`, { cause: err });
  }
  try {
    await q.query(
      `INSERT INTO ${S}.inbox (stream_id, causation_id, type, data, sender, posted_at)
       SELECT m.stream_id, m.causation_id, m.type, m.data::json, m.sender, m.posted_at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[]) WITH ORDINALITY AS m(stream_id, causation_id, type, data, sender, posted_at, n)
       ORDER BY m.n
       ON CONFLICT (stream_id, causation_id) DO NOTHING`,
      [
        messages.map((m) => m.streamId),
        messages.map((m) => m.causationId),
        messages.map((m) => m.type),
        data,
        messages.map((m) => m.from),
        messages.map((m) => m.postedAt),
      ],
    );
  } catch (err) {
    throw wrapPgError(err, 'post a message', 'APPEND_FAILED');
  }
}

/** Removes consumed inbox messages (by stream and id); ids already gone are ignored. */
export async function consumeMessages(q: Queryable, S: string, consumed: ReadonlyArray<{ streamId: string; id: number }>): Promise<void> {
  if (consumed.length === 0) return;
  try {
    await q.query(`DELETE FROM ${S}.inbox i USING unnest($1::text[], $2::bigint[]) AS c(stream_id, id) WHERE i.stream_id = c.stream_id AND i.id = c.id`, [
      consumed.map((c) => c.streamId),
      consumed.map((c) => c.id),
    ]);
  } catch (err) {
    throw wrapPgError(err, 'remove consumed messages', 'APPEND_FAILED');
  }
}

/** The messages waiting for a stream, oldest first (ids increasing), at most `limit` (default all). */
export async function readInbox(q: Queryable, S: string, streamId: string, limit?: number): Promise<StoredInboxMessage[]> {
  const { rows } = await q.query<InboxRow>(
    `SELECT id, stream_id, causation_id, type, data, sender, posted_at FROM ${S}.inbox WHERE stream_id = $1 ORDER BY id LIMIT $2`,
    [streamId, limit === undefined ? null : Math.max(0, limit)],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    streamId: r.stream_id,
    causationId: r.causation_id,
    type: r.type,
    data: r.data,
    from: r.sender,
    postedAt: r.posted_at,
  }));
}

/** The streams that have messages waiting, those with the oldest message first, at most `limit` (default 1000). */
export async function inboxStreams(q: Queryable, S: string, limit?: number): Promise<string[]> {
  const { rows } = await q.query<{ stream_id: string }>(`SELECT stream_id FROM ${S}.inbox GROUP BY stream_id ORDER BY min(id) LIMIT $1`, [
    limit === undefined ? 1000 : Math.max(0, limit),
  ]);
  return rows.map((r) => r.stream_id);
}

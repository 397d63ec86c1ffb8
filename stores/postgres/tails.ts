import type { StreamTail } from '../../src/log/types.ts';
import type { Queryable } from './connection.ts';
import { eventColumns, toEventRecord, type EventRow } from './rows.ts';

/** Ids per pair of statements: the rows of a chunk are held at once. */
const CHUNK = 1_000;

/**
 * For many streams, the latest snapshot of each and the events after it: two statements per chunk
 * of ids (`= ANY($1)`; a `LATERAL … ORDER BY version DESC LIMIT 1` picks each stream's highest
 * snapshot version through the `(stream_id, version)` key, and the events join the versions found
 * as `unnest` pairs) instead of
 * two round trips per stream. The streams recovered are owned by the reader (fenced): nothing
 * appends to them between the two statements.
 */
export async function readTails(q: Queryable, S: string, streamIds: readonly string[]): Promise<StreamTail[]> {
  const tails: StreamTail[] = [];
  for (let from = 0; from < streamIds.length; from += CHUNK) {
    const ids = streamIds.slice(from, from + CHUNK);
    const byId = new Map<string, StreamTail>();
    const { rows: heads } = await q.query<{ stream_id: string; version: string | null; snapshot: unknown; recorded_at: number | null }>(
      `SELECT st.stream_id, s.version, s.snapshot, s.recorded_at
         FROM ${S}.streams st
         LEFT JOIN LATERAL (
           SELECT version, snapshot, recorded_at FROM ${S}.snapshots WHERE stream_id = st.stream_id ORDER BY version DESC LIMIT 1
         ) s ON true
        WHERE st.stream_id = ANY($1::text[])`,
      [ids],
    );
    for (const row of heads) {
      const tail: StreamTail = { streamId: row.stream_id, events: [] };
      if (row.version !== null) tail.snapshot = { streamId: row.stream_id, version: Number(row.version), snapshot: row.snapshot, recordedAt: row.recorded_at! };
      byId.set(row.stream_id, tail);
    }
    const after = [...byId.values()];
    const { rows } = await q.query<EventRow>(
      `SELECT ${eventColumns('e')} FROM unnest($1::text[], $2::bigint[]) AS t(stream_id, after)
         JOIN ${S}.events e ON e.stream_id = t.stream_id AND e.version > t.after
        ORDER BY e.stream_id, e.version`,
      [after.map((t) => t.streamId), after.map((t) => t.snapshot?.version ?? 0)],
    );
    for (const row of rows) byId.get(row.stream_id)!.events.push(toEventRecord(row));
    for (const id of ids) {
      const tail = byId.get(id);
      if (tail) tails.push(tail);
    }
  }
  return tails;
}

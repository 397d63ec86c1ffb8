import { ActorlogError } from '../../src/errors.ts';
import type { EventMeta, EventRecord, StreamRecord, StreamStatus } from '../../src/log/types.ts';

/** A row of `events` as better-sqlite3 returns it. */
export interface EventRow {
  global_position: number;
  stream_id: string;
  version: number;
  type: string;
  data: string;
  meta: string;
}

/** A row of `events` in better-sqlite3's `raw` mode: the values of {@link EVENT_COLUMNS}, in that order. */
export type RawEventRow = [globalPosition: number, streamId: string, version: number, type: string, data: string, meta: string];

/** A row of `streams` joined with its derived version and last append time. */
export interface StreamRow {
  stream_id: string;
  machine_name: string;
  machine_hash: string;
  input: string;
  status: StreamStatus;
  created_at: number;
  status_at: number;
  /** MAX(version) of the stream's events, 0 when none. */
  version: number;
  /** `meta.recordedAt` of the stream's last event, null when none. */
  last_at: number | null;
}

/**
 * The columns of a stream row with its derived `version` and `last_at`: the shared SELECT list of
 * streams.ts. Both are index lookups on `events (stream_id, version)`.
 */
export const STREAM_COLUMNS = `
  s.stream_id, s.machine_name, s.machine_hash, s.input, s.status, s.created_at, s.status_at,
  COALESCE((SELECT MAX(e.version) FROM events e WHERE e.stream_id = s.stream_id), 0) AS version,
  (SELECT json_extract(e.meta, '$.recordedAt') FROM events e WHERE e.stream_id = s.stream_id
    ORDER BY e.version DESC LIMIT 1) AS last_at`;

/** The SELECT list of an event row. */
export const EVENT_COLUMNS = 'global_position, stream_id, version, type, data, meta';

/** JSON text of a value to store; `undefined` is stored as `null` (JSON has no undefined). */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/**
 * {@link encodeJson} for a write: a value JSON cannot hold (a cycle, a BigInt) fails the write with
 * `APPEND_FAILED` naming `what` (e.g. `snapshot of job-1`), the JSON error as `cause`.
 */
export function encodeForWrite(value: unknown, what: string, details: Record<string, unknown>): string {
  try {
    return encodeJson(value);
  } catch (err) {
    throw new ActorlogError('APPEND_FAILED', `could not write the ${what}: ${(err as Error).message}`, { cause: err, details });
  }
}

/** Turns an `events` row into an {@link EventRecord} (fresh objects: callers may mutate them). */
export function toEventRecord(row: EventRow): EventRecord {
  return {
    globalPosition: row.global_position,
    streamId: row.stream_id,
    version: row.version,
    type: row.type,
    data: JSON.parse(row.data),
    meta: JSON.parse(row.meta) as EventMeta,
  };
}

/** {@link toEventRecord} of a {@link RawEventRow}. */
export function rawToEventRecord(row: RawEventRow): EventRecord {
  return { globalPosition: row[0], streamId: row[1], version: row[2], type: row[3], data: JSON.parse(row[4]), meta: JSON.parse(row[5]) as EventMeta };
}

/** Turns a stream row into a {@link StreamRecord}; `updatedAt` is the later of status change and last append. */
export function toStreamRecord(row: StreamRow): StreamRecord {
  return {
    streamId: row.stream_id,
    machine: { name: row.machine_name, hash: row.machine_hash },
    input: JSON.parse(row.input),
    status: row.status,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.last_at !== null && row.last_at > row.status_at ? row.last_at : row.status_at,
  };
}

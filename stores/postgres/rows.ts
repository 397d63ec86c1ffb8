import type { EventMeta, StreamRecord, StreamStatus } from '../../src/log/types.ts';
import type { EventRecord } from '../../src/log/types.ts';

// node-postgres returns bigint (int8) columns as strings and parses json columns into fresh objects;
// the store converts int8 with Number() per column (it never changes pg's global type parsers, which
// belong to the application).

/** A row of `events` as selected with {@link EVENT_COLUMNS}. */
export interface EventRow {
  global_position: string;
  transaction_id: string;
  stream_id: string;
  version: string;
  type: string;
  data: unknown;
  meta: EventMeta;
}

/** The SELECT list of an event row (`transaction_id` as decimal text), its columns qualified by `alias` when given. */
export function eventColumns(alias?: string): string {
  const a = alias === undefined ? '' : `${alias}.`;
  return `${a}global_position, ${a}transaction_id::text AS transaction_id, ${a}stream_id, ${a}version, ${a}type, ${a}data, ${a}meta`;
}

/** A row of `streams` as selected with {@link STREAM_COLUMNS}. */
export interface StreamRow {
  stream_id: string;
  machine_name: string;
  machine_hash: string;
  input: unknown;
  status: StreamStatus;
  version: string;
  created_at: number;
  status_at: number;
  last_at: number | null;
}

/** The SELECT list of a stream row. */
export const STREAM_COLUMNS = 'stream_id, machine_name, machine_hash, input, status, version, created_at, status_at, last_at';

/** JSON text of a value to store; `undefined` is stored as `null` (JSON has no undefined). Throws for BigInt, cycles. */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/** Turns an `events` row into an event record with its transaction id. */
export function toEventRecord(row: EventRow): EventRecord {
  return {
    globalPosition: Number(row.global_position),
    streamId: row.stream_id,
    version: Number(row.version),
    type: row.type,
    data: row.data,
    meta: row.meta,
    transactionId: row.transaction_id,
  };
}

/** Turns a stream row into a {@link StreamRecord}; `updatedAt` is the later of status change and last append (ms). */
export function toStreamRecord(row: StreamRow): StreamRecord {
  const statusAt = Number(row.status_at);
  const lastAt = row.last_at === null ? null : Number(row.last_at);
  return {
    streamId: row.stream_id,
    machine: { name: row.machine_name, hash: row.machine_hash },
    input: row.input,
    status: row.status,
    version: Number(row.version),
    createdAt: Number(row.created_at),
    updatedAt: lastAt !== null && lastAt > statusAt ? lastAt : statusAt,
  };
}

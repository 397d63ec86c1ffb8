import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { watchLoopDelay, type LoopDelay } from './loopDelay.ts';

/** Event rows as the journal wrote them (JSON columns as text), in commit order. */
export interface EventRows {
  streamId: string[];
  version: string[];
  ownerEpoch: Array<string | null>;
  type: string[];
  data: string[];
  meta: string[];
}

/** One raw measurement: rows inserted, time taken, event-loop delay and this process's CPU time (ms) meanwhile. */
export interface RawResult {
  rows: number;
  elapsedMs: number;
  delay: LoopDelay;
  cpuMs: number;
}

/**
 * The rows the journal committed for the streams `<prefix>-*` of schema `S`, in global order: the
 * raw baselines insert exactly these (same stream ids, versions, owner epoch, type and JSON text).
 */
export async function readEventRows(pool: pg.Pool, S: string, prefix: string): Promise<EventRows> {
  const { rows } = await pool.query<{ stream_id: string; version: string; owner_epoch: string | null; type: string; data: string; meta: string }>(
    `SELECT stream_id, version, owner_epoch, type, data::text AS data, meta::text AS meta FROM ${S}.events WHERE stream_id LIKE $1 ORDER BY global_position`,
    [`${prefix}-%`],
  );
  return {
    streamId: rows.map((r) => r.stream_id),
    version: rows.map((r) => r.version),
    ownerEpoch: rows.map((r) => r.owner_epoch),
    type: rows.map((r) => r.type),
    data: rows.map((r) => r.data),
    meta: rows.map((r) => r.meta),
  };
}

/** `CREATE TABLE <S>.raw_events (LIKE <S>.events INCLUDING ALL)`: the same columns, defaults (transaction id), identity and indexes. */
export async function createRawTable(pool: pg.Pool, S: string): Promise<void> {
  await pool.query(`CREATE TABLE ${S}.raw_events (LIKE ${S}.events INCLUDING ALL)`);
}

const INSERT_ONE = (S: string) => `INSERT INTO ${S}.raw_events (stream_id, version, owner_epoch, type, data, meta) VALUES ($1, $2, $3, $4, $5::json, $6::json)`;
const INSERT_MANY = (S: string) => `INSERT INTO ${S}.raw_events (stream_id, version, owner_epoch, type, data, meta)
  SELECT r.stream_id, r.version, r.owner_epoch, r.type, r.data::json, r.meta::json
  FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[]) AS r(stream_id, version, owner_epoch, type, data, meta)`;

/**
 * Raw inserts of `rows` into `<S>.raw_events` (emptied first, untimed) by the same `pool` the store
 * uses, awaited one statement after another:
 * - `batch` 1: one row per (autocommit) transaction, the first `limit` rows only (fsync per row);
 * - `batch` > 1: multi-row `INSERT … SELECT FROM unnest(…)` of `batch` rows per transaction.
 *
 * @example
 * ```ts
 * const r = await insertRaw(pool, S, rows, { batch: 1000 });
 * console.log((r.rows / r.elapsedMs) * 1000);
 * ```
 */
export async function insertRaw(pool: pg.Pool, S: string, rows: EventRows, options: { batch: number; limit?: number }): Promise<RawResult> {
  await pool.query(`TRUNCATE ${S}.raw_events`);
  const total = Math.min(rows.streamId.length, options.limit ?? Infinity);
  const watch = watchLoopDelay();
  const cpu = process.cpuUsage();
  const start = performance.now();
  if (options.batch <= 1) {
    const sql = INSERT_ONE(S);
    for (let i = 0; i < total; i++) await pool.query(sql, [rows.streamId[i], rows.version[i], rows.ownerEpoch[i], rows.type[i], rows.data[i], rows.meta[i]]);
  } else {
    const sql = INSERT_MANY(S);
    for (let from = 0; from < total; from += options.batch) {
      const to = Math.min(total, from + options.batch);
      await pool.query(sql, [
        rows.streamId.slice(from, to),
        rows.version.slice(from, to),
        rows.ownerEpoch.slice(from, to),
        rows.type.slice(from, to),
        rows.data.slice(from, to),
        rows.meta.slice(from, to),
      ]);
    }
  }
  const elapsedMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const delay = watch.stop();
  const inserted = Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${S}.raw_events`)).rows[0]!.n);
  if (inserted !== total) throw new Error(`raw insert is broken: ${inserted} rows in raw_events, ${total} inserted`);
  return { rows: total, elapsedMs, delay, cpuMs: (used.user + used.system) / 1000 };
}

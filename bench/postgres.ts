import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import pg from 'pg';
import type { NewEvent } from '../src/log/types.ts';
import { formatTable } from '../cli/output.ts';
import { openPostgresStore } from '../stores/postgres/index.ts';
import { startPostgres, stopPostgres, type PostgresServer } from '../test/support/postgres.ts';

/** The event both sides write: the store serialises `data` and `meta`, raw inserts their JSON. */
const sample: NewEvent = {
  type: 'job.progress',
  data: { jobId: 'job-42', state: 'working', progress: 0.5, message: 'step 3 of 6' },
  meta: { source: 'sse', cursor: 'evt-1024', recordedAt: 1_700_000_000_000 },
};
const machine = { name: 'bench', hash: 'b' };

/** Figures of one run, events per second, and their ratios. */
export interface PostgresBenchResult {
  /** Raw `INSERT` of one row per (autocommit) transaction, awaited one after another. */
  rawSinglePerSec: number;
  /** `store.append(stream, v, [event])`: the fenced statement, one event per transaction. */
  appendPerSec: number;
  /** Raw `INSERT … SELECT FROM unnest(…)` of `batch` rows (each its own JSON text, as the store sends them) per transaction. */
  rawBatchedPerSec: number;
  /** `store.append(stream, v, events)` with `batch` events: one fenced statement. */
  appendManyPerSec: number;
  /** `store.appendBatch` of `batch` single-event appends to `batch` streams: one fenced statement for all (appendBatch.ts). */
  appendBatchPerSec: number;
  /** Raw single-row inserts from `concurrency` callers at once (pool of 10). */
  rawConcurrentPerSec: number;
  /** `store.append` from `concurrency` callers at once, one stream each (pool of 10). */
  appendConcurrentPerSec: number;
  appendRatio: number;
  appendManyRatio: number;
  appendBatchRatio: number;
  concurrentRatio: number;
  events: number;
  batch: number;
  concurrency: number;
  runs: number;
  server: string;
}

/** Options of {@link runPostgresBench}. */
export interface PostgresBenchOptions {
  /** A server to use (a schema `bench_<n>` is made and dropped); default: a throwaway server started here with fsync on. */
  url?: string;
  /** Events per single-event figure (batched figures write 10x, concurrent 2x). @default 1000 */
  events?: number;
  /** Rows per batched transaction. @default 100 */
  batch?: number;
  /** Callers at once for the concurrent figures. @default 32 */
  concurrency?: number;
  /** Measured runs per figure (raw and store alternating); the median is reported. @default 3 */
  runs?: number;
  log?: (line: string) => void;
}

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * The PostgreSQL store against raw inserts of the same rows by the same client (node-postgres), on a
 * durable server (fsync and synchronous commit on): one row per transaction, batched, and from
 * several callers at once. Prints events per second and the ratios store / raw. Speed is measured,
 * never asserted.
 *
 * @example
 * ```ts
 * const r = await runPostgresBench({ events: 2000 });
 * console.log(r.appendRatio, r.appendManyRatio);
 * ```
 */
export async function runPostgresBench(options: PostgresBenchOptions = {}): Promise<PostgresBenchResult> {
  const events = options.events ?? 1000;
  const batch = options.batch ?? 100;
  const concurrency = options.concurrency ?? 32;
  const runs = Math.max(1, options.runs ?? 3);
  const log = options.log ?? (() => {});
  let server: PostgresServer | undefined;
  let url = options.url;
  if (url === undefined) {
    log('starting a throwaway PostgreSQL 15 (fsync on)');
    server = await startPostgres({ durable: true });
    url = server.url;
  }
  const schema = `bench_${process.pid}`;
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // After pool.end() a closing client may still get the server's shutdown (57P01): expected then, reported before.
  let ending = false;
  pool.on('error', (err) => {
    if (!ending) log(`an idle PostgreSQL connection failed: ${err.message}`);
  });
  const store = await openPostgresStore(pool, { schema });
  try {
    const S = `"${schema}"`;
    await pool.query(`CREATE TABLE ${S}.raw_events (LIKE ${S}.events INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS INCLUDING INDEXES)`);
    const data = JSON.stringify(sample.data);
    const meta = JSON.stringify(sample.meta);
    const insertOne = `INSERT INTO ${S}.raw_events (stream_id, version, type, data, meta) VALUES ($1, $2, $3, $4::json, $5::json)`;
    // the same rows as the store's batched statements: one stream id, version, type and JSON text per row
    const insertMany = `INSERT INTO ${S}.raw_events (stream_id, version, type, data, meta)
      SELECT r.stream_id, r.version, r.type, r.data::json, r.meta::json FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[]) AS r(stream_id, version, type, data, meta)`;
    const rows = (stream: (i: number) => string, from: number) => [
      Array.from({ length: batch }, (_, i) => stream(i)),
      Array.from({ length: batch }, (_, i) => from + i),
      Array.from({ length: batch }, () => sample.type),
      Array.from({ length: batch }, () => JSON.stringify(sample.data)),
      Array.from({ length: batch }, () => JSON.stringify(sample.meta)),
    ];
    const streams = async (prefix: string, n: number) => {
      for (let i = 0; i < n; i++) await store.createStream({ streamId: `${prefix}-${i}`, machine, input: null, createdAt: 1 });
    };

    log(`warm-up`);
    await streams('warm', 1);
    for (let v = 0; v < 200; v++) {
      await store.append('warm-0', v, [sample]);
      await pool.query(insertOne, ['warm', v + 1, sample.type, data, meta]);
    }

    const rounds = Math.max(1, Math.round((events * 10) / batch));
    const batchRounds = Math.max(1, Math.round(events / batch) * 2);
    const perCaller = Math.max(1, Math.round((events * 2) / concurrency));
    const many = Array.from({ length: batch }, () => sample);
    await streams('single', 1);
    await streams('many', 1);
    await streams('batch', batch);
    await streams('conc', concurrency);
    const ms: Record<string, number[]> = {
      rawSingle: [],
      appendSingle: [],
      rawBatched: [],
      appendMany: [],
      appendBatch: [],
      rawConcurrent: [],
      appendConcurrent: [],
    };
    // raw and store alternate, figure by figure, run after run: the machine's noise falls on both
    for (let run = 0; run < runs; run++) {
      log(`run ${run + 1}/${runs}: one event per transaction (${events} each)`);
      ms.rawSingle!.push(
        await timed(async () => {
          for (let v = 1; v <= events; v++) await pool.query(insertOne, [`raw-single-${run}`, v, sample.type, data, meta]);
        }),
      );
      ms.appendSingle!.push(
        await timed(async () => {
          for (let v = run * events; v < (run + 1) * events; v++) await store.append('single-0', v, [sample]);
        }),
      );
      log(`run ${run + 1}/${runs}: ${batch} rows per transaction (${rounds} and ${batchRounds} transactions)`);
      ms.rawBatched!.push(
        await timed(async () => {
          for (let r = 0; r < rounds; r++)
            await pool.query(
              insertMany,
              rows(() => `raw-batched-${run}`, r * batch + 1),
            );
        }),
      );
      ms.appendMany!.push(
        await timed(async () => {
          for (let r = run * rounds; r < (run + 1) * rounds; r++) await store.append('many-0', r * batch, many);
        }),
      );
      ms.appendBatch!.push(
        await timed(async () => {
          for (let r = run * batchRounds; r < (run + 1) * batchRounds; r++) {
            await store.appendBatch(Array.from({ length: batch }, (_, i) => ({ streamId: `batch-${i}`, expectedVersion: r, events: [sample] })));
          }
        }),
      );
      log(`run ${run + 1}/${runs}: ${concurrency} callers at once (${perCaller} each)`);
      ms.rawConcurrent!.push(
        await timed(async () => {
          await Promise.all(
            Array.from({ length: concurrency }, async (_, c) => {
              for (let v = 1; v <= perCaller; v++) await pool.query(insertOne, [`raw-c${c}-${run}`, v, sample.type, data, meta]);
            }),
          );
        }),
      );
      ms.appendConcurrent!.push(
        await timed(async () => {
          await Promise.all(
            Array.from({ length: concurrency }, async (_, c) => {
              for (let v = run * perCaller; v < (run + 1) * perCaller; v++) await store.append(`conc-${c}`, v, [sample]);
            }),
          );
        }),
      );
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
    const rawSingle = median(ms.rawSingle!);
    const appendSingle = median(ms.appendSingle!);
    const rawBatched = median(ms.rawBatched!);
    const appendMany = median(ms.appendMany!);
    const appendBatch = median(ms.appendBatch!);
    const rawConcurrent = median(ms.rawConcurrent!);
    const appendConcurrent = median(ms.appendConcurrent!);
    const batched = rounds * batch;

    const version = (await pool.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
    const f = {
      rawSinglePerSec: rate(events, rawSingle),
      appendPerSec: rate(events, appendSingle),
      rawBatchedPerSec: rate(batched, rawBatched),
      appendManyPerSec: rate(batched, appendMany),
      appendBatchPerSec: rate(batchRounds * batch, appendBatch),
      rawConcurrentPerSec: rate(concurrency * perCaller, rawConcurrent),
      appendConcurrentPerSec: rate(concurrency * perCaller, appendConcurrent),
    };
    return {
      ...f,
      appendRatio: ratio(f.appendPerSec, f.rawSinglePerSec),
      appendManyRatio: ratio(f.appendManyPerSec, f.rawBatchedPerSec),
      appendBatchRatio: ratio(f.appendBatchPerSec, f.rawBatchedPerSec),
      concurrentRatio: ratio(f.appendConcurrentPerSec, f.rawConcurrentPerSec),
      events,
      batch,
      concurrency,
      runs,
      server: `PostgreSQL ${version}${server ? ' (throwaway, fsync on)' : ''}`,
    };
  } finally {
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {});
    await store.close();
    ending = true;
    await pool.end();
    if (server) await stopPostgres(server);
  }
}

/** The table of a {@link PostgresBenchResult}. */
export function formatPostgresBench(r: PostgresBenchResult): string {
  const n = (v: number) => `${Math.round(v).toLocaleString('en-US')}/s`;
  const x = (v: number) => `${v.toFixed(2)}x`;
  const rows = [
    ['raw INSERT, 1 row/txn', n(r.rawSinglePerSec)],
    ['store.append, 1 event/txn (fenced statement)', n(r.appendPerSec)],
    ['  ratio store / raw', x(r.appendRatio)],
    [`raw INSERT, ${r.batch} rows/txn`, n(r.rawBatchedPerSec)],
    [`store.append, ${r.batch} events/txn (one statement)`, n(r.appendManyPerSec)],
    ['  ratio store / raw', x(r.appendManyRatio)],
    [`store.appendBatch, ${r.batch} streams x 1 event/txn`, n(r.appendBatchPerSec)],
    ['  ratio appendBatch / raw batched', x(r.appendBatchRatio)],
    [`raw INSERT, ${r.concurrency} callers at once`, n(r.rawConcurrentPerSec)],
    [`store.append, ${r.concurrency} callers at once`, n(r.appendConcurrentPerSec)],
    ['  ratio store / raw', x(r.concurrentRatio)],
  ];
  return (
    `actorlog PostgreSQL bench: ${r.server}, node ${process.version}; median of ${r.runs} runs\n\n` + formatTable(['figure (events/s)', 'value'], rows) + '\n'
  );
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

async function main(argv: string[]): Promise<void> {
  const opts = new Command('bench:postgres')
    .description('the PostgreSQL store against raw inserts of the same rows by the same client')
    .option('--url <url>', 'use this server (default: start a throwaway one from /usr/lib/postgresql/15/bin)')
    .option('--events <n>', 'events per single-event figure (default 1000)', positive)
    .option('--runs <n>', 'measured runs per figure, median reported (default 3)', positive)
    .option('--batch <n>', 'rows per batched transaction (default 100)', positive)
    .option('--concurrency <n>', 'callers at once (default 32)', positive)
    .option('--json', 'print one JSON object')
    .parse(argv)
    .opts<{ url?: string; events?: number; runs?: number; batch?: number; concurrency?: number; json?: boolean }>();
  const options: PostgresBenchOptions = { log: (line) => process.stderr.write(`bench: ${line}\n`) };
  if (opts.url !== undefined) options.url = opts.url;
  if (opts.events !== undefined) options.events = opts.events;
  if (opts.batch !== undefined) options.batch = opts.batch;
  if (opts.runs !== undefined) options.runs = opts.runs;
  if (opts.concurrency !== undefined) options.concurrency = opts.concurrency;
  const result = await runPostgresBench(options);
  process.stdout.write(opts.json ? JSON.stringify(result) + '\n' : formatPostgresBench(result));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main(process.argv);

import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import type { AppendRequest, NewEvent } from '../src/log/types.ts';
import { migrations } from '../stores/sqlite/schema.ts';
import { openSqliteStore } from '../stores/sqlite/index.ts';

/** Options of {@link measureAppend}. */
export interface MeasureAppendOptions {
  /** `PRAGMA synchronous` of both the store and the raw connection. */
  synchronous: 'NORMAL' | 'FULL';
  /** Events timed per measurement (after a warm-up of min(2000, events / 10)). */
  events: number;
  /** A directory for the temporary log files (created if missing; the files are removed after). */
  dir: string;
}

/** Throughputs in events per second. */
export interface MeasureAppendResult {
  /** `store.append(streamId, v, [event])`: one event per transaction. */
  appendPerSec: number;
  /** Raw better-sqlite3, same pragmas and table, the same row inserted one per (autocommit) transaction. */
  rawAppendPerSec: number;
  /** `store.appendBatch` of 1000 single-event appends (to 100 streams) per transaction. */
  groupCommitPerSec: number;
}

const BATCH = 1000;
const BATCH_STREAMS = 100;

/** The event both sides write: the store serialises `data` and `meta`, raw inserts their JSON. */
const sample: NewEvent = {
  type: 'job.progress',
  data: { jobId: 'job-42', state: 'working', progress: 0.5, message: 'step 3 of 6' },
  meta: { source: 'sse', cursor: 'evt-1024', recordedAt: 1_700_000_000_000 },
};

let fileNo = 0;
function freshFile(dir: string, label: string): string {
  return path.join(dir, `bench-${process.pid}-${++fileNo}-${label}.db`);
}

function remove(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
}

/** Seconds taken by `step(i)` for i in [0, n). */
function seconds(n: number, step: (i: number) => void): number {
  const start = performance.now();
  for (let i = 0; i < n; i++) step(i);
  return (performance.now() - start) / 1000;
}

/** A single-event appender on a fresh file: `step()` appends one event in its own transaction. */
interface Appender {
  step: () => void;
  close(): void;
}

function storeAppender(file: string, synchronous: 'NORMAL' | 'FULL'): Appender {
  const store = openSqliteStore(file, { synchronous });
  store.createStream({ streamId: 'bench', machine: { name: 'bench', hash: '0' }, input: {}, createdAt: 0 });
  const one = [sample];
  let version = 0;
  return { step: () => void (version = store.append('bench', version, one).nextVersion), close: () => store.close() };
}

/** A fresh file with the store's tables, indexes and pragmas, for raw inserts to compare the store with. */
export function openRawEventsDb(file: string, synchronous: 'NORMAL' | 'FULL'): Database.Database {
  fs.writeFileSync(file, '', { mode: 0o600 });
  const db = new Database(file, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  for (const sql of migrations) db.exec(sql); // the same tables and indexes as the store
  return db;
}

function rawAppender(file: string, synchronous: 'NORMAL' | 'FULL'): Appender {
  const db = openRawEventsDb(file, synchronous);
  const insert = db.prepare('INSERT INTO events (stream_id, version, type, data, meta) VALUES (?, ?, ?, ?, ?)');
  const data = JSON.stringify(sample.data);
  const meta = JSON.stringify(sample.meta);
  let version = 0;
  return { step: () => void insert.run('bench', ++version, sample.type, data, meta), close: () => db.close() };
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * Times `store` and `raw` in 20 alternating chunks (so that disk and CPU drift, and other processes,
 * hit both alike) and returns the median chunk rate of each, in events per second.
 */
function measureSingle(store: Appender, raw: Appender, warm: number, n: number): { store: number; raw: number } {
  seconds(warm, raw.step);
  seconds(warm, store.step);
  const chunks = 20;
  const size = Math.max(1, Math.ceil(n / chunks));
  const rawRates: number[] = [];
  const storeRates: number[] = [];
  for (let c = 0; c < chunks; c++) {
    rawRates.push(size / seconds(size, raw.step));
    storeRates.push(size / seconds(size, store.step));
  }
  return { store: median(storeRates), raw: median(rawRates) };
}

function measureGroupCommit(file: string, synchronous: 'NORMAL' | 'FULL', warm: number, n: number): number {
  const store = openSqliteStore(file, { synchronous });
  try {
    const versions = Array.from({ length: BATCH_STREAMS }, () => 0);
    for (let s = 0; s < BATCH_STREAMS; s++) store.createStream({ streamId: `bench-${s}`, machine: { name: 'bench', hash: '0' }, input: {}, createdAt: 0 });
    const one = [sample];
    const batch = (): void => {
      const requests: AppendRequest[] = [];
      for (let i = 0; i < BATCH; i++) {
        const s = i % BATCH_STREAMS;
        requests.push({ streamId: `bench-${s}`, expectedVersion: versions[s]!++, events: one });
      }
      store.appendBatch(requests);
    };
    seconds(Math.max(1, Math.ceil(warm / BATCH)), batch);
    const batches = Math.max(1, Math.ceil(n / BATCH));
    return (batches * BATCH) / seconds(batches, batch);
  } finally {
    store.close();
  }
}

/**
 * Measures append throughput of the SQLite store against raw better-sqlite3, in one run, each on a
 * fresh temporary file in `dir` (removed afterwards), after a short warm-up on that file:
 * (a) `store.append` of one event per transaction, (b) raw inserts of the same row (same JSON text,
 * same table, indexes and pragmas), one per autocommit transaction, (c) group commit with
 * `appendBatch` of 1000 single-event appends per transaction. (a) and (b) run in 20 alternating
 * chunks (disk and CPU drift hit both alike) and report their median chunk rate. Target: (a) >= 0.8 x (b).
 *
 * @returns events per second of each; nothing is asserted (machines differ)
 * @example
 * ```ts
 * const r = await measureAppend({ synchronous: 'NORMAL', events: 20_000, dir: os.tmpdir() });
 * console.log(r.appendPerSec / r.rawAppendPerSec); // e.g. 0.9
 * ```
 */
export async function measureAppend(opts: MeasureAppendOptions): Promise<MeasureAppendResult> {
  const { synchronous, events, dir } = opts;
  fs.mkdirSync(dir, { recursive: true });
  const warm = Math.min(2000, Math.ceil(events / 10));
  const files = [freshFile(dir, 'append'), freshFile(dir, 'raw'), freshFile(dir, 'group')] as const;
  try {
    const store = storeAppender(files[0], synchronous);
    const raw = rawAppender(files[1], synchronous);
    let single: { store: number; raw: number };
    try {
      single = measureSingle(store, raw, warm, events);
    } finally {
      store.close();
      raw.close();
    }
    const groupCommitPerSec = measureGroupCommit(files[2], synchronous, warm, events);
    const [appendPerSec, rawAppendPerSec] = [single.store, single.raw];
    return { appendPerSec: Math.round(appendPerSec), rawAppendPerSec: Math.round(rawAppendPerSec), groupCommitPerSec: Math.round(groupCommitPerSec) };
  } finally {
    for (const file of files) remove(file);
  }
}

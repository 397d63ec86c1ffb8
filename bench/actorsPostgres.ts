import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createActorSystem } from '../src/runtime/actorSystem.ts';
import { openPostgresStore } from '../stores/postgres/index.ts';
import { startPostgres, stopPostgres, type PostgresServer } from '../test/support/postgres.ts';
import { benchCounter, perSecond } from './actor.ts';
import { countWrites, runActorLoad, type ActorLoadResult } from './actorLoad.ts';
import { watchLoopDelay, type LoopDelay } from './loopDelay.ts';
import { machineInfo, type MachineInfo } from './machineInfo.ts';
import { createRawTable, insertRaw, readEventRows, type RawResult } from './rawInserts.ts';
import { measureSqliteBeforeAfter, type SqliteBeforeAfter } from './sqliteBeforeAfter.ts';

/** The figures of one number of concurrently active actors (medians of the runs). */
export interface ActorCountFigures {
  actors: number;
  eventsPerActor: number;
  /** Events per measurement: actors x eventsPerActor. */
  events: number;
  /** Journaled actors (`commit: 'each'`): events/s from the first send until `system.settled()`. */
  journaledPerSec: number;
  /** The same rows, raw multi-row INSERTs of `batch` rows per transaction, same pool. */
  rawBatchedPerSec: number;
  /** The same rows, raw INSERT of one row per transaction (the first `singleRows` rows), same pool. */
  rawSinglePerSec: number;
  batchedRatio: number;
  singleRatio: number;
  /** Event-loop delay while the journaled load ran (ms; includes the monitor's 1 ms resolution). */
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
  /** Event-loop delay p99 while the raw batched inserts ran (ms). */
  rawDelayP99Ms: number;
  /** CPU time of this process per journaled event (µs): the runtime and the client, the server excluded. */
  cpuUsPerEvent: number;
  /** CPU time of this process per raw batched row (µs): the client alone. */
  rawCpuUsPerRow: number;
  /** Transactions the runtime's group commit made per measurement, and events per transaction. */
  transactions: number;
  eventsPerTransaction: number;
}

/** The result of {@link runActorsPostgresBench}. */
export interface ActorsPostgresResult {
  machine: MachineInfo;
  server: string;
  counts: ActorCountFigures[];
  /** Event-loop delay of this process with no load, before the runs (ms). */
  idleDelay: LoopDelay;
  /** SQLite each mode before and after the runtime change (absent with `sqlite: false`). */
  sqlite?: SqliteBeforeAfter;
  batch: number;
  singleRows: number;
  slice: number;
  runs: number;
  durationMs: number;
}

/** Options of {@link runActorsPostgresBench}. */
export interface ActorsPostgresOptions {
  /** A server to use (schema `bench_actors_<pid>`, dropped after); default: a throwaway durable PostgreSQL 15 started here. */
  url?: string;
  /** Numbers of concurrently active actors. @default [1, 100, 1000] */
  actors?: number[];
  /** Events per measurement, shared among the actors (each gets events / actors). @default 20000 */
  events?: number;
  /** Rows per raw batched transaction. @default 1000 */
  batch?: number;
  /** Rows of the raw one-row-per-transaction figure (each fsynced). @default 500 */
  singleRows?: number;
  /** Sends per macrotask of the load. @default 100 */
  slice?: number;
  /** Measured runs per figure, median reported. @default 3 */
  runs?: number;
  /** SQLite before/after: events per measurement and pairs of runs (bench/sqliteBeforeAfter.ts), or false to skip it. @default { events: 20000, runs: 3 } */
  sqlite?: { events?: number; runs?: number; beforeDir?: string } | false;
  log?: (line: string) => void;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;

/**
 * Journaled actors on PostgreSQL against raw inserts of the same rows by the same `pg` pool, in one
 * run: for 1, 100 and 1,000 concurrently active actors (`createActorSystem` with `commit: 'each'` on
 * `openPostgresStore`, ownership registered by `await system.recover()`), the events/s until
 * `system.settled()`, the same rows (read back from the log) inserted raw in batches and one per
 * transaction, the ratios, and the event-loop delay under each load; then SQLite each-mode events/s
 * before and after the runtime change (bench/sqliteBeforeAfter.ts). The server is durable (fsync and
 * synchronous commit on). Speed is measured, never asserted; a broken run (a count or a row missing) throws.
 *
 * @example
 * ```ts
 * const r = await runActorsPostgresBench({ events: 5000, runs: 1 });
 * console.log(r.counts.at(-1)!.batchedRatio, r.counts.at(-1)!.delayP99Ms);
 * ```
 */
export async function runActorsPostgresBench(options: ActorsPostgresOptions = {}): Promise<ActorsPostgresResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const settings = {
    counts: options.actors ?? [1, 100, 1000],
    events: options.events ?? 20_000,
    batch: options.batch ?? 1000,
    singleRows: options.singleRows ?? 500,
    slice: options.slice ?? 100,
    runs: Math.max(1, options.runs ?? 3),
  };
  const machine = machineInfo();
  let server: PostgresServer | undefined;
  let url = options.url;
  if (url === undefined) {
    log('starting a throwaway PostgreSQL 15 (fsync and synchronous commit on)');
    server = await startPostgres({ durable: true });
    url = server.url;
  }
  let measured: Awaited<ReturnType<typeof measureOnPostgres>>;
  try {
    measured = await measureOnPostgres(url, settings, log);
  } finally {
    if (server) await stopPostgres(server);
  }
  // after the server is gone: nothing else of this bench competes for the cores
  const sqlite =
    options.sqlite === false
      ? undefined
      : await measureSqliteBeforeAfter({
          events: options.sqlite?.events ?? 20_000,
          runs: options.sqlite?.runs ?? 3,
          beforeDir: options.sqlite?.beforeDir,
          log,
        });
  return {
    machine,
    server: `PostgreSQL ${measured.version}${server ? ' (throwaway, fsync and synchronous_commit on)' : ''}`,
    counts: measured.figures,
    idleDelay: measured.idleDelay,
    ...(sqlite ? { sqlite } : {}),
    batch: settings.batch,
    singleRows: settings.singleRows,
    slice: settings.slice,
    runs: settings.runs,
    durationMs: Math.round(performance.now() - started),
  };
}

interface Settings {
  counts: number[];
  events: number;
  batch: number;
  singleRows: number;
  slice: number;
  runs: number;
}

/** The PostgreSQL part: one actor system on a schema of its own (dropped after), every actor count, runs alternating journaled and raw. */
async function measureOnPostgres(
  url: string,
  settings: Settings,
  log: (line: string) => void,
): Promise<{ version: string; figures: ActorCountFigures[]; idleDelay: LoopDelay }> {
  const { batch, singleRows, slice, runs } = settings;
  const schema = `bench_actors_${process.pid}`;
  const S = `"${schema}"`;
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client's error (the server going away) would otherwise crash the process; after pool.end()
  // the server's shutdown may still reach a client that is closing, which is expected.
  let ending = false;
  pool.on('error', (err) => {
    if (!ending) log(`an idle PostgreSQL connection failed: ${err.message}`);
  });
  try {
    const store = await openPostgresStore(pool, { schema });
    const counted = countWrites(store);
    const system = createActorSystem({ store: counted.store, machines: { counter: benchCounter }, commit: 'each' });
    try {
      await system.recover();
      await createRawTable(pool, S);
      const idle = watchLoopDelay();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const idleDelay = idle.stop();
      log('warm-up: 10 actors x 50 events, raw inserts of the same rows');
      await runActorLoad(system, { actors: 10, eventsPerActor: 50, prefix: 'warm', slice });
      const warmRows = await readEventRows(pool, S, 'warm');
      await insertRaw(pool, S, warmRows, { batch });
      await insertRaw(pool, S, warmRows, { batch: 1, limit: 100 });

      const figures: ActorCountFigures[] = [];
      for (const actors of settings.counts) {
        const eventsPerActor = Math.max(1, Math.round(settings.events / actors));
        const journaled: ActorLoadResult[] = [];
        const batched: RawResult[] = [];
        const single: RawResult[] = [];
        for (let r = 0; r < runs; r++) {
          const prefix = `a${actors}-r${r}`;
          log(`${actors} actors x ${eventsPerActor} events, run ${r + 1}/${runs}: journaled, then the same rows raw (${batch}/txn, 1/txn)`);
          journaled.push(await runActorLoad(system, { actors, eventsPerActor, prefix, slice, count: counted.count }));
          const rows = await readEventRows(pool, S, prefix);
          if (rows.streamId.length !== actors * eventsPerActor)
            throw new Error(`journaled run ${prefix} is broken: ${rows.streamId.length} rows in the log, ${actors * eventsPerActor} sent`);
          batched.push(await insertRaw(pool, S, rows, { batch }));
          single.push(await insertRaw(pool, S, rows, { batch: 1, limit: singleRows }));
        }
        figures.push(summarise(actors, eventsPerActor, journaled, batched, single));
      }
      const version = (await pool.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
      return { version, figures, idleDelay };
    } finally {
      await system.close();
      await pool.query(`DROP SCHEMA ${S} CASCADE`).catch(() => {});
      await store.close();
    }
  } finally {
    ending = true;
    await pool.end();
  }
}

/** Medians of one actor count's runs, and their ratios. */
function summarise(actors: number, eventsPerActor: number, journaled: ActorLoadResult[], batched: RawResult[], single: RawResult[]): ActorCountFigures {
  const journaledPerSec = Math.round(median(journaled.map((j) => perSecond(j.events, j.elapsedMs))));
  const rawBatchedPerSec = Math.round(median(batched.map((b) => perSecond(b.rows, b.elapsedMs))));
  const rawSinglePerSec = Math.round(median(single.map((b) => perSecond(b.rows, b.elapsedMs))));
  const transactions = median(journaled.map((j) => j.transactions));
  return {
    actors,
    eventsPerActor,
    events: actors * eventsPerActor,
    journaledPerSec,
    rawBatchedPerSec,
    rawSinglePerSec,
    batchedRatio: ratio(journaledPerSec, rawBatchedPerSec),
    singleRatio: ratio(journaledPerSec, rawSinglePerSec),
    delayP50Ms: median(journaled.map((j) => j.delay.p50Ms)),
    delayP99Ms: median(journaled.map((j) => j.delay.p99Ms)),
    delayMaxMs: median(journaled.map((j) => j.delay.maxMs)),
    rawDelayP99Ms: median(batched.map((b) => b.delay.p99Ms)),
    cpuUsPerEvent: Math.round(median(journaled.map((j) => (j.cpuMs * 1000) / j.events)) * 10) / 10,
    rawCpuUsPerRow: Math.round(median(batched.map((b) => (b.cpuMs * 1000) / b.rows)) * 10) / 10,
    transactions,
    eventsPerTransaction: Math.round((actors * eventsPerActor) / Math.max(1, transactions)),
  };
}

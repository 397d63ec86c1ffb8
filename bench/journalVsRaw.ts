import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import type { EmbeddedLogStore } from '../src/log/types.ts';
import { createActorSystem, type ActorSystem } from '../src/runtime/actorSystem.ts';
import { openSqliteStore } from '../stores/sqlite/index.ts';
import { benchCounter } from './actor.ts';
import { openRawEventsDb } from './append.ts';

/** The journal against raw inserts of the rows it writes, in events per second (median of alternating chunks). */
export interface JournalVsRaw {
  /** One journaled actor, `commit: 'each'`: one input, one transaction. */
  eachPerSec: number;
  /** Raw better-sqlite3 inserts of the same rows, one per (autocommit) transaction. */
  rawSinglePerSec: number;
  /** eachPerSec / rawSinglePerSec (issue target: >= 0.9). */
  eachRatio: number;
  /** `actors` journaled actors, `commit: 'tick'`, each sent one input per round: a round is one transaction of `actors` rows. */
  groupPerSec: number;
  /** Raw inserts of the same rows, `actors` rows per transaction. */
  rawBatchPerSec: number;
  /** groupPerSec / rawBatchPerSec (issue target: >= 0.8 with 100 actors). */
  groupRatio: number;
  /** The active actors of the group figure. */
  actors: number;
  /** Rows per transaction the group commit made (`store.write` calls counted): `actors` when every round commits together. */
  rowsPerTransaction: number;
}

/** Options of {@link measureJournalVsRaw}. */
export interface JournalVsRawOptions {
  /** Events per side of each figure (split into `chunks`). */
  events: number;
  synchronous: 'NORMAL' | 'FULL';
  /** Directory for the two fresh files (the journal's log and the raw table's). */
  dir: string;
  /** Active actors of the group-commit figure. @default 100 */
  actors?: number;
  /** Alternating chunks per side: drift and other processes hit both alike. @default 10 */
  chunks?: number;
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** A raw table with the store's schema and pragmas, and inserts of rows as the journal wrote them. */
function rawTable(file: string, synchronous: 'NORMAL' | 'FULL') {
  const db = openRawEventsDb(file, synchronous);
  const insert = db.prepare('INSERT INTO events (stream_id, version, type, data, meta) VALUES (?, ?, ?, ?, ?)');
  const many = db.transaction((rows: ReadonlyArray<[string, number, string, string, string]>) => {
    for (const row of rows) insert.run(...row);
  });
  return { insert, many, close: () => db.close() };
}

/** The JSON text of `data` and `meta` of a row the journal wrote (the raw side inserts the same bytes). */
function loggedRow(file: string, streamId: string): { type: string; data: string; meta: string } {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT type, data, meta FROM events WHERE stream_id = ? ORDER BY version DESC LIMIT 1').get(streamId) as {
      type: string;
      data: string;
      meta: string;
    };
  } finally {
    db.close();
  }
}

async function timed(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

/**
 * Measures the journal against raw inserts of the very rows it writes, on fresh files with the same
 * schema and `synchronous` level, in alternating chunks (median chunk rate per side):
 * - `each`: one journaled {@link benchCounter} actor (`commit: 'each'`) sent `inc` a chunk at a time,
 *   until every input is committed and acted on; raw: one INSERT per transaction;
 * - `group`: `actors` journaled actors (`commit: 'tick'`) sent one `inc` each per round, a chunk of
 *   rounds at a time, until all are committed and acted on (write-ahead: an input reaches its actor
 *   after its commit); raw: `actors` rows per transaction.
 *
 * @throws Error when the log does not hold every event sent (a broken run, not a slow one)
 * @example
 * ```ts
 * const r = await measureJournalVsRaw({ events: 20_000, synchronous: 'NORMAL', dir });
 * console.log(r.eachRatio, r.groupRatio);
 * ```
 */
export async function measureJournalVsRaw(options: JournalVsRawOptions): Promise<JournalVsRaw> {
  const { synchronous, dir } = options;
  const actors = options.actors ?? 100;
  const chunks = options.chunks ?? 10;
  const size = Math.max(1, Math.ceil(options.events / chunks));
  const logFile = `${dir}/journal-vs-raw-${synchronous}.db`;
  const store = openSqliteStore(logFile, { synchronous }) as EmbeddedLogStore & { close(): void };
  const raw = rawTable(`${dir}/raw-${synchronous}.db`, synchronous);
  try {
    // each: one actor, one input per commit
    const each = createActorSystem({ store, machines: { counter: benchCounter }, commit: 'each' });
    const one = each.spawn('counter', { id: 'each' });
    const sendEach = async (n: number) => {
      for (let i = 0; i < n; i++) one.send({ type: 'inc' });
      await each.settled();
    };
    await sendEach(Math.min(size, 1_000)); // warm-up, and a row to copy
    const row = loggedRow(logFile, 'each');
    let rawVersion = 0;
    const rawSingle = (n: number) => {
      for (let i = 0; i < n; i++) raw.insert.run('raw-single', ++rawVersion, row.type, row.data, row.meta);
    };
    rawSingle(Math.min(size, 1_000));
    const eachRates: number[] = [];
    const rawSingleRates: number[] = [];
    for (let c = 0; c < chunks; c++) {
      rawSingleRates.push(size / (await timed(() => rawSingle(size))));
      eachRates.push(size / (await timed(() => sendEach(size))));
    }
    await each.close();
    const sent = Math.min(size, 1_000) + chunks * size;
    if (one.getSnapshot().context.count !== sent || store.getStream('each')?.version !== sent)
      throw new Error(`journaled run is broken: ${store.getStream('each')?.version} of ${sent} logged`);

    // group: `actors` actors, one input each per round, group commit per tick
    const group: ActorSystem = createActorSystem({ store, machines: { counter: benchCounter }, commit: 'tick' });
    const refs = Array.from({ length: actors }, (_, a) => group.spawn('counter', { id: `group-${a}` }));
    await group.settled();
    const rounds = Math.max(1, Math.round(size / actors));
    const sendRounds = async (r: number) => {
      for (let k = 0; k < r; k++) for (const ref of refs) ref.send({ type: 'inc' });
      await group.settled();
    };
    const rawVersions = Array.from({ length: actors }, () => 0);
    const rawRounds = (r: number) => {
      for (let k = 0; k < r; k++)
        raw.many(rawVersions.map((v, a) => [`raw-group-${a}`, (rawVersions[a] = v + 1), groupRow.type, groupRow.data, groupRow.meta]));
    };
    await sendRounds(2);
    const groupRow = loggedRow(logFile, 'group-0'); // a row the group wrote, to copy
    rawRounds(2);
    // each store.write is one transaction: counted while the measured rounds run
    const write = store.write.bind(store);
    let transactions = 0;
    store.write = (batch) => {
      transactions++;
      return write(batch);
    };
    const groupRates: number[] = [];
    const rawBatchRates: number[] = [];
    for (let c = 0; c < chunks; c++) {
      rawBatchRates.push((rounds * actors) / (await timed(() => rawRounds(rounds))));
      groupRates.push((rounds * actors) / (await timed(() => sendRounds(rounds))));
    }
    store.write = write;
    const committedRows = chunks * rounds * actors;
    await group.close();
    for (const [a, ref] of refs.entries()) {
      const expected = 2 + chunks * rounds;
      if (ref.getSnapshot().context.count !== expected || store.getStream(`group-${a}`)?.version !== expected) {
        throw new Error(`group run is broken: group-${a} logged ${store.getStream(`group-${a}`)?.version} of ${expected}`);
      }
    }
    const eachPerSec = median(eachRates);
    const rawSinglePerSec = median(rawSingleRates);
    const groupPerSec = median(groupRates);
    const rawBatchPerSec = median(rawBatchRates);
    return {
      eachPerSec: Math.round(eachPerSec),
      rawSinglePerSec: Math.round(rawSinglePerSec),
      eachRatio: Math.round((eachPerSec / rawSinglePerSec) * 1000) / 1000,
      groupPerSec: Math.round(groupPerSec),
      rawBatchPerSec: Math.round(rawBatchPerSec),
      groupRatio: Math.round((groupPerSec / rawBatchPerSec) * 1000) / 1000,
      actors,
      rowsPerTransaction: Math.round((committedRows / Math.max(1, transactions)) * 10) / 10,
    };
  } finally {
    store.close();
    raw.close();
  }
}

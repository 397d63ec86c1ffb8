import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { openSqliteStore } from '../stores/sqlite/index.ts';
import { formatTable } from '../cli/output.ts';
import { measureAppend } from './append.ts';
import { benchCounter, measureJournaled, measureUnjournaled } from './actor.ts';
import { measureReplay } from './replay.ts';
import { measureWs } from './ws.ts';
import { measureSse } from './sse.ts';
import { actorsPostgresMain } from './actorsPostgresCli.ts';

type Sync = 'NORMAL' | 'FULL';
/** The figures of one `synchronous` level, in events per second, and their ratios. */
export interface LevelFigures {
  appendPerSec: number;
  rawAppendPerSec: number;
  appendRatio: number;
  groupCommitPerSec: number;
  actorPerSec: number;
  unjournaledPerSec: number;
  actorRatio: number;
  actorTickPerSec: number;
  replayPerSec: number;
  floorPerSec: number;
  replayFloorRatio: number;
  folderPerSec: number;
  transitionFoldPerSec: number;
  replayRatio: number;
}
/** The result of {@link runBench}: NORMAL figures unsuffixed, FULL figures suffixed `Full`. */
export type BenchResult = LevelFigures & { [K in keyof LevelFigures as `${K}Full`]: number } & {
  events: number;
  eventsFull: number;
  runs: number;
  node: string;
  xstate: string;
  betterSqlite3: string;
  cpus: number;
  durationMs: number;
};
/** Options of {@link runBench}. */
export interface BenchOptions {
  /** Events per measurement with `synchronous = NORMAL`. */
  events: number;
  /** Events per measurement with `synchronous = FULL` (every commit fsynced: use fewer). */
  eventsFull: number;
  /** Measured runs per figure; the median is reported. @default 3 */
  runs?: number;
  /** Progress lines (to stderr in the CLI). */
  log?: (line: string) => void;
}

/** Default event counts: the whole bench in well under 60 s on 2 cores. */
export const DEFAULT_EVENTS = 20_000;
/** `--quick`: events per measurement (NORMAL; FULL an eighth), one run per figure. */
export const QUICK_EVENTS = 4_000;
/** FULL is ~8x slower per append. */
export const DEFAULT_EVENTS_FULL = 2_500;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;

async function measureLevel(synchronous: Sync, events: number, runs: number, dir: string, log: (l: string) => void): Promise<LevelFigures> {
  const append: Array<Awaited<ReturnType<typeof measureAppend>>> = [];
  for (let r = 1; r <= runs; r++) {
    log(`${synchronous}: append run ${r}/${runs} (${events} events)`);
    append.push(await measureAppend({ synchronous, events, dir: join(dir, `append-${synchronous}-${r}`) }));
  }
  const store = openSqliteStore(join(dir, `actor-${synchronous}.db`), { synchronous });
  try {
    const warm = Math.min(events, 2_000);
    log(`${synchronous}: actor warm-up (${warm} events)`);
    await measureJournaled(store, { commit: 'each', events: warm, streamId: 'warm-each' });
    await measureJournaled(store, { commit: 'tick', events: warm, streamId: 'warm-tick' });
    measureUnjournaled(warm);
    const actor = { each: [] as number[], tick: [] as number[], plain: [] as number[] };
    for (let r = 1; r <= runs; r++) {
      log(`${synchronous}: actor run ${r}/${runs}`);
      actor.each.push(await measureJournaled(store, { commit: 'each', events, streamId: `each-${r}` }));
      actor.tick.push(await measureJournaled(store, { commit: 'tick', events, streamId: `tick-${r}` }));
      actor.plain.push(measureUnjournaled(events));
    }
    log(`${synchronous}: replay warm-up and ${runs} runs`);
    await measureReplay(store, benchCounter, 'warm-each');
    const replays = [];
    for (let i = 0; i < runs; i++) replays.push(await measureReplay(store, benchCounter, `each-${i + 1}`));
    const pick = <T>(list: T[], key: keyof T) => Math.round(median(list.map((x) => x[key] as number)));
    const f = {
      appendPerSec: pick(append, 'appendPerSec'),
      rawAppendPerSec: pick(append, 'rawAppendPerSec'),
      groupCommitPerSec: pick(append, 'groupCommitPerSec'),
      actorPerSec: Math.round(median(actor.each)),
      unjournaledPerSec: Math.round(median(actor.plain)),
      actorTickPerSec: Math.round(median(actor.tick)),
      replayPerSec: pick(replays, 'replayPerSec'),
      floorPerSec: pick(replays, 'floorPerSec'),
      folderPerSec: pick(replays, 'folderPerSec'),
      transitionFoldPerSec: pick(replays, 'transitionFoldPerSec'),
    };
    return {
      ...f,
      appendRatio: ratio(f.appendPerSec, f.rawAppendPerSec),
      actorRatio: ratio(f.actorPerSec, f.unjournaledPerSec),
      replayRatio: ratio(f.replayPerSec, f.transitionFoldPerSec),
      replayFloorRatio: ratio(f.replayPerSec, f.floorPerSec),
    };
  } finally {
    store.close();
  }
}

/**
 * Runs the whole benchmark once, on temporary files (removed afterwards): for `synchronous` NORMAL
 * and then FULL, (a) appends (store vs raw better-sqlite3, and group commit; bench/append.ts),
 * (b) a journaled actor (`commit: 'each'` and `'tick'`) vs plain XState, (c) replay of the logged
 * events vs a bare `transition()` fold. Each figure is the median of `runs` runs after a warm-up.
 * Nothing is asserted about speed.
 *
 * @returns events per second per figure, ratios, event counts and versions (see {@link BenchResult})
 * @example
 * ```ts
 * const r = await runBench({ events: 20_000, eventsFull: 2_500 });
 * console.log(r.actorRatio, r.replayRatioFull);
 * ```
 */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const runs = Math.max(1, options.runs ?? 3);
  const log = options.log ?? (() => {});
  const require = createRequire(import.meta.url);
  const dir = mkdtempSync(join(tmpdir(), 'actorlog-bench-'));
  const started = performance.now();
  try {
    const normal = await measureLevel('NORMAL', options.events, runs, dir, log);
    const full = await measureLevel('FULL', options.eventsFull, runs, dir, log);
    const suffixed = Object.fromEntries(Object.entries(full).map(([k, v]) => [`${k}Full`, v]));
    return {
      ...normal,
      ...(suffixed as { [K in keyof LevelFigures as `${K}Full`]: number }),
      events: options.events,
      eventsFull: options.eventsFull,
      runs,
      node: process.version,
      xstate: require('xstate/package.json').version,
      betterSqlite3: require('better-sqlite3/package.json').version,
      cpus: cpus().length,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ROWS: Array<[string, keyof LevelFigures, 'rate' | 'ratio']> = [
  ['append: store.append, 1 event/txn', 'appendPerSec', 'rate'],
  ['append: raw better-sqlite3 insert', 'rawAppendPerSec', 'rate'],
  ['  ratio store / raw', 'appendRatio', 'ratio'],
  ['append: appendBatch, 1000/txn', 'groupCommitPerSec', 'rate'],
  ['actor: journaled, commit each', 'actorPerSec', 'rate'],
  ['actor: plain XState, no journal', 'unjournaledPerSec', 'rate'],
  ['  ratio journaled / plain', 'actorRatio', 'ratio'],
  ['actor: journaled, commit tick', 'actorTickPerSec', 'rate'],
  ['replay: replay() incl. reading', 'replayPerSec', 'rate'],
  ['replay: floor, read rows + JSON.parse', 'floorPerSec', 'rate'],
  ['  ratio replay() / floor', 'replayFloorRatio', 'ratio'],
  ['replay: Folder on read records', 'folderPerSec', 'rate'],
  ['replay: bare transition() fold', 'transitionFoldPerSec', 'rate'],
  ['  ratio replay() / transition()', 'replayRatio', 'ratio'],
];

/** The human-readable table of a {@link BenchResult}: events/s per figure, ratios, per level. */
export function formatBench(r: BenchResult): string {
  const show = (v: number, kind: 'rate' | 'ratio') => (kind === 'ratio' ? `${v.toFixed(2)}x` : `${Math.round(v).toLocaleString('en-US')}/s`);
  const rows = ROWS.map(([label, key, kind]) => [label, show(r[key], kind), show(r[`${key}Full`], kind)]);
  const head = `actorlog bench: node ${r.node}, xstate ${r.xstate}, better-sqlite3 ${r.betterSqlite3}, ${r.cpus} cpus; median of ${r.runs} runs; ${(r.durationMs / 1000).toFixed(1)} s\n\n`;
  return head + formatTable(['figure (events/s)', `NORMAL, ${r.events} events`, `FULL, ${r.eventsFull} events`], rows);
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

async function main(argv: string[]): Promise<void> {
  // --postgres: the PostgreSQL actors bench instead, with its own options (bench/actorsPostgresCli.ts)
  if (argv.includes('--postgres')) return actorsPostgresMain(argv.filter((arg) => arg !== '--postgres'));
  const opts = new Command('bench')
    .description('actorlog benchmark: append, journaled actor and replay throughput, synchronous NORMAL and FULL')
    .option('--events <n>', `events per measurement, synchronous NORMAL (default ${DEFAULT_EVENTS})`, positive)
    .option('--events-full <n>', `events per measurement, synchronous FULL (default events / 8, ${DEFAULT_EVENTS_FULL})`, positive)
    .option('--runs <n>', 'measured runs per figure (median reported)', positive, 3)
    .option('--json', 'print one JSON object on stdout, progress on stderr')
    .option('--core-only', 'skip the transport figures (WebSocket, SSE)')
    .option('--quick', `a short run (${QUICK_EVENTS} events, one run per figure): a check that every figure is measured, in well under a minute`)
    .option('--postgres', 'run the PostgreSQL actors bench instead (journaled actors vs raw inserts, 1/100/1000 actors; `--postgres --help` lists its options)')
    .parse(argv)
    .opts<{ events?: number; eventsFull?: number; runs: number; json?: boolean; coreOnly?: boolean; quick?: boolean }>();
  if (opts.quick) {
    opts.events ??= QUICK_EVENTS;
    opts.runs = 1;
  }
  const events = opts.events ?? DEFAULT_EVENTS;
  const eventsFull = opts.eventsFull ?? (opts.events ? Math.max(100, Math.round(events / 8)) : DEFAULT_EVENTS_FULL);
  const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const result = await runBench({ events, eventsFull, runs: opts.runs, log });
  const transports = opts.coreOnly ? {} : await measureTransports(log, opts.quick ? QUICK_EVENTS : undefined);
  process.stdout.write(opts.json ? JSON.stringify({ ...result, ...transports }) + '\n' : formatBench(result) + formatTransports(transports));
}

/** The transport figures, each against its bare-library baseline in the same run: SSE events and WebSocket frames. */
async function measureTransports(log: (line: string) => void, events?: number) {
  log('sse: events through parser, source, journaled actor and log vs a bare eventsource-parser loop');
  const sse = await measureSse({ log, events });
  log('ws: frames through source, journaled actor and log vs a bare ws client');
  const ws = await measureWs({ log, frames: events });
  return { sse, ws };
}

function formatTransports(t: Awaited<ReturnType<typeof measureTransports>> | Record<string, never>): string {
  if (!('ws' in t)) return '';
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  const rows = [
    [`sse: journaled session actor, commit each (${t.sse.events} events)`, `${n(t.sse.journaledPerSec)}/s`],
    [`sse: journaled, commit tick`, `${n(t.sse.journaledTickPerSec)}/s`],
    [`sse: source alone`, `${n(t.sse.sourcePerSec)}/s`],
    [`sse: bare eventsource-parser over undici (baseline)`, `${n(t.sse.barePerSec)}/s`],
    [`  ratio journaled / bare, source / bare`, `${t.sse.ratio.toFixed(3)}x, ${t.sse.sourceRatio.toFixed(2)}x`],
    [`ws: journaled connection actor, commit each (${t.ws.frames} frames)`, `${n(t.ws.wsFramesPerSec)}/s`],
    [`ws: journaled, commit tick`, `${n(t.ws.wsTickFramesPerSec)}/s`],
    [`ws: bare ws client (baseline)`, `${n(t.ws.bareFramesPerSec)}/s`],
    [`  ratio journaled / bare`, `${t.ws.ratio.toFixed(3)}x`],
    [`ws: heap per connection (${t.ws.connections} conns)`, `${n(t.ws.heapPerConnection)} B (bare ${n(t.ws.bareHeapPerConnection)} B)`],
  ];
  return `\n\n` + formatTable(['transport figure', 'value'], rows);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main(process.argv);

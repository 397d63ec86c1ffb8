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
import { measureJournalVsRaw } from './journalVsRaw.ts';
import { formatRecover, measureRecover, type RecoverFigures } from './recover.ts';
import { machineInfo } from './machineInfo.ts';

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
  /** One journaled actor, commit each, against raw single-row inserts of its rows (alternating chunks; bench/journalVsRaw.ts). */
  journaledEachPerSec: number;
  rawSinglePerSec: number;
  journaledEachRatio: number;
  /** 100 journaled actors, group commit (`tick`), against raw inserts of their rows, 100 per transaction. */
  group100PerSec: number;
  rawBatch100PerSec: number;
  group100Ratio: number;
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
    log(`${synchronous}: journal vs raw inserts (1 actor each, 100 actors group commit)`);
    const vsRaw = await measureJournalVsRaw({ events, synchronous, dir });
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
      journaledEachPerSec: vsRaw.eachPerSec,
      rawSinglePerSec: vsRaw.rawSinglePerSec,
      journaledEachRatio: vsRaw.eachRatio,
      group100PerSec: vsRaw.groupPerSec,
      rawBatch100PerSec: vsRaw.rawBatchPerSec,
      group100Ratio: vsRaw.groupRatio,
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
  ['journal: 1 actor, commit each', 'journaledEachPerSec', 'rate'],
  ['journal: raw insert of its rows, 1/txn', 'rawSinglePerSec', 'rate'],
  ['  ratio journaled / raw', 'journaledEachRatio', 'ratio'],
  ['journal: 100 actors, group commit', 'group100PerSec', 'rate'],
  ['journal: raw insert of their rows, 100/txn', 'rawBatch100PerSec', 'rate'],
  ['  ratio group commit / raw batched', 'group100Ratio', 'ratio'],
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
    .option(
      '--quick',
      `a short run (${QUICK_EVENTS} events, one run per figure, recovery of ${QUICK_RECOVER.join(', ')} streams): a check that every figure is measured, in under a minute`,
    )
    .option('--recover-sizes <list>', `active streams recovered after kill -9, comma-separated (default ${DEFAULT_RECOVER.join(',')})`, sizeList)
    .option('--postgres', 'run the PostgreSQL actors bench instead (journaled actors vs raw inserts, 1/100/1000 actors; `--postgres --help` lists its options)')
    .parse(argv)
    .opts<{ events?: number; eventsFull?: number; runs: number; json?: boolean; coreOnly?: boolean; quick?: boolean; recoverSizes?: number[] }>();
  if (opts.quick) {
    opts.events ??= QUICK_EVENTS;
    opts.runs = 1;
  }
  const events = opts.events ?? DEFAULT_EVENTS;
  const eventsFull = opts.eventsFull ?? (opts.events ? Math.max(100, Math.round(events / 8)) : DEFAULT_EVENTS_FULL);
  const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const machine = machineInfo();
  const result = await runBench({ events, eventsFull, runs: opts.runs, log });
  const transports = opts.coreOnly ? {} : await measureTransports(log, opts.quick ? QUICK_EVENTS : undefined);
  const recover: RecoverFigures[] = [];
  if (!opts.coreOnly) for (const n of opts.recoverSizes ?? (opts.quick ? QUICK_RECOVER : DEFAULT_RECOVER)) recover.push(await measureRecover(n, { log }));
  const targets = targetRows(result, transports, recover);
  if (opts.json) {
    process.stdout.write(JSON.stringify({ ...result, ...transports, recover, machine, targets }) + '\n');
    return;
  }
  const recoverTable = recover.length > 0 ? `\n\n${formatRecover(recover)}` : '';
  const machineLine = `\n\nmachine: ${machine.cpus} x ${machine.cpuModel}, load average ${machine.loadAverage} at the start\n\n`;
  process.stdout.write(formatBench(result) + formatTransports(transports) + recoverTable + machineLine + formatTargets(targets) + '\n');
}

/** Active streams recovered by the full bench and by `--quick`. */
const DEFAULT_RECOVER = [10_000, 100_000];
const QUICK_RECOVER = [5_000];

function sizeList(value: string): number[] {
  return value.split(',').map((part) => positive(part.trim()));
}

/** One performance target as this run measured it. */
export interface TargetRow {
  target: string;
  /** What this run measured (a ratio, or ms for recovery), absent when the figure was skipped. */
  measured?: number;
  /** The bound: the figure must be at least it (`atLeast`) or at most it. */
  bound: number;
  atLeast: boolean;
  met?: boolean;
  /**
   * For a ratio against raw inserts: the best a journaled actor could reach if the journal cost
   * nothing but XState's own transition (the plain XState figure of the same run): with `raw` and
   * `plain` in events/s, an event takes at least 1/raw + 1/plain seconds, so the ratio is at most
   * plain / (plain + raw). A bound above it cannot be met by any journal on this machine.
   */
  ceiling?: number;
}

/**
 * The performance targets next to what this run measured (NORMAL figures): printed and kept in the
 * JSON so runs can be compared. Nothing asserts them.
 */
export function targetRows(
  r: BenchResult,
  t: Awaited<ReturnType<typeof measureTransports>> | Record<string, never>,
  recover: readonly RecoverFigures[],
): TargetRow[] {
  const row = (target: string, measured: number | undefined, bound: number, atLeast = true): TargetRow => ({
    target,
    measured,
    bound,
    atLeast,
    met: measured === undefined ? undefined : atLeast ? measured >= bound : measured <= bound,
  });
  const ceiling = (raw: number) => Math.round((r.unjournaledPerSec / (r.unjournaledPerSec + raw)) * 1000) / 1000;
  const ws = 'ws' in t ? t.ws : undefined;
  const sse = 'sse' in t ? t.sse : undefined;
  return [
    { ...row('1. journaled actor, commit each / raw single-row inserts', r.journaledEachRatio, 0.9), ceiling: ceiling(r.rawSinglePerSec) },
    { ...row('2. 100 actors, group commit / raw batched inserts', r.group100Ratio, 0.8), ceiling: ceiling(r.rawBatch100PerSec) },
    row('3. replay() / read rows + JSON.parse', r.replayFloorRatio, 0.8),
    ...recover.flatMap((x) => [
      row(`4. recover() of ${x.streams.toLocaleString('en-US')} streams after kill -9 / bare XState restore`, x.ratio, 2, false),
      row(`4. recover() of ${x.streams.toLocaleString('en-US')} streams after close() / bare XState restore`, x.restartRatio, 2, false),
    ]),
    row('5. WebSocket source alone / bare ws', ws?.sourceRatio, 0.8),
    row('5. journaled WebSocket actor, group commit / bare ws', ws?.tickRatio, 0.5),
    row('5. heap per idle connection / bare (at most)', ws ? ws.heapPerConnection / ws.bareHeapPerConnection : undefined, 2, false),
    row('5. SSE source alone / bare eventsource-parser', sse?.sourceRatio, 0.8),
  ];
}

/** The targets table: target, bound, measured, met. */
export function formatTargets(rows: readonly TargetRow[]): string {
  return formatTable(
    [
      'performance target (2,000 WebSocket actors: npm run bench:ws-load; passivation: npm run bench:passivation)',
      'bound',
      'measured',
      'met',
      'ceiling (XState alone)',
    ],
    rows.map((x) => [
      x.target,
      `${x.atLeast ? '>=' : '<='} ${x.bound}x`,
      x.measured === undefined ? 'skipped' : `${x.measured.toFixed(2)}x`,
      x.met === undefined ? '' : x.met ? 'yes' : 'no',
      x.ceiling === undefined ? '' : `${x.ceiling.toFixed(2)}x`,
    ]),
  );
}

/** The transport figures, each against its bare-library baseline in the same run: SSE events and WebSocket frames. */
async function measureTransports(log: (line: string) => void, events?: number) {
  log('sse: events through parser, source, journaled actor and log vs a bare eventsource-parser loop');
  const sourceRuns = events === undefined ? undefined : 3; // --quick: 3 alternated runs of each source and its baseline, not 5
  const sse = await measureSse({ log, events, sourceRuns });
  log('ws: frames through source, journaled actor and log vs a bare ws client');
  const ws = await measureWs({ log, frames: events, sourceRuns });
  return { sse, ws };
}

function formatTransports(t: Awaited<ReturnType<typeof measureTransports>> | Record<string, never>): string {
  if (!('ws' in t)) return '';
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  const rows = [
    [`sse: journaled session actor, commit each (${t.sse.events} events)`, `${n(t.sse.journaledPerSec)}/s`],
    [`sse: journaled, commit tick`, `${n(t.sse.journaledTickPerSec)}/s`],
    [`sse: source alone (${t.sse.sourceEvents} events, median of ${t.sse.sourceRuns})`, `${n(t.sse.sourcePerSec)}/s`],
    [`sse: bare eventsource-parser over undici (baseline)`, `${n(t.sse.barePerSec)}/s`],
    [`  ratio journaled / bare, source / bare`, `${t.sse.ratio.toFixed(3)}x, ${t.sse.sourceRatio.toFixed(2)}x`],
    [`ws: journaled connection actor, commit each (${t.ws.frames} frames)`, `${n(t.ws.wsFramesPerSec)}/s`],
    [`ws: journaled, commit tick`, `${n(t.ws.wsTickFramesPerSec)}/s`],
    [`ws: bare ws client (baseline)`, `${n(t.ws.bareFramesPerSec)}/s`],
    [`  ratio journaled each / bare, tick / bare`, `${t.ws.ratio.toFixed(3)}x, ${t.ws.tickRatio.toFixed(3)}x`],
    [`ws: source alone (${t.ws.sourceFrames} frames, median of ${t.ws.sourceRuns})`, `${n(t.ws.sourceFramesPerSec)}/s`],
    [`ws: bare ws client, alternated with it`, `${n(t.ws.sourceBareFramesPerSec)}/s`],
    [`  ratio source / bare`, `${t.ws.sourceRatio.toFixed(2)}x`],
    [
      `ws: heap per idle connection (${t.ws.connections} conns, shipped code)`,
      `${n(t.ws.heapPerConnection)} B (source alone ${n(t.ws.sourceHeapPerConnection)} B, bare ${n(t.ws.bareHeapPerConnection)} B; ${t.ws.heapRatio.toFixed(2)}x)`,
    ],
  ];
  return `\n\n` + formatTable(['transport figure', 'value'], rows);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main(process.argv);

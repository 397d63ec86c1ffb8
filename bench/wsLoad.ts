import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { Command, InvalidArgumentError } from 'commander';
import WebSocket, { type ClientOptions, type RawData } from 'ws';
import { yoiConnectionInput, yoiConnectionMachine } from '../machines/yoi/index.ts';
import { createActorSystem, type CommitMode, type WriteBatch } from '../src/index.ts';
import { openSqliteStore } from '../stores/sqlite/index.ts';
import { machineInfo, type MachineInfo } from './machineInfo.ts';
import type { ServerReply } from './wsLoadServer.ts';

/** Options of {@link runWsLoad}. */
export interface WsLoadOptions {
  /** Journaled WebSocket connection actors (yoi connection machine, SQLite log). @default 2000 */
  connections: number;
  /** The system's commit mode: `turn` commits the frames of one event-loop turn together, `tick` each socket read alone. @default 'turn' */
  commit?: CommitMode;
  /** Offered rates, frames per second in total, stepped up in this order. @default [2000, 4000, 8000, 16000] */
  rates: number[];
  /** How long each rate is offered, s. @default 10 */
  seconds: number;
  /** After a step, how long its frames may take to be journaled, s. @default 10 */
  drainSeconds: number;
  log?: (line: string) => void;
}

/** One offered rate: latencies in ms, counts in frames. */
export interface WsLoadStep {
  rate: number;
  /** Frames the server sent. */
  sent: number;
  /** Frames journaled (rows `connection.message` added to the log during the step and its drain). */
  journaled: number;
  /** Journaled frames per second of the offered window (`journaled` / `seconds` while the step lasted). */
  journaledPerSec: number;
  /**
   * Arrival to commit, ms: from the frame reaching the client's socket (on loopback, the moment the
   * server sent it: the server writes its send time, epoch ms, into the frame) to the store write
   * holding its row returning. Includes any wait in socket buffers while the client's loop was busy.
   * A frame not journaled by the end of the drain counts as slower than any (Infinity).
   */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Read to commit, ms: from the client's `message` event (the frame read off the socket by `ws`) to the commit. */
  readP50Ms: number;
  readP99Ms: number;
  /** Store writes (transactions) during the step and its drain: with `commit: 'tick'`, one per run of JavaScript that appended; with `turn`, one per turn of the event loop. */
  writes: number;
  /** Every frame journaled and arrival-to-commit p99 under 50 ms. */
  passed: boolean;
}

/** What {@link runWsLoad} reports. */
export interface WsLoadResult {
  machine: MachineInfo;
  connections: number;
  /** The commit mode of the system under load. */
  commit: CommitMode;
  seconds: number;
  /** Time to spawn every connection actor and see its first frame, ms. */
  spawnMs: number;
  steps: WsLoadStep[];
  /** The highest offered rate that passed (frames/s), or null when the first did not. */
  ceiling: number | null;
  durationMs: number;
}

const P99_LIMIT_MS = 50;
const quantile = (sorted: number[], q: number) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
const epochMs = () => performance.timeOrigin + performance.now();
const CURSOR = Buffer.from('"cursor":"');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The load server in a child process (its own core, as a remote backend would be), driven over IPC. */
async function startServer(): Promise<{ url: string; ask: (m: object) => Promise<ServerReply>; child: ChildProcess }> {
  // the child runs as this file does: its .ts source through tsx's loader (added when this process was
  // not started with it: vitest), or the tsc build `npm run bench:ws-load` makes (.bench-build/)
  const source = import.meta.url.endsWith('.ts');
  const execArgv = !source || process.execArgv.some((a) => a.includes('tsx')) ? process.execArgv : [...process.execArgv, '--import', 'tsx'];
  const child = fork(fileURLToPath(new URL(source ? './wsLoadServer.ts' : './wsLoadServer.js', import.meta.url)), ['--serve'], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const replies: Array<{ resolve: (m: ServerReply) => void; reject: (err: Error) => void }> = [];
  child.on('message', (m: ServerReply) => replies.shift()?.resolve(m));
  child.on('exit', (code) => {
    for (const r of replies.splice(0)) r.reject(new Error(`ws load: the server process exited (code ${code})`));
  });
  const ask = (m: object) =>
    new Promise<ServerReply>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('ws load: the server did not answer within 120 s')), 120_000);
      replies.push({
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      if (Object.keys(m).length > 0) child.send(m);
    });
  const ready = await ask({});
  return { url: ready.url!, ask, child };
}

/**
 * Load on journaled WebSocket connection actors: `connections` yoi connection actors (the WebSocket
 * source, the yoi binding, the connection machine, a SQLite log in a temporary directory, group
 * commit `tick`) observe a local yoi test server run in a child process (bench/wsLoadServer.ts),
 * which sends each rate in `rates` (frames/s in total, round robin over the workers) for `seconds`.
 * For every frame it records arrival to commit: arrival is the frame reaching the client's socket,
 * on loopback the moment the server sent it (its send time is in the frame), so a frame waiting in
 * socket buffers while the client's loop is busy counts; commit is the store's `write` holding its
 * row returning (the bench wraps `write`; the runtime is unchanged). It also records read to commit
 * (from the client's `message` event, through a `ws` subclass given to the source), and counts the
 * rows journaled. A step passes when every frame was journaled and the
 * p99 is under 50 ms; the ceiling is the highest passing rate. Steps stop after the first failure.
 * Every wait is bounded; the actors, the server and the temporary files are removed at the end.
 *
 * @example
 * ```ts
 * const r = await runWsLoad({ connections: 200, rates: [2000], seconds: 3, drainSeconds: 5 });
 * console.log(r.steps[0].p99Ms, r.ceiling);
 * ```
 */
export async function runWsLoad(options: WsLoadOptions): Promise<WsLoadResult> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const machine = machineInfo();
  const dir = mkdtempSync(join(tmpdir(), 'actorlog-ws-load-'));
  const server = await startServer();
  const store = openSqliteStore(join(dir, 'load.db'));
  const rows = new Database(join(dir, 'load.db'), { readonly: true }).prepare<[], { n: number }>(
    `SELECT count(*) AS n FROM events WHERE type = 'connection.message'`,
  );
  const count = () => rows.get()!.n;

  // arrival: stream id + cursor -> when the client socket emitted the frame
  const arrivals = new Map<string, number>();
  const streamOfWorker = new Map<string, string>();
  class TimedWebSocket extends WebSocket {
    constructor(address: string | URL | null, protocols?: string | string[], opts?: ClientOptions) {
      super(address as string, protocols, opts);
      const worker = /\/workers\/([^/]+)\//.exec(String(address))?.[1];
      const stream = worker === undefined ? undefined : streamOfWorker.get(decodeURIComponent(worker));
      this.on('message', (data: RawData) => {
        const at = performance.now();
        const buf = data as Buffer;
        const i = buf.indexOf(CURSOR);
        if (stream !== undefined && i >= 0) arrivals.set(`${stream}|${buf.toString('latin1', i + CURSOR.length, i + CURSOR.length + 19)}`, at);
      });
    }
  }
  // commit: the write holding the frame's row returned (SQLite commits in the call)
  let latencies: number[] = [];
  let readLatencies: number[] = [];
  const write = store.write.bind(store);
  let writes = 0;
  store.write = (batch: WriteBatch) => {
    const result = write(batch);
    writes += 1;
    const now = performance.now();
    const nowEpoch = epochMs();
    for (const a of batch.appends ?? [])
      for (const e of a.events) {
        if (e.type !== 'connection.message') continue;
        const key = `${a.streamId}|${(e.meta as { cursor?: string }).cursor}`;
        const at = arrivals.get(key);
        if (at !== undefined) {
          arrivals.delete(key);
          readLatencies.push(now - at);
        }
        const sentAt = Number((e.data as { message?: { body?: { text?: string } } }).message?.body?.text);
        if (Number.isFinite(sentAt)) latencies.push(nowEpoch - sentAt);
      }
    return result;
  };
  // the source constructs it as `new WebSocket(url, protocols, options)`: the overloads of ws's own type are not needed
  const Timed = TimedWebSocket as unknown as typeof WebSocket;
  const system = createActorSystem({ store, machines: { yoi: yoiConnectionMachine({ webSocket: { WebSocket: Timed } }) }, commit: options.commit ?? 'turn' });
  try {
    const workers = Array.from({ length: options.connections }, (_, i) => `w${i}`);
    log(`spawning ${options.connections} journaled connection actors`);
    const spawnStart = performance.now();
    for (let at = 0; at < workers.length; at += 200) {
      const batch = workers.slice(at, at + 200).map((workerId) => {
        const input = yoiConnectionInput({ baseUrl: server.url, runtimeId: 'load', workerId });
        streamOfWorker.set(workerId, input.connectionId);
        return system.spawn('yoi', { id: input.connectionId, input });
      });
      // online: the snapshot frame arrived (dropped as seed 004 drops sequence 0: counted as a duplicate)
      await Promise.all(batch.map((a) => a.waitFor((s) => s.context.counts.duplicates >= 1, { timeoutMs: 120_000 })));
    }
    const spawnMs = Math.round(performance.now() - spawnStart);
    log(`spawned in ${spawnMs} ms`);

    const steps: WsLoadStep[] = [];
    for (const rate of options.rates) {
      arrivals.clear();
      latencies = [];
      readLatencies = [];
      writes = 0;
      const before = count();
      const t0 = performance.now();
      const { sent = 0 } = await server.ask({ rate, seconds: options.seconds, workers });
      const offeredMs = performance.now() - t0;
      const journaledInWindow = count() - before;
      const drainUntil = performance.now() + options.drainSeconds * 1000;
      while (count() - before < sent && performance.now() < drainUntil) await sleep(50);
      const journaled = count() - before;
      // a frame not journaled by the end of the drain counts as slower than any
      const missing = Math.max(0, sent - latencies.length);
      const sorted = latencies.sort((a, b) => a - b).concat(Array.from({ length: missing }, () => Number.POSITIVE_INFINITY));
      const readSorted = readLatencies.sort((a, b) => a - b);
      const q = (p: number) => quantile(sorted, p);
      const step: WsLoadStep = {
        rate,
        sent,
        journaled,
        journaledPerSec: Math.round(journaledInWindow / (offeredMs / 1000)),
        p50Ms: round1(q(0.5)),
        p99Ms: round1(q(0.99)),
        maxMs: round1(sorted.at(-1) ?? Number.NaN),
        readP50Ms: round1(quantile(readSorted, 0.5)),
        readP99Ms: round1(quantile(readSorted, 0.99)),
        writes,
        passed: journaled === sent && missing === 0 && q(0.99) < P99_LIMIT_MS,
      };
      steps.push(step);
      log(
        `${rate}/s: sent ${sent}, journaled ${journaled} in ${writes} writes, arrival->commit p50 ${step.p50Ms} ms p99 ${step.p99Ms} ms, read->commit p99 ${step.readP99Ms} ms`,
      );
      if (!step.passed) break;
    }
    const passing = steps.filter((s) => s.passed).map((s) => s.rate);
    return {
      machine,
      connections: options.connections,
      commit: options.commit ?? 'turn',
      seconds: options.seconds,
      spawnMs,
      steps,
      ceiling: passing.length > 0 ? Math.max(...passing) : null,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await system.close();
    store.close();
    await server.ask({ close: true }).catch(() => undefined);
    server.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

const round1 = (x: number) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : x);

/** The table of a {@link WsLoadResult}. */
export function formatWsLoad(r: WsLoadResult): string {
  const m = r.machine;
  const ms = (x: number) => (Number.isFinite(x) ? `${x} ms` : 'not journaled');
  const lines = [
    `actorlog ws load: ${m.cpus} cpus (${m.cpuModel}), node ${m.node}, xstate ${m.xstate}, load average ${m.loadAverage}`,
    `${r.connections} journaled WebSocket connection actors (SQLite, commit ${r.commit}), ${r.seconds} s per rate; spawned in ${r.spawnMs} ms`,
    '',
    'offered/s  sent     journaled  writes   journaled/s  arrival->commit p50 / p99  read->commit p99  p99 < 50 ms',
    ...r.steps.map(
      (s) =>
        `${String(s.rate).padEnd(10)} ${String(s.sent).padEnd(8)} ${String(s.journaled).padEnd(10)} ${String(s.writes).padEnd(8)} ${String(s.journaledPerSec).padEnd(12)} ${`${ms(s.p50Ms)} / ${ms(s.p99Ms)}`.padEnd(26)} ${ms(s.readP99Ms).padEnd(17)} ${s.passed ? 'yes' : 'no'}`,
    ),
    '',
    r.ceiling === null
      ? `ceiling: below ${r.steps[0]?.rate ?? '?'} frames/s`
      : `ceiling: ${r.ceiling} frames/s (the highest offered rate with every frame journaled and p99 < 50 ms)`,
  ];
  return `${lines.join('\n')}\n`;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

async function main(argv: string[]): Promise<void> {
  const opts = new Command('bench:ws-load')
    .description('load on journaled WebSocket connection actors: arrival-to-commit latency per offered rate, and the ceiling where p99 passes 50 ms')
    .option('--connections <n>', 'journaled connection actors', positive)
    .option('--rates <list>', 'offered rates, frames/s in total, comma-separated', (v) => v.split(',').map(positive))
    .option('--seconds <n>', 'seconds per rate', positive)
    .option('--json', 'print one JSON object on stdout, progress on stderr')
    .option('--quick', 'a short run (200 connections, 2000 and 4000 frames/s, 3 s each): under a minute')
    .option('--commit <mode>', "the system's commit mode, 'turn' (default) or 'tick'", (v) => {
      if (v !== 'turn' && v !== 'tick') throw new InvalidArgumentError("expected 'turn' or 'tick'");
      return v;
    })
    .parse(argv)
    .opts<{ connections?: number; rates?: number[]; seconds?: number; json?: boolean; quick?: boolean; commit?: CommitMode }>();
  const result = await runWsLoad({
    connections: opts.connections ?? (opts.quick ? 200 : 2000),
    rates: opts.rates ?? (opts.quick ? [2000, 4000] : [2000, 4000, 8000, 16000]),
    seconds: opts.seconds ?? (opts.quick ? 3 : 10),
    drainSeconds: opts.quick ? 5 : 10,
    commit: opts.commit,
    log: (line) => process.stderr.write(`ws-load: ${line}\n`),
  });
  process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : formatWsLoad(result));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main(process.argv);

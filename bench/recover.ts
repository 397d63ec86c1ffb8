/**
 * Recovery after kill -9 (`npm run bench:recover`): how long `recover()` takes to bring back every
 * active stream of a SQLite log, against a bare XState restore (`createActor(machine, { snapshot })`
 * + `start()`) of the same snapshots, already in memory (the baseline: no log, no fold).
 *
 * For each size (`--sizes`, default 10,000 and 100,000), three processes on one SQLite log in a
 * temporary directory:
 * 1. `build` spawns the sessions (commit mode `tick`), each with a pending `after` timer of six hours,
 *    sends each `--pings` events, and waits to be killed with every actor running;
 * 2. the parent kills it with SIGKILL;
 * 3. `recover` opens the log in a fresh process and times `system.recover()` (every stream is active:
 *    each is folded from its input, as no snapshot was due yet, and started, its timer re-armed),
 *    then writes the recovered actors' persisted snapshots to a file and closes the system (a final
 *    snapshot of each stream);
 * 4. `bare` times, in a fresh process of its own (a cold JIT and heap, as recovery had), the bare
 *    restore of those snapshots, read from the file beforehand;
 * 5. `recover` and `bare` once more: each stream's snapshot is now its head, as after a deploy's
 *    clean restart.
 *
 * `--json` prints one JSON object on stdout, progress on stderr; `--quick` runs 10,000 only.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { createActor } from 'xstate';
import { createActorSystem } from '../src/index.ts';
import { openSqliteStore } from '../stores/sqlite/index.ts';
import { formatTable } from '../cli/output.ts';
import { benchChild } from './benchChild.ts';
import { benchSession } from './passivation.ts';
import { machineInfo } from './machineInfo.ts';

const machines = { session: benchSession };
const CHUNK = 5_000;
const say = (line: string) => process.stderr.write(`${line}\n`);

/** The figures of one size, in ms. */
export interface RecoverFigures {
  /** Active streams in the log when the builder was killed. */
  streams: number;
  /** Events logged per stream after its spawn. */
  pings: number;
  /** `system.recover()` in a fresh process after the kill -9: each stream folded from its input (ms). */
  recoverMs: number;
  /** Bare `createActor(machine, { snapshot }).start()` of the recovered snapshots (ms). */
  bareMs: number;
  /** recoverMs / bareMs (target: <= 2). */
  ratio: number;
  /** `system.recover()` once more, after that process's `close()`: each stream's snapshot is its head (a deploy's restart), ms. */
  restartMs: number;
  /** The bare restore of that run (ms). */
  restartBareMs: number;
  /** restartMs / restartBareMs. */
  restartRatio: number;
}

/** The build process: spawns and pings `streams` sessions, prints `built`, waits for its SIGKILL. */
async function build(path: string, streams: number, pings: number): Promise<void> {
  const store = openSqliteStore(path);
  const system = createActorSystem({ store, machines, commit: 'tick' });
  for (let from = 0; from < streams; from += CHUNK) {
    const to = Math.min(streams, from + CHUNK);
    for (let i = from; i < to; i++) system.spawn('session', { id: `s-${i}` });
    await system.settled();
    for (let p = 0; p < pings; p++) for (let i = from; i < to; i++) system.get(`s-${i}`)!.send({ type: 'ping' });
    await system.settled();
  }
  process.stdout.write('built\n');
  await new Promise(() => {}); // killed here
}

/** The recover process: prints one JSON line with the recovery time and the bare restore's. */
async function recover(path: string): Promise<void> {
  const store = openSqliteStore(path);
  const system = createActorSystem({ store, machines });
  const t0 = performance.now();
  const report = await system.recover();
  const recoverMs = performance.now() - t0;
  // the baseline restores these in a fresh process of its own (cold JIT and heap, as recovery had)
  writeFileSync(`${path}.snapshots.json`, JSON.stringify(report.recovered.map((actor) => actor.ref.getPersistedSnapshot())));
  const pings = (report.recovered[0]?.getSnapshot().context as { pings?: number } | undefined)?.pings;
  await system.close();
  store.close();
  process.stdout.write(`${JSON.stringify({ recovered: report.recovered.length, failed: report.failed.length, pings, recoverMs })}\n`);
}

/** The baseline process: a bare XState restore (`createActor(machine, { snapshot })` + `start()`) of the snapshots recovery ended with. */
function bare(path: string): void {
  const snapshots = JSON.parse(readFileSync(`${path}.snapshots.json`, 'utf8')) as unknown[];
  const actors: Array<{ stop(): void }> = [];
  const t1 = performance.now();
  for (const snapshot of snapshots) actors.push(createActor(benchSession, { snapshot: snapshot as never }).start());
  const bareMs = performance.now() - t1;
  for (const actor of actors) actor.stop();
  process.stdout.write(`${JSON.stringify({ restored: actors.length, bareMs })}\n`);
}

/**
 * Measures recovery of `streams` active sessions after a kill -9, against a bare XState restore.
 * @throws Error when recovery did not bring back every stream with its pings (a broken run, not a slow one)
 * @example
 * ```ts
 * const r = await measureRecover(10_000);
 * console.log(r.ratio);
 * ```
 */
export async function measureRecover(streams: number, options: { pings?: number; log?: (line: string) => void } = {}): Promise<RecoverFigures> {
  const pings = options.pings ?? 3;
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'actorlog-recover-'));
  const path = join(dir, 'log.db');
  try {
    log(`recover: building ${streams} active sessions (${pings} pings each)`);
    const builder = benchChild(import.meta.url, 'build', [path, String(streams), String(pings)], { until: 'built' });
    await builder.done;
    builder.kill();
    const run = async (): Promise<{ recoverMs: number; bareMs: number }> => {
      const r = JSON.parse((await benchChild(import.meta.url, 'recover', [path]).done).trim()) as {
        recovered: number;
        failed: number;
        pings: number;
        recoverMs: number;
      };
      if (r.recovered !== streams || r.failed !== 0 || r.pings !== pings) {
        throw new Error(`recovery is broken: ${r.recovered} of ${streams} recovered, ${r.failed} failed, ${r.pings} pings (expected ${pings})`);
      }
      const b = JSON.parse((await benchChild(import.meta.url, 'bare', [path]).done).trim()) as { restored: number; bareMs: number };
      if (b.restored !== streams) throw new Error(`the bare restore is broken: ${b.restored} of ${streams} restored`);
      return { recoverMs: r.recoverMs, bareMs: b.bareMs };
    };
    log('recover: killed with SIGKILL; recovering in a fresh process');
    const crash = await run();
    log('recover: that process closed its system; recovering again in a fresh process');
    const restart = await run();
    return {
      streams,
      pings,
      recoverMs: crash.recoverMs,
      bareMs: crash.bareMs,
      ratio: crash.recoverMs / crash.bareMs,
      restartMs: restart.recoverMs,
      restartBareMs: restart.bareMs,
      restartRatio: restart.recoverMs / restart.bareMs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The table of {@link measureRecover} figures. */
export function formatRecover(list: RecoverFigures[]): string {
  const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  return formatTable(
    ['recover() of active streams', 'recover() ms', 'bare XState restore ms', 'ratio (target <= 2x)'],
    list.flatMap((r) => [
      [`${f(r.streams)} sessions after kill -9 (${r.pings} events past the spawn, no snapshot)`, f(r.recoverMs, 1), f(r.bareMs, 1), `${r.ratio.toFixed(2)}x`],
      [`${f(r.streams)} sessions after close() (snapshot at the head)`, f(r.restartMs, 1), f(r.restartBareMs, 1), `${r.restartRatio.toFixed(2)}x`],
    ]),
  );
}

const sizes = (value: string): number[] =>
  value.split(',').map((part) => {
    const n = Number(part);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('a comma-separated list of positive integers');
    return n;
  });

async function main(argv: string[]): Promise<void> {
  const [mode, ...rest] = argv;
  if (mode === 'build') return build(rest[0]!, Number(rest[1]), Number(rest[2]));
  if (mode === 'recover') return recover(rest[0]!);
  if (mode === 'bare') return bare(rest[0]!);
  const opts = new Command('bench:recover')
    .option('--sizes <list>', 'active streams per measurement (default 10000,100000)', sizes)
    .option('--quick', '10,000 streams only')
    .option('--json', 'print one JSON object on stdout, progress on stderr')
    .parse(argv, { from: 'user' })
    .opts<{ sizes?: number[]; quick?: boolean; json?: boolean }>();
  const list: RecoverFigures[] = [];
  for (const n of opts.sizes ?? (opts.quick ? [10_000] : [10_000, 100_000])) list.push(await measureRecover(n, { log: say }));
  const machine = machineInfo();
  process.stdout.write(opts.json ? `${JSON.stringify({ machine, recover: list })}\n` : `${formatRecover(list)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main(process.argv.slice(2));

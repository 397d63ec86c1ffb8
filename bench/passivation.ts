/**
 * Passivation at scale (`npm run bench:passivation`): how many registered actors one process holds
 * once they sleep in the log, how fast a message wakes one, and how long `recover()` takes after a
 * kill -9 when most streams sleep.
 *
 * Three processes on one SQLite log in a temporary directory:
 * 1. `build`: spawns `--actors` sessions, each with a pending `after` timer (six hours), in chunks
 *    (commit mode `tick`), passivates each chunk, and prints the RSS with every actor registered
 *    (after a GC), beside the RSS before the first spawn and the RSS of 10,000 resident actors
 *    (the cost passivation saves), and the JS heap after a GC beside each. It then wakes `--samples` random actors by `system.send` (the
 *    latency from the send to its commit in the woken actor's stream, p50/p99), leaves `--active`
 *    actors resident with an event just appended, and waits to be killed.
 * 2. The parent kills it with SIGKILL.
 * 3. `recover`: a fresh process opens the log and times `recover()` (it loads only the resident
 *    streams), then times a bare XState restore of the same number of snapshots, the baseline.
 *
 * `--quick` runs 20,000 actors; `--json` prints one JSON object on stdout, progress on stderr.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { assign, createActor, setup } from 'xstate';
import { createActorSystem } from '../src/index.ts';
import { openSqliteStore } from '../stores/sqlite/index.ts';
import { formatTable } from '../cli/output.ts';
import { benchChild } from './benchChild.ts';

/** A session: counts pings, expires after six hours of silence (pending for the whole bench, however slow the machine). */
export const benchSession = setup({
  types: { context: {} as { pings: number }, events: {} as { type: 'ping' } },
}).createMachine({
  id: 'session',
  context: { pings: 0 },
  initial: 'open',
  states: {
    open: { after: { 21_600_000: 'expired' }, on: { ping: { target: 'open', reenter: true, actions: assign({ pings: ({ context }) => context.pings + 1 }) } } },
    expired: { type: 'final' },
  },
});

const machines = { session: benchSession };
const CHUNK = 5_000;

const rssMb = (): number => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss / 2 ** 20;
};
const heapMb = (): number => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};
const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const say = (line: string) => process.stderr.write(`${line}\n`);

/** The build process: prints one JSON line of figures, then `built`, then waits for its SIGKILL. */
async function build(path: string, actors: number, active: number, samples: number): Promise<void> {
  const store = openSqliteStore(path);
  const system = createActorSystem({ store, machines, commit: 'tick', passivation: { idleMs: 3_600_000 } });
  const rssEmpty = rssMb();
  const heapEmpty = heapMb();
  // the cost of resident actors, for comparison: 10,000 spawned and kept in memory
  const residentN = Math.min(10_000, actors);
  for (let i = 0; i < residentN; i++) system.spawn('session', { id: `resident-${i}` });
  await system.settled();
  const rssResident = rssMb();
  const heapResident = heapMb();
  await Promise.all(Array.from({ length: residentN }, (_, i) => system.passivate(`resident-${i}`)));
  const started = performance.now();
  for (let from = 0; from < actors; from += CHUNK) {
    const to = Math.min(actors, from + CHUNK);
    for (let i = from; i < to; i++) system.spawn('session', { id: `s-${i}` });
    await system.settled();
    await Promise.all(Array.from({ length: to - from }, (_, k) => system.passivate(`s-${from + k}`)));
    if ((to / CHUNK) % 20 === 0) say(`  ${to} actors registered and passivated (${Math.round(rssMb())} MB RSS)`);
  }
  const buildMs = performance.now() - started;
  const rssAll = rssMb();
  const heapAll = heapMb();
  // wake latency: a message to a sleeping actor, from the send until it is committed in its stream
  const latencies: number[] = [];
  for (let k = 0; k < samples; k++) {
    const id = `s-${Math.floor(Math.random() * actors)}`;
    const t0 = performance.now();
    await system.send(id, { type: 'ping' });
    await system.settled();
    latencies.push(performance.now() - t0);
    await system.passivate(id);
  }
  latencies.sort((a, b) => a - b);
  // `active` actors stay resident, each with an event appended just now: what a crash leaves running
  const ids = Array.from({ length: active }, (_, k) => `s-${k}`);
  for (const id of ids) await system.wake(id);
  for (const id of ids) system.get(id)!.send({ type: 'ping' });
  await system.settled();
  const figures = {
    actors,
    rssEmptyMb: rssEmpty,
    rssResident10kMb: rssResident - rssEmpty,
    rssAllMb: rssAll,
    heapEmptyMb: heapEmpty,
    heapResident10kMb: heapResident - heapEmpty,
    heapAllMb: heapAll,
    buildMs,
    wakeP50Ms: percentile(latencies, 50),
    wakeP99Ms: percentile(latencies, 99),
    samples,
  };
  process.stdout.write(`${JSON.stringify(figures)}\nbuilt\n`);
  if (process.env.BENCH_EXIT === '1') process.exit(0); // profiling (--cpu-prof writes at exit)
  await new Promise(() => {}); // killed here
}

/** The recover process: prints one JSON line with the recovery time, its count, and the bare XState baseline. */
async function recover(path: string): Promise<void> {
  const store = openSqliteStore(path);
  const system = createActorSystem({ store, machines, passivation: { idleMs: 3_600_000 } });
  const t0 = performance.now();
  const report = await system.recover();
  const recoverMs = performance.now() - t0;
  const recovered = report.recovered.length;
  const snapshot = report.recovered[0]?.ref.getPersistedSnapshot();
  await system.close();
  store.close();
  const t1 = performance.now();
  for (let i = 0; i < recovered; i++) createActor(benchSession, { snapshot: snapshot as never }).start();
  const bareMs = performance.now() - t1;
  process.stdout.write(`${JSON.stringify({ recovered, recoverMs, bareMs, rssAfterRecoverMb: rssMb() })}\n`);
}

const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

async function main(argv: string[]): Promise<void> {
  const [mode, ...rest] = argv;
  if (mode === 'build') return build(rest[0]!, Number(rest[1]), Number(rest[2]), Number(rest[3]));
  if (mode === 'recover') return recover(rest[0]!);
  const opts = new Command('bench:passivation')
    .option('--actors <n>', 'registered actors, each with a pending timer (default 1,000,000)', positive)
    .option('--active <n>', 'actors left resident when the process is killed', positive, 1_000)
    .option('--samples <n>', 'messages to sleeping actors timed for the wake latency', positive, 1_000)
    .option('--quick', '20,000 actors')
    .option('--json', 'print one JSON object on stdout, progress on stderr')
    .parse(argv, { from: 'user' })
    .opts<{ actors?: number; active: number; samples: number; quick?: boolean; json?: boolean }>();
  const actors = opts.actors ?? (opts.quick ? 20_000 : 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'actorlog-passivation-'));
  const path = join(dir, 'log.db');
  try {
    say(`building ${actors} passivated actors (${opts.active} left resident) in ${path}…`);
    const builder = benchChild(import.meta.url, 'build', [path, String(actors), String(Math.min(opts.active, actors)), String(opts.samples)], {
      until: 'built',
      nodeArgs: ['--expose-gc'],
    });
    const built = JSON.parse((await builder.done).split('\n')[0]!) as Record<string, number>;
    builder.kill(); // kill -9 with the resident actors running
    say('killed with SIGKILL; recovering in a fresh process…');
    const recovered = JSON.parse((await benchChild(import.meta.url, 'recover', [path], { nodeArgs: ['--expose-gc'] }).done).trim()) as Record<string, number>;
    const result = { machine: { cores: cpus().length, node: process.version }, ...built, ...recovered, recoverRatio: recovered.recoverMs! / recovered.bareMs! };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return;
    }
    const f = (n: number, digits = 0) => n.toFixed(digits);
    process.stdout.write(
      `passivation, ${result.machine.cores} cores, Node ${result.machine.node}\n` +
        formatTable(
          ['figure', 'value'],
          [
            ['registered actors (each with a pending 6 h timer)', String(actors)],
            ['RSS with all of them registered, passivated (MB)', f(built.rssAllMb!)],
            ['RSS of the empty process (MB)', f(built.rssEmptyMb!)],
            ['RSS of 10,000 resident actors, for comparison (MB)', f(built.rssResident10kMb!)],
            ['JS heap with all of them registered, passivated / empty (MB)', `${f(built.heapAllMb!)} / ${f(built.heapEmptyMb!)}`],
            ['JS heap of 10,000 resident actors, for comparison (MB)', f(built.heapResident10kMb!)],
            ['spawn + passivate (actors/s)', f(actors / (built.buildMs! / 1000))],
            [`wake on a message, p50 / p99 (ms, ${built.samples} samples)`, `${f(built.wakeP50Ms!, 2)} / ${f(built.wakeP99Ms!, 2)}`],
            ['recover() after kill -9: streams loaded', String(recovered.recovered)],
            ['recover() after kill -9 (ms)', f(recovered.recoverMs!, 1)],
            ['bare XState restore of as many snapshots (ms)', f(recovered.bareMs!, 1)],
            ['recover() / bare restore', f(result.recoverRatio, 2)],
          ],
        ) +
        '\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main(process.argv.slice(2));

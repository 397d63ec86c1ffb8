import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { formatTable } from '../cli/output.ts';
import { runActorsPostgresBench, type ActorsPostgresOptions, type ActorsPostgresResult } from './actorsPostgres.ts';

/** The targets of the actors-on-PostgreSQL benchmark, each with what was measured; printed, never asserted. */
export function actorsPostgresTargets(r: ActorsPostgresResult): Array<{ target: string; measured: string; met: boolean }> {
  const targets: Array<{ target: string; measured: string; met: boolean }> = [];
  const thousand = r.counts.find((c) => c.actors === 1000);
  if (thousand)
    targets.push({
      target: '1,000 actors: journaled >= 0.8x raw batched',
      measured: `${thousand.batchedRatio.toFixed(2)}x`,
      met: thousand.batchedRatio >= 0.8,
    });
  const worst = Math.max(...r.counts.map((c) => c.delayP99Ms));
  targets.push({
    target: `event-loop delay p99 < 20 ms (${r.counts.map((c) => c.actors.toLocaleString('en-US')).join(' / ')} actors)`,
    measured: r.counts.map((c) => `${c.delayP99Ms.toFixed(1)}`).join(' / ') + ' ms',
    met: worst < 20,
  });
  if (r.sqlite)
    targets.push({
      target: 'SQLite each mode: after >= before (events/s)',
      measured: `${r.sqlite.ratio.toFixed(2)}x (CPU per event ${r.sqlite.cpuRatio.toFixed(2)}x)`,
      met: r.sqlite.ratio >= 1,
    });
  return targets;
}

/** The table of a {@link ActorsPostgresResult}: one column per number of active actors, then SQLite before/after and the targets. */
export function formatActorsPostgres(r: ActorsPostgresResult): string {
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  const col = (f: (c: ActorsPostgresResult['counts'][number]) => string) => r.counts.map(f);
  const rows = [
    ['events (per actor)', ...col((c) => `${n(c.events)} (${n(c.eventsPerActor)})`)],
    ['journaled actors, commit each', ...col((c) => `${n(c.journaledPerSec)}/s`)],
    [`raw INSERT, ${n(r.batch)} rows/txn`, ...col((c) => `${n(c.rawBatchedPerSec)}/s`)],
    ['  ratio journaled / raw batched', ...col((c) => `${c.batchedRatio.toFixed(2)}x`)],
    [`raw INSERT, 1 row/txn (${n(r.singleRows)} rows)`, ...col((c) => `${n(c.rawSinglePerSec)}/s`)],
    ['  ratio journaled / raw 1 row/txn', ...col((c) => `${c.singleRatio.toFixed(2)}x`)],
    ['CPU of this process per event, journaled / raw batched', ...col((c) => `${c.cpuUsPerEvent.toFixed(1)} / ${c.rawCpuUsPerRow.toFixed(1)} µs`)],
    ['journal: transactions (events/txn)', ...col((c) => `${n(c.transactions)} (${n(c.eventsPerTransaction)})`)],
    ['loop delay p50 / p99 / max, journaled', ...col((c) => `${c.delayP50Ms.toFixed(1)} / ${c.delayP99Ms.toFixed(1)} / ${c.delayMaxMs.toFixed(0)} ms`)],
    ['loop delay p99, raw batched', ...col((c) => `${c.rawDelayP99Ms.toFixed(1)} ms`)],
  ];
  const m = r.machine;
  const head =
    `actorlog PostgreSQL actors bench: ${r.server}\n` +
    `machine: ${m.cpus} cpus (${m.cpuModel}), node ${m.node}, xstate ${m.xstate}, pg ${m.pg}, load average ${m.loadAverage} at start; ` +
    `median of ${r.runs} runs; ${(r.durationMs / 1000).toFixed(1)} s\n` +
    `idle loop delay p50 / p99: ${r.idleDelay.p50Ms.toFixed(1)} / ${r.idleDelay.p99Ms.toFixed(1)} ms (the monitor's resolution is 1 ms)\n\n`;
  let out = head + formatTable(['figure', ...r.counts.map((c) => `${n(c.actors)} actor${c.actors === 1 ? '' : 's'}`)], rows);
  if (r.sqlite) {
    const s = r.sqlite;
    const each = (list: typeof s.beforeRuns) => list.map((x) => n(x.perSec)).join(', ');
    out +=
      '\n' +
      formatTable(
        [`SQLite, 1 journaled actor, commit each, ${n(s.events)} events`, 'events/s (each run)', 'CPU per event'],
        [
          [`before the change (${s.before})`, `${n(s.beforePerSec)}/s (${each(s.beforeRuns)})`, `${s.beforeCpuUsPerEvent.toFixed(1)} µs`],
          ['after (this checkout)', `${n(s.afterPerSec)}/s (${each(s.afterRuns)})`, `${s.afterCpuUsPerEvent.toFixed(1)} µs`],
          ['  ratio after / before', `${s.ratio.toFixed(2)}x`, `${s.cpuRatio.toFixed(2)}x (before / after)`],
        ],
      );
  }
  out +=
    '\n' +
    formatTable(
      ['target (measured, not asserted)', 'measured', 'met'],
      actorsPostgresTargets(r).map((t) => [t.target, t.measured, t.met ? 'yes' : 'no']),
    );
  return out;
}

function positive(value: string): number {
  const v = Number(value);
  if (!Number.isSafeInteger(v) || v < 1) throw new InvalidArgumentError('expected a positive integer');
  return v;
}

function counts(value: string): number[] {
  const list = value.split(',').map((x) => Number(x.trim()));
  if (list.length === 0 || list.some((x) => !Number.isSafeInteger(x) || x < 1))
    throw new InvalidArgumentError('expected positive integers separated by commas');
  return list;
}

/** `--quick`: the whole bench (PostgreSQL start included) in well under 60 s on 2 cores. */
const QUICK = { events: 5_000, runs: 1, singleRows: 200, sqliteEvents: 5_000, sqliteRuns: 2 };

/**
 * The command line of the PostgreSQL actors bench (`npm run bench:actors-postgres`, or `npm run
 * bench -- --postgres`): the table on stdout (or one JSON object with `--json`), progress on stderr.
 */
export async function actorsPostgresMain(argv: string[]): Promise<void> {
  const opts = new Command('bench:actors-postgres')
    .description(
      'journaled actors on PostgreSQL against raw inserts of the same rows, 1/100/1000 active actors, event-loop delay, SQLite each mode before/after',
    )
    .option('--url <url>', 'use this server (default: start a throwaway durable one from /usr/lib/postgresql/15/bin)')
    .option('--actors <list>', 'numbers of concurrently active actors (default 1,100,1000)', counts)
    .option('--events <n>', 'events per measurement, shared among the actors (default 20000)', positive)
    .option('--batch <n>', 'rows per raw batched transaction (default 1000)', positive)
    .option('--single-rows <n>', 'rows of the raw 1-row-per-transaction figure (default 500)', positive)
    .option('--runs <n>', 'measured runs per figure, median reported (default 3)', positive)
    .option('--sqlite-events <n>', 'events per SQLite each-mode measurement (default 20000)', positive)
    .option('--sqlite-runs <n>', 'pairs of SQLite runs, before and after alternating (default 3)', positive)
    .option('--sqlite-before <dir>', 'a checkout of the runtime before the change (default: git archive of 0c9467b into a temporary directory)')
    .option('--no-sqlite', 'skip the SQLite before/after figures')
    .option(
      '--quick',
      `a short run: ${QUICK.events} events, 1 run, ${QUICK.singleRows} single rows, ${QUICK.sqliteRuns} x ${QUICK.sqliteEvents} SQLite events (under 60 s)`,
    )
    .option('--json', 'print one JSON object on stdout')
    .parse(argv)
    .opts<{
      url?: string;
      actors?: number[];
      events?: number;
      batch?: number;
      singleRows?: number;
      runs?: number;
      sqliteEvents?: number;
      sqliteRuns?: number;
      sqliteBefore?: string;
      sqlite: boolean;
      quick?: boolean;
      json?: boolean;
    }>();
  const quick = opts.quick === true;
  const options: ActorsPostgresOptions = {
    log: (line) => process.stderr.write(`bench: ${line}\n`),
    events: opts.events ?? (quick ? QUICK.events : undefined),
    runs: opts.runs ?? (quick ? QUICK.runs : undefined),
    singleRows: opts.singleRows ?? (quick ? QUICK.singleRows : undefined),
    sqlite: opts.sqlite
      ? {
          events: opts.sqliteEvents ?? (quick ? QUICK.sqliteEvents : 20_000),
          runs: opts.sqliteRuns ?? (quick ? QUICK.sqliteRuns : 3),
          beforeDir: opts.sqliteBefore,
        }
      : false,
  };
  if (opts.url !== undefined) options.url = opts.url;
  if (opts.actors !== undefined) options.actors = opts.actors;
  if (opts.batch !== undefined) options.batch = opts.batch;
  const result = await runActorsPostgresBench(options);
  process.stdout.write(opts.json ? JSON.stringify(result) + '\n' : formatActorsPostgres(result));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await actorsPostgresMain(process.argv);

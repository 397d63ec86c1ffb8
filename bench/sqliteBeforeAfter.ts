import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** This checkout's root (bench/..). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The last commit before the runtime moved to the asynchronous store and the journal-as-mailbox. */
export const BEFORE_REF = '0c9467b';

/** One child's measurement: events/s (wall clock) and its CPU time per event (µs, user + system). */
export interface EachRun {
  perSec: number;
  cpuUsPerEvent: number;
}

/** SQLite each-mode journaled events/s of the runtime before and after the change, measured in one run. */
export interface SqliteBeforeAfter {
  /** The checkout measured as "before" (a commit, or a directory given with `--sqlite-before`). */
  before: string;
  /** Medians of the runs. */
  beforePerSec: number;
  afterPerSec: number;
  /** after / before, events/s. */
  ratio: number;
  /** Medians of the CPU time per event (µs): steadier than events/s on a machine other processes share. */
  beforeCpuUsPerEvent: number;
  afterCpuUsPerEvent: number;
  /** before / after CPU per event (above 1: the change costs less CPU per event). */
  cpuRatio: number;
  /** Every measurement, in the order taken (the spread shows the machine's noise). */
  beforeRuns: EachRun[];
  afterRuns: EachRun[];
  events: number;
  runs: number;
}

/** Options of {@link measureSqliteBeforeAfter}. */
export interface SqliteBeforeAfterOptions {
  /** Events per measurement (one journaled actor, `commit: 'each'`, synchronous NORMAL). */
  events: number;
  /** Pairs of runs, alternating which goes first; medians reported. */
  runs: number;
  /** A checkout of the runtime before the change; default: `git archive` of {@link BEFORE_REF} into a temporary directory. */
  beforeDir?: string;
  log?: (line: string) => void;
}

/** Extracts `ref` (src, stores, bench, package.json) into a temporary directory that uses this checkout's node_modules. */
async function checkoutBefore(ref: string): Promise<{ dir: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), `actorlog-before-${ref}-`));
  try {
    await run('sh', ['-c', 'git -C "$1" archive --format=tar "$2" src stores bench package.json tsconfig.json | tar -x -C "$3"', 'sh', REPO_ROOT, ref, dir]);
    if (!existsSync(join(dir, 'bench', 'actor.ts'))) throw new Error(`git archive ${ref} gave no bench/actor.ts`);
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot check out the runtime before the change (${ref}) from ${REPO_ROOT}: ${(err as Error).message}; pass --sqlite-before <checkout>`, {
      cause: err,
    });
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One measurement by the runtime of `root`, in a child process (bench/sqliteEachChild.ts). */
async function measureIn(root: string, events: number): Promise<EachRun> {
  const child = join(REPO_ROOT, 'bench', 'sqliteEachChild.ts');
  const { stdout } = await run(process.execPath, ['--import', 'tsx', child, root, String(events)], { cwd: REPO_ROOT, timeout: 300_000 });
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as Partial<EachRun>;
  if (typeof result.perSec !== 'number' || !(result.perSec > 0) || typeof result.cpuUsPerEvent !== 'number')
    throw new Error(`the SQLite measurement in ${root} printed no rate: ${stdout}`);
  return { perSec: result.perSec, cpuUsPerEvent: result.cpuUsPerEvent };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;

/**
 * SQLite each-mode journaled events/s (one actor, `commit: 'each'`, bench/actor.ts of each
 * checkout) before and after the runtime change, each measurement a fresh child process, the two
 * alternating (before first in even runs, after first in odd ones) so the machine's noise falls on
 * both. Each child also reports its CPU time per event.
 *
 * @throws Error when the "before" checkout cannot be made, or a child fails
 * @example
 * ```ts
 * const r = await measureSqliteBeforeAfter({ events: 20_000, runs: 3 });
 * console.log(r.ratio); // after / before
 * ```
 */
export async function measureSqliteBeforeAfter(options: SqliteBeforeAfterOptions): Promise<SqliteBeforeAfter> {
  const log = options.log ?? (() => {});
  const checkout = options.beforeDir === undefined ? await checkoutBefore(BEFORE_REF) : { dir: resolve(options.beforeDir), remove() {} };
  try {
    const before: EachRun[] = [];
    const after: EachRun[] = [];
    for (let r = 0; r < options.runs; r++) {
      log(`sqlite each: run ${r + 1}/${options.runs} (${options.events} events, before and after in turn)`);
      const order = r % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
      for (const which of order) {
        if (which === 'before') before.push(await measureIn(checkout.dir, options.events));
        else after.push(await measureIn(REPO_ROOT, options.events));
      }
    }
    const beforePerSec = median(before.map((b) => b.perSec));
    const afterPerSec = median(after.map((a) => a.perSec));
    const beforeCpuUsPerEvent = median(before.map((b) => b.cpuUsPerEvent));
    const afterCpuUsPerEvent = median(after.map((a) => a.cpuUsPerEvent));
    return {
      before: options.beforeDir === undefined ? BEFORE_REF : resolve(options.beforeDir),
      beforePerSec,
      afterPerSec,
      ratio: ratio(afterPerSec, beforePerSec),
      beforeCpuUsPerEvent,
      afterCpuUsPerEvent,
      cpuRatio: ratio(beforeCpuUsPerEvent, afterCpuUsPerEvent),
      beforeRuns: before,
      afterRuns: after,
      events: options.events,
      runs: options.runs,
    };
  } finally {
    checkout.remove();
  }
}

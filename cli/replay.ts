import type { StateValue } from 'xstate';
import { ActorlogError } from '../src/errors.ts';
import { foldPlan, planReplay } from '../src/replay/plan.ts';
import { foldRecords, replay, verifyPlan, verifyReplay, verifyUpgrade, type ReplayStep, type VerifyResult } from '../src/replay/replay.ts';
import type { LogStore, StreamRecord } from '../src/log/types.ts';
import { machineSegments } from '../src/replay/segments.ts';
import { openLog } from './openLog.ts';
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { ignoreHashOption, machinesOption, type CommandContext } from './command.ts';
import { logFile } from './config.ts';
import { ExitCodes, formatTable, jsonLine, parseCount, type Out } from './output.ts';
import type { MachineRegistry } from './registry.ts';

/** Options of `actorlog replay`. */
export interface ReplayCommandOptions {
  /** Stop after this stream version (inclusive). */
  to?: number;
  /** Compare the replay with every live snapshot recorded for the stream; exit 1 when one differs. */
  verify?: boolean;
  /** With `verify`: also exit 1 when the stream has no live snapshot, so nothing was compared. */
  strict?: boolean;
  /** One JSON object per event (data included) instead of a table. */
  json?: boolean;
  /** Replay even when the registered machine's definition hash differs from the logged one. */
  ignoreHash?: boolean;
}

/**
 * A state value in dotted form: `'idle'`, `{ active: { working: 'streaming' } }` ->
 * `active.working.streaming`; parallel regions in braces, comma-separated:
 * `online.{heartbeat.beating,receive.listening}`.
 */
export function formatStateValue(value: StateValue): string {
  if (typeof value === 'string') return value;
  const entries = Object.entries(value);
  const parts = entries.map(([key, child]) =>
    child === undefined || (typeof child === 'object' && Object.keys(child).length === 0) ? key : `${key}.${formatStateValue(child as StateValue)}`,
  );
  return parts.length === 1 ? parts[0]! : `{${parts.join(',')}}`;
}

const HEADERS = ['VERSION', 'POSITION', 'SOURCE', 'TYPE', 'STATE', 'STATUS', 'CURSOR'];

function tableRow({ record, snapshot }: ReplayStep): string[] {
  return [
    String(record.version),
    String(record.globalPosition),
    record.meta.source,
    record.type,
    formatStateValue(snapshot.value),
    snapshot.status,
    record.meta.cursor ?? '',
  ];
}

function jsonStep({ record, snapshot }: ReplayStep): string {
  const { version, globalPosition, type, data, meta } = record;
  return jsonLine({
    version,
    globalPosition,
    source: meta.source,
    type,
    cursor: meta.cursor,
    actor: meta.actor,
    recordedAt: meta.recordedAt,
    state: formatStateValue(snapshot.value),
    status: snapshot.status,
    data,
  });
}

function short(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The paths at which two JSON values differ (`context.count`), at most `max` of them. */
function diffPaths(live: unknown, replayed: unknown, path: string, found: string[], max = 20): void {
  if (found.length >= max) return;
  const bothObjects = typeof live === 'object' && live !== null && typeof replayed === 'object' && replayed !== null;
  if (bothObjects && Array.isArray(live) === Array.isArray(replayed)) {
    const keys = new Set([...Object.keys(live), ...Object.keys(replayed)]);
    for (const key of keys) diffPaths((live as Record<string, unknown>)[key], (replayed as Record<string, unknown>)[key], `${path}.${key}`, found, max);
  } else if (JSON.stringify(live) !== JSON.stringify(replayed)) {
    found.push(`  ${path}: live ${short(live)}, replayed ${short(replayed)}\n`);
  }
}

function verifyText(result: VerifyResult, streamId: string): string {
  if (result.nothingToCompare) return `verify: NOTHING TO COMPARE (no live snapshot recorded for ${streamId})\n`;
  if (result.ok) return `verify: OK (replay equals the ${result.checked} live snapshot(s), last at version ${result.version})\n`;
  const lines: string[] = [];
  for (const d of result.differences) diffPaths(d.live, d.replayed, d.key, lines);
  const versions = [...new Set(result.differences.map((d) => d.version))].join(', ');
  return `verify: MISMATCH with the live snapshot at version ${versions}\n${lines.join('')}`;
}

/**
 * `actorlog replay <db> <streamId>`: folds a stream's logged events through its machine's pure
 * transition ({@link replay}: no I/O, no timers, no network) and prints one line per event: version,
 * global position, source, type, the state value after it (dotted) and the actor status; the cursor
 * when the source gave one. The table never shows event data; `--json` prints it.
 *
 * The registered machine must be one the stream ran (its recorded hash, or the new hash of one of its
 * `actorlog.upgraded` events); across an upgrade each stretch is replayed with the registered machine
 * that ran it, found by hash under any name ({@link replay}'s `machines`).
 *
 * With `verify`, the stream is then checked against every live snapshot recorded for it ({@link verifyReplay});
 * with `ignoreHash` and a machine the stream never ran, as recovery's `onMachineChange: 'verify'`
 * would check that machine before going on with it (from the snapshot an earlier `accept` resumed
 * from, if any), so a deploy can be tried first and gives the same answer:
 * `verify: OK`, the differing paths, or `verify: NOTHING TO COMPARE` when the stream has no live
 * snapshot (`--json`: `{"verify": {ok, version, checked, nothingToCompare, differences}}`).
 *
 * @returns 0; 1 when `verify` found a difference, or compared nothing and `strict` is set
 * @throws ActorlogError `STREAM_NOT_FOUND`, `MACHINE_NOT_REGISTERED`, `MACHINE_MISMATCH`, `STORE_UNAVAILABLE`
 * @example
 * ```sh
 * actorlog replay ./actorlog.db job-7 --to 12
 * actorlog replay ./actorlog.db counter-1 --machines ./machines.ts --verify --json
 * actorlog replay ./actorlog.db job-7 --verify --strict   # exit 1 unless a live snapshot was compared
 * ```
 */
export async function runReplay(
  dbPath: string,
  streamId: string,
  registry: MachineRegistry,
  options: ReplayCommandOptions,
  out: Out,
  err: Out,
): Promise<number> {
  const log = await openLog(dbPath);
  const store = log.store;
  try {
    const stream = await store.getStream(streamId);
    if (!stream) throw new ActorlogError('STREAM_NOT_FOUND', `no stream "${streamId}" in ${dbPath}`, { details: { streamId } });
    const { steps, verify } = await replayRun(store, stream, registry, options, err);
    if (options.json) {
      let chunk = '';
      let n = 0;
      for await (const step of steps) {
        chunk += jsonStep(step);
        if (++n % 500 === 0) {
          out.write(chunk);
          chunk = '';
        }
      }
      out.write(chunk);
    } else {
      const rows: string[][] = [];
      for await (const step of steps) rows.push(tableRow(step));
      out.write(formatTable(HEADERS, rows));
    }
    if (!options.verify) return ExitCodes.OK;
    const result = await verify();
    out.write(options.json ? jsonLine({ verify: result }) : verifyText(result, streamId));
    if (!result.ok) return ExitCodes.MISMATCH;
    return result.nothingToCompare && options.strict ? ExitCodes.NOT_VERIFIED : ExitCodes.OK;
  } finally {
    await log.close();
  }
}

/**
 * How `actorlog replay` folds `stream`: the steps, and the `--verify` check. The machine registered
 * for the stream's own hash folds it as `replay()` does, a chunk of the log at a time; otherwise the
 * stream is read once, for the hashes it ran (any registered machine of one of them replays it, each
 * stretch by the machine that ran it, as `replay()` plans it), the replay and the check.
 */
async function replayRun(
  store: LogStore,
  stream: StreamRecord,
  registry: MachineRegistry,
  options: ReplayCommandOptions,
  err: Out,
): Promise<{ steps: Iterable<ReplayStep> | AsyncIterable<ReplayStep>; verify: () => Promise<VerifyResult> }> {
  const { streamId } = stream;
  const machines = registry.all();
  const own = await registry.resolve(stream).catch((e: unknown) => {
    if (e instanceof ActorlogError && e.code === 'MACHINE_MISMATCH') return undefined;
    throw e;
  });
  if (own)
    return {
      steps: replay(store, own.machine, streamId, { machines, to: options.to }),
      verify: () => verifyReplay(store, own.machine, streamId, { machines }),
    };
  // the machines the stream ran: its own, then each upgrade's (any of them is the stream's machine)
  const records = await store.readStream(streamId);
  const segments = await machineSegments(store, stream, records);
  const hashes = [...new Set(segments.map((s) => s.hash))];
  const { machine, mismatch } = await registry.resolve(stream, { ignoreHash: options.ignoreHash, hashes });
  if (mismatch) {
    err.write(
      `actorlog: warning: replaying ${streamId} with another definition of "${stream.machine.name}" (logged ${mismatch.logged}, registered ${mismatch.registered})\n`,
    );
    // another definition (--ignore-hash) folds alone from the input; --verify checks it as recovery's
    // onMachineChange 'verify' would, so the answer is the deploy's (the first differing version, or OK)
    const to = options.to;
    return {
      steps: foldRecords(machine, stream, to === undefined ? records : records.filter((r) => r.version <= to)),
      verify: () => verifyUpgrade(store, machine, stream),
    };
  }
  const plan = await planReplay(store, stream, machine, machines, { records, segments });
  return { steps: foldPlan(stream, plan, options.to), verify: async () => verifyPlan(stream, plan, await store.listSnapshots(streamId)) };
}

/** `actorlog replay <db> <streamId> [--to N] [--verify [--strict]] [--machines m] [--ignore-hash] [--json]`: its arguments, options and help. */
export function replayCommand(ctx: CommandContext): Command {
  return new Command('replay')
    .description('replay a stream offline, one line per event with the state after it')
    .argument('<db>', "the log file or postgres:// URL; give only <streamId> to read the config's db")
    .argument('[streamId]', 'the stream (actor id) to replay')
    .option('--to <version>', 'stop after this stream version', parseCount)
    .option('--verify', 'compare with every live snapshot the log recorded; exit 1 when one differs')
    .option('--strict', 'with --verify: exit 1 also when the stream has no live snapshot to compare with')
    .addOption(machinesOption())
    .addOption(ignoreHashOption('replay (a deliberate migration)'))
    .option('--json', 'one JSON object per event (data included); verify prints {"verify": {...}}')
    .action(async (first: string, second: string | undefined, opts: ReplayCommandOptions & { machines?: string }) => {
      const loaded = await ctx.config();
      if (second === undefined && /\.(db|sqlite3?|actorlog)$/.test(first) && existsSync(first)) {
        throw new ActorlogError('INVALID_OPTIONS', `missing <streamId>: actorlog replay ${first} <streamId> (list them with actorlog streams ${first})`);
      }
      const [db, streamId] = second === undefined ? [logFile(undefined, loaded), first] : [first, second];
      ctx.result.code = await runReplay(db, streamId, await ctx.registry(opts.machines), opts, ctx.io.out, ctx.io.err);
    });
}

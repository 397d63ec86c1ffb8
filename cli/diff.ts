import { Command } from 'commander';
import { ActorlogError } from '../src/errors.ts';
import { ignoreHashOption, machinesOption, type CommandContext } from './command.ts';
import { openLog } from './openLog.ts';
import { ExitCodes, jsonLine, parseCount, type Out } from './output.ts';
import type { MachineRegistry } from './registry.ts';
import { comparable, diffRows, type DiffRow } from './snapshotDiff.ts';
import { StreamFolds } from './view/folds.ts';
import { snapshotView } from './view/snapshotView.ts';

/** Options of `actorlog diff`. */
export interface DiffCommandOptions {
  /** A child machine's path (`worker`, `worker/sub`): its snapshots instead of the root's. */
  actor?: string;
  /** Fold even when the registered machine's hash differs from the logged one. */
  ignoreHash?: boolean;
  /** One JSON object (`{ streamId, actor, from, to, state, changes }`) instead of lines. */
  json?: boolean;
}

const MARK: Record<DiffRow['op'], string> = { add: '+', remove: '-', replace: '~', move: '>' };
const show = (v: unknown) => {
  const text = v === undefined ? 'undefined' : (JSON.stringify(v) ?? typeof v);
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
};

function line(r: DiffRow): string {
  if (r.op === 'add') return `  + ${r.path || '(root)'}  ${show(r.after)}\n`;
  if (r.op === 'remove') return `  - ${r.path || '(root)'}  ${show(r.before)}\n`;
  if (r.op === 'move') return `  > ${r.path}  moved from ${String(r.before)}\n`;
  return `  ${MARK[r.op]} ${r.path || '(root)'}  ${show(r.before)} -> ${show(r.after)}\n`;
}

/**
 * `actorlog diff <db> <streamId> <v1> <v2>`: the difference between the snapshots of a stream's actor
 * after version v1 and after version v2 (0: the initial state), path by path, as the viewer shows it
 * (lists of objects matched by identity: taking the head of a queue is one removal): `+` added, `-`
 * removed, `~` changed (before -> after), `>` moved. The snapshots are folded with the stream's
 * machine from the nearest snapshot the log keeps; `actor` diffs a child machine's instead.
 *
 * @returns 0 (also when nothing differs: the output says so)
 * @throws ActorlogError `STREAM_NOT_FOUND`, `INVALID_OPTIONS` (a version past the stream's, or no child machine at `actor`), `MACHINE_NOT_REGISTERED`, `MACHINE_MISMATCH`, `STORE_UNAVAILABLE`
 * @example
 * ```sh
 * actorlog diff ./actorlog.db job-7 3 8
 * actorlog diff ./actorlog.db order-1 2 5 --actor worker --json
 * ```
 */
export async function runDiff(
  dbPath: string,
  streamId: string,
  from: number,
  to: number,
  registry: MachineRegistry,
  options: DiffCommandOptions,
  out: Out,
  err: Out,
): Promise<number> {
  const log = await openLog(dbPath);
  try {
    const stream = await log.store.getStream(streamId);
    if (!stream) throw new ActorlogError('STREAM_NOT_FOUND', `no stream "${streamId}" in ${dbPath}`, { details: { streamId } });
    for (const v of [from, to]) {
      if (v > stream.version)
        throw new ActorlogError('INVALID_OPTIONS', `${streamId} has ${stream.version} event(s): there is no version ${v}`, {
          details: { streamId, version: v },
        });
    }
    const { machine, mismatch } = await registry.resolve(stream, { ignoreHash: options.ignoreHash });
    if (mismatch)
      err.write(
        `actorlog: warning: folding ${streamId} with another definition of "${stream.machine.name}" (logged ${mismatch.logged}, registered ${mismatch.registered})\n`,
      );
    const folds = new StreamFolds(log.store, machine, stream);
    const actor = options.actor ?? '';
    const [a, b] = [snapshotView(await folds.at(from), actor), snapshotView(await folds.at(to), actor)];
    if (!a && !b)
      throw new ActorlogError('INVALID_OPTIONS', `no child machine "${actor}" in ${streamId} at version ${from} or ${to}`, { details: { streamId, actor } });
    const changes = diffRows(comparable(a), comparable(b));
    const state = { from: a?.state ?? null, to: b?.state ?? null };
    if (options.json) {
      out.write(jsonLine({ streamId, actor, from, to, state, changes }));
      return ExitCodes.OK;
    }
    const who = actor ? `${streamId} ${actor}` : streamId;
    out.write(`${who} v${from} -> v${to}: ${state.from ?? '(not there)'} -> ${state.to ?? '(not there)'}\n`);
    out.write(changes.length === 0 ? '  no difference\n' : changes.map(line).join(''));
    return ExitCodes.OK;
  } finally {
    await log.close();
  }
}

/** `actorlog diff <db> <streamId> <v1> <v2> [--actor path] [--machines m] [--ignore-hash] [--json]`: its arguments, options and help. */
export function diffCommand(ctx: CommandContext): Command {
  return new Command('diff')
    .description('print the difference between the snapshots of an actor after two versions of its stream')
    .argument('<db>', 'the log file (an exported .actorlog too) or postgres:// URL')
    .argument('<streamId>', 'the stream (actor id)')
    .argument('<v1>', 'the first version (0: the initial state)', parseCount)
    .argument('<v2>', 'the second version', parseCount)
    .option('--actor <path>', "a child machine's path in the actor tree (worker, worker/sub): its snapshots instead of the root's")
    .addOption(machinesOption())
    .addOption(ignoreHashOption('fold'))
    .option('--json', 'one JSON object: { streamId, actor, from, to, state, changes }')
    .action(async (db: string, streamId: string, v1: number, v2: number, opts: DiffCommandOptions & { machines?: string }) => {
      ctx.result.code = await runDiff(db, streamId, v1, v2, await ctx.registry(opts.machines), opts, ctx.io.out, ctx.io.err);
    });
}

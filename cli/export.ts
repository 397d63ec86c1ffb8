import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { ActorlogError } from '../src/errors.ts';
import type { CommandContext } from './command.ts';
import { exportLog } from './exportLog.ts';
import { openLog } from './openLog.ts';
import { ExitCodes, parseCount, type Out } from './output.ts';

/** Options of `actorlog export`. */
export interface ExportCommandOptions {
  /** The last global position to export (default: the head). */
  to?: number;
  /** The file to write; absent: standard output (not a terminal). */
  out?: string;
}

/** Where the file's bytes go when no `--out` is given: standard output, which may be a terminal. */
export interface BinaryOut {
  write(chunk: Uint8Array): unknown;
  isTTY?: boolean;
}

/**
 * `actorlog export <db> <streamId...> [--to N] [--out file]`: a bug report, as a log file of its own
 * (see {@link exportLog}): the streams named, their definitions, snapshots and events up to global
 * position N, written to `--out` or to standard output (`> bug.actorlog`; refused on a terminal).
 * `actorlog view bug.actorlog` opens it, as do `replay` and `diff`. A summary goes to stderr.
 *
 * @returns 0
 * @throws ActorlogError `STREAM_NOT_FOUND`, `INVALID_OPTIONS` (the `--out` file exists, standard output is a terminal), `STORE_UNAVAILABLE`
 * @example
 * ```sh
 * actorlog export ./actorlog.db job-7 --to 1200 > bug.actorlog
 * actorlog view bug.actorlog
 * ```
 */
export async function runExport(dbPath: string, streamIds: string[], options: ExportCommandOptions, stdout: BinaryOut, err: Out): Promise<number> {
  if (!options.out && stdout.isTTY)
    throw new ActorlogError('INVALID_OPTIONS', 'export writes a binary log file: redirect it (> bug.actorlog) or pass --out <file>');
  const dir = options.out ? undefined : mkdtempSync(join(tmpdir(), 'actorlog-export-'));
  const path = options.out ? resolve(options.out) : join(dir!, 'export.actorlog');
  const log = await openLog(dbPath);
  try {
    const summary = await exportLog(log.store, streamIds, path, { to: options.to });
    if (!options.out) {
      for await (const chunk of createReadStream(path)) stdout.write(chunk as Uint8Array);
    }
    err.write(
      `actorlog: exported ${summary.streams} stream(s), ${summary.events} event(s), ${summary.snapshots} snapshot(s), ${summary.definitions} definition(s) up to position ${summary.to}${options.out ? ` to ${options.out}` : ''}\n`,
    );
    return ExitCodes.OK;
  } finally {
    await log.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** `actorlog export <db> <streamId...> [--to N] [--out file]`: its arguments, options and help. */
export function exportCommand(ctx: CommandContext): Command {
  return new Command('export')
    .description(
      'write the streams named (their events, snapshots and definitions, up to a global position) as a log file of their own: a bug report that actorlog view opens',
    )
    .argument('<db>', 'the log file or postgres:// URL')
    .argument('<streamId...>', 'the streams to export')
    .option('--to <position>', 'the last global position to export (default: the head)', parseCount)
    .option('--out <file>', 'the file to write (default: standard output, redirected: > bug.actorlog)')
    .action(async (db: string, streamIds: string[], opts: ExportCommandOptions) => {
      ctx.result.code = await runExport(db, streamIds, opts, ctx.io.out as unknown as BinaryOut, ctx.io.err);
    });
}

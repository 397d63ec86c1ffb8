import { Command } from 'commander';
import type { StreamRecord, StreamStatus } from '../src/log/types.ts';
import type { CommandContext } from './command.ts';
import { logFile } from './config.ts';
import { openLog } from './openLog.ts';
import { ExitCodes, formatTable, isoTime, jsonLine, parseStatuses, type Out } from './output.ts';

/** Options of `actorlog streams`. */
export interface StreamsCommandOptions {
  /** Only streams with one of these statuses (`--status active,done`). */
  status?: StreamStatus[];
  /** One JSON object per line (the whole stream record, input included) instead of a table. */
  json?: boolean;
}

const HEADERS = ['STREAM', 'MACHINE', 'STATUS', 'VERSION', 'CREATED', 'UPDATED'];

function row(stream: StreamRecord): string[] {
  return [stream.streamId ?? '(no id)', stream.machine.name, stream.status, String(stream.version), isoTime(stream.createdAt), isoTime(stream.updatedAt)];
}

/**
 * `actorlog streams <db>`: lists the streams of a log, in creation order, one line each: id,
 * machine name, status, version, created and updated times (UTC). The table never shows a stream's
 * input; `--json` prints each {@link StreamRecord} whole (input included, as it was spawned:
 * applications keep secrets out of input).
 *
 * Opens the file read-only: safe while a service is writing it.
 *
 * @param dbPath the log file
 * @param out where lines go
 * @returns the exit code (0)
 * @throws ActorlogError `STORE_UNAVAILABLE` (missing or unreadable file), `SCHEMA_VERSION`
 * @example
 * ```sh
 * actorlog streams ./actorlog.db --status active
 * ```
 */
export async function runStreams(dbPath: string, options: StreamsCommandOptions, out: Out): Promise<number> {
  const log = await openLog(dbPath);
  const store = log.store;
  try {
    const streams = await store.listStreams(options.status ? { status: options.status } : undefined);
    if (options.json) out.write(streams.map(jsonLine).join(''));
    else out.write(formatTable(HEADERS, streams.map(row)));
    return ExitCodes.OK;
  } finally {
    await log.close();
  }
}

/** `actorlog streams [db] [--status list] [--json]`: its arguments, options and help. */
export function streamsCommand(ctx: CommandContext): Command {
  return new Command('streams')
    .description('list the streams (actors) of a log: id, machine, status, version, times')
    .argument('[db]', "the log file or postgres:// URL (default: the config's db)")
    .option('--status <list>', 'only these statuses, comma-separated (active,done,error,stopped)', parseStatuses)
    .option('--json', 'one JSON object per line (stream records, input included)')
    .action(async (db: string | undefined, opts: StreamsCommandOptions) => {
      ctx.result.code = await runStreams(logFile(db, await ctx.config()), opts, ctx.io.out);
    });
}

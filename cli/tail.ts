import { EMPTY, take, timeout, type Observable, type Subscription } from 'rxjs';
import type { EventRecord } from '../src/log/types.ts';
import { openLog } from './openLog.ts';
import { Command } from 'commander';
import type { CommandContext } from './command.ts';
import { logFile } from './config.ts';
import { ExitCodes, formatFixedRow, jsonLine, parseCount, parsePositive, type Out } from './output.ts';

/** Options of `actorlog tail`. */
export interface TailCommandOptions {
  /** Deliver events after this global position (exclusive, like a checkpoint). Default: the current head. */
  from?: number;
  /** Only events of this stream. */
  stream?: string;
  /** Exit 0 after this many events. */
  limit?: number;
  /** Exit 0 after this long without an event (ms). */
  idleExit?: number;
  /** How often to look for events written by other processes (ms). @default 250 */
  pollInterval?: number;
  /** One JSON object per event (the whole record, data included) instead of a table. */
  json?: boolean;
}

/** The process hooks tail needs; tests may pass their own. */
export interface TailSignals {
  once(signal: 'SIGINT', handler: () => void): unknown;
  off(signal: 'SIGINT', handler: () => void): unknown;
}

const HEADERS = ['POSITION', 'STREAM', 'VERSION', 'SOURCE', 'TYPE', 'CURSOR'];
const WIDTHS = [9, 24, 8, 9, 32];

function tableRow(r: EventRecord): string {
  return formatFixedRow([String(r.globalPosition), r.streamId, String(r.version), r.meta.source, r.type, r.meta.cursor ?? ''], WIDTHS);
}

/**
 * `actorlog tail <db>`: follows the log live and prints one line per new event: global position,
 * stream, version, source, type (and cursor). It subscribes from the current head (or `from`) with
 * `store.subscribe()`, which polls the read-only connection every `pollInterval` ms for what other
 * processes append. The table never shows event data; `--json` prints each record whole.
 *
 * It ends (resolving 0) after `limit` events, after `idleExit` ms without events, or on SIGINT;
 * otherwise it runs until killed.
 *
 * @returns a promise of the exit code (0)
 * @throws ActorlogError `STORE_UNAVAILABLE` (at open, or a failed read, as a rejection)
 * @example
 * ```sh
 * actorlog tail ./actorlog.db --json | jq .type
 * actorlog tail ./actorlog.db --from 0 --limit 100 --idle-exit 2000
 * ```
 */
export async function runTail(dbPath: string, options: TailCommandOptions, out: Out, signals: TailSignals = process): Promise<number> {
  const log = await openLog(dbPath);
  const store = log.store;
  let source: Observable<EventRecord>;
  try {
    const after = options.from ?? (await store.headPosition());
    source = store.subscribe({ after, streamId: options.stream, pollIntervalMs: options.pollInterval ?? 250 });
  } catch (err) {
    await log.close();
    throw err;
  }
  if (options.limit !== undefined) source = source.pipe(take(options.limit));
  if (options.idleExit !== undefined) source = source.pipe(timeout({ each: options.idleExit, with: () => EMPTY }));
  return new Promise<number>((resolve, reject) => {
    let finished = false;
    let subscription: Subscription | undefined;
    const finish = (error?: unknown): void => {
      if (finished) return;
      finished = true;
      signals.off('SIGINT', onSigint);
      subscription?.unsubscribe();
      void log.close().then(
        () => (error === undefined ? resolve(ExitCodes.OK) : reject(error)),
        (closeErr: unknown) => reject(error ?? closeErr),
      );
    };
    const onSigint = (): void => finish();
    signals.once('SIGINT', onSigint);
    // the header tells a watcher that tail is ready: SIGINT is handled from here on
    if (!options.json) out.write(formatFixedRow(HEADERS, WIDTHS));
    subscription = source.subscribe({
      next: (record) => out.write(options.json ? jsonLine(record) : tableRow(record)),
      complete: () => finish(),
      error: (err: unknown) => finish(err),
    });
    // the source may have ended while catching up, inside subscribe()
    if (finished) subscription.unsubscribe();
  });
}

/** `actorlog tail [db] [--from P] [--stream id] [--limit n] [--idle-exit ms] [--poll-interval ms] [--json]`: its arguments, options and help. */
export function tailCommand(ctx: CommandContext): Command {
  return new Command('tail')
    .description('follow new events live, one line per event')
    .argument('[db]', "the log file or postgres:// URL (default: the config's db)")
    .option('--from <position>', 'start after this global position (default: the current head; 0 = whole log)', parseCount)
    .option('--stream <id>', 'only the events of this stream')
    .option('--limit <n>', 'exit after this many events', parseCount)
    .option('--idle-exit <ms>', 'exit after this long without events', parseCount)
    .option('--poll-interval <ms>', 'how often to look for events other processes append', parsePositive, 250)
    .option('--json', 'one JSON object per event (the whole record, data included)')
    .action(async (db: string | undefined, opts: TailCommandOptions) => {
      ctx.result.code = await runTail(logFile(db, await ctx.config()), opts, ctx.io.out);
    });
}

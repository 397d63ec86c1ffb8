import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { ActorlogError } from '../src/errors.ts';
import { errorLine, ExitCodes, parseCount, parsePositive, parseStatuses, type Out } from './output.ts';
import { loadConfig, logFile } from './config.ts';
import { createRegistry, loadMachinesModule } from './registry.ts';
import { DEFAULT_INSPECTOR_URL, runInspect } from './inspect.ts';
import { runReplay } from './replay.ts';
import { runStreams } from './streams.ts';
import { runTail } from './tail.ts';
import { runView } from './view.ts';

/** The `--machines` option of the commands that fold streams (replay, inspect, view). */
const MACHINES_HELP = 'a .js/.mjs module (.ts with a loader) exporting `machines` (or a default) Record<string, machine>; adds to actorlog.config';

/** Where the CLI writes: stdout for results, stderr for errors and warnings. */
export interface CliIo {
  out: Out;
  err: Out;
}

/**
 * Builds the `actorlog` command line (commander): `streams`, `replay`, `tail`, each with `--json`, and `view` (the viewer in the browser).
 * Every command opens the log read-only. An action's exit code is stored in `result.code`.
 * Usage errors are reported as `actorlog: <message> (INVALID_OPTIONS)` and exit 2 (see {@link runCli}).
 */
export function createProgram(io: CliIo, result: { code: number }): Command {
  const { version } = createRequire(import.meta.url)('actorlog/package.json') as { version: string };
  const program = new Command('actorlog')
    .description('Inspect an actorlog event log (SQLite): list streams, replay an actor offline, follow new events.')
    .version(version)
    .option('--config <path>', 'the CLI config (default: actorlog.config.{js,mjs,ts} in the working directory): machine modules and the default log file')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out.write(s),
      writeErr: (s) => io.err.write(s),
      // commander's usage errors are printed by runCli in the one error format
      outputError: () => {},
    });

  const config = () => loadConfig((program.opts() as { config?: string }).config);
  /** The built-in machines, the config's, then `--machines` (each wins over the one before on a name). */
  const registryOf = async (loaded: Awaited<ReturnType<typeof config>>, modulePath?: string) =>
    createRegistry({ ...loaded.machines, ...(modulePath ? await loadMachinesModule(modulePath) : {}) });

  program
    .command('streams')
    .description('list the streams (actors) of a log: id, machine, status, version, times')
    .argument('[db]', 'the log file (default: the config\'s db)')
    .option('--status <list>', 'only these statuses, comma-separated (active,done,error,stopped)', parseStatuses)
    .option('--json', 'one JSON object per line (stream records, input included)')
    .action(async (db: string | undefined, opts: { status?: ReturnType<typeof parseStatuses>; json?: boolean }) => {
      result.code = await runStreams(logFile(db, await config()), opts, io.out);
    });

  program
    .command('replay')
    .description('replay a stream offline, one line per event with the state after it')
    .argument('<db>', 'the log file; give only <streamId> to read the config\'s db')
    .argument('[streamId]', 'the stream (actor id) to replay')
    .option('--to <version>', 'stop after this stream version', parseCount)
    .option('--verify', 'compare with every live snapshot the log recorded; exit 1 when one differs')
    .option('--strict', 'with --verify: exit 1 also when the stream has no live snapshot to compare with')
    .option('--machines <module>', MACHINES_HELP)
    .option('--ignore-hash', 'replay even if the registered machine (definition or code) differs from the logged one: a deliberate migration')
    .option('--json', 'one JSON object per event (data included); verify prints {"verify": {...}}')
    .action(async (first: string, second: string | undefined, opts: { to?: number; verify?: boolean; strict?: boolean; machines?: string; ignoreHash?: boolean; json?: boolean }) => {
      const loaded = await config();
      if (second === undefined && /\.(db|sqlite3?)$/.test(first) && existsSync(first)) {
        throw new ActorlogError('INVALID_OPTIONS', `missing <streamId>: actorlog replay ${first} <streamId> (list them with actorlog streams ${first})`);
      }
      const [db, streamId] = second === undefined ? [logFile(undefined, loaded), first] : [first, second];
      const registry = await registryOf(loaded, opts.machines);
      result.code = await runReplay(db, streamId, registry, opts, io.out, io.err);
    });

  program
    .command('tail')
    .description('follow new events live, one line per event')
    .argument('[db]', 'the log file (default: the config\'s db)')
    .option('--from <position>', 'start after this global position (default: the current head; 0 = whole log)', parseCount)
    .option('--stream <id>', 'only the events of this stream')
    .option('--limit <n>', 'exit after this many events', parseCount)
    .option('--idle-exit <ms>', 'exit after this long without events', parseCount)
    .option('--poll-interval <ms>', 'how often to look for events other processes append', parsePositive, 250)
    .option('--json', 'one JSON object per event (the whole record, data included)')
    .action(async (db: string | undefined, opts: { from?: number; stream?: string; limit?: number; idleExit?: number; pollInterval: number; json?: boolean }) => {
      result.code = await runTail(logFile(db, await config()), opts, io.out);
    });

  program
    .command('inspect')
    .description('re-send the recorded run of an actor (or of all) to the Stately Inspector over its WebSocket protocol')
    .argument('<db>', 'the log file')
    .argument('[streamId]', 'only this stream (its actor and children); default every stream, in log order')
    .option('--to <n>', 'stop after this stream version (with streamId) or global position (without)', parseCount)
    .option('--url <ws-url>', 'the inspector\'s WebSocket server', DEFAULT_INSPECTOR_URL)
    .option('--machines <module>', MACHINES_HELP)
    .option('--ignore-hash', 'replay snapshots even if the registered machine differs from the logged one')
    .option('--json', 'print the summary as one JSON object')
    .action(async (db: string, streamId: string | undefined, opts: { to?: number; url: string; machines?: string; ignoreHash?: boolean; json?: boolean }) => {
      const registry = await registryOf(await config(), opts.machines);
      result.code = await runInspect(db, streamId, registry, opts, io.out, io.err);
    });

  program
    .command('view')
    .description('serve an offline viewer of a log in the browser (127.0.0.1): streams, statecharts, timelines, snapshots, the service at any position')
    .argument('[db]', 'the log file (default: the config\'s db)')
    .option('--port <n>', 'the port on 127.0.0.1 (default: a free port)', parseCount)
    .option('--machines <module>', MACHINES_HELP)
    .option('--ignore-hash', 'fold streams even if the registered machine differs from the logged one')
    .option('--poll-interval <ms>', 'how often to look for events other processes append', parsePositive, 200)
    .action(async (db: string | undefined, opts: { port?: number; machines?: string; ignoreHash?: boolean; pollInterval: number }) => {
      const loaded = await config();
      const registry = await registryOf(loaded, opts.machines);
      const recipe = { config: (program.opts() as { config?: string }).config, machines: opts.machines, cwd: process.cwd() };
      result.code = await runView(logFile(db, loaded), registry, { ...opts, recipe, err: io.err }, io.out);
    });

  return program;
}

/**
 * Runs the CLI on `argv` (as `process.argv`: node, script, then arguments) and returns the exit code:
 * 0 ok, 1 `replay --verify` found a difference (or, with `--strict`, had no live snapshot to compare), 2 an error, printed to `io.err` as
 * `actorlog: <message> (<code>)` (codes: STREAM_NOT_FOUND, MACHINE_NOT_REGISTERED, MACHINE_MISMATCH,
 * STORE_UNAVAILABLE, SCHEMA_VERSION, INVALID_OPTIONS).
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv, { out: process.stdout, err: process.stderr });
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const result = { code: ExitCodes.OK as number };
  try {
    await createProgram(io, result).parseAsync([...argv]);
    return result.code;
  } catch (err) {
    // --help and --version end with a CommanderError whose exitCode is 0
    if (err instanceof CommanderError && err.exitCode === 0) return ExitCodes.OK;
    if (err instanceof CommanderError && err.code === 'commander.help') return ExitCodes.ERROR;
    io.err.write(errorLine(err));
    return ExitCodes.ERROR;
  }
}

// `| head` closing stdout early is not an error
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
process.exitCode = await runCli(process.argv, { out: process.stdout, err: process.stderr });

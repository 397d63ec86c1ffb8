import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import type { CliIo, CommandContext } from './command.ts';
import { loadConfig, type LoadedConfig } from './config.ts';
import { diffCommand } from './diff.ts';
import { exportCommand } from './export.ts';
import { inspectCommand } from './inspect.ts';
import { errorLine, ExitCodes } from './output.ts';
import { registryOf } from './registryRecipe.ts';
import { replayCommand } from './replay.ts';
import { streamsCommand } from './streams.ts';
import { tailCommand } from './tail.ts';
import { viewCommand } from './view.ts';

export type { CliIo } from './command.ts';

/**
 * Builds the `actorlog` command line (commander) from its commands, each defined with its options
 * and help in its own file: `streams`, `replay`, `diff`, `tail`, `inspect`, `export` and `view`.
 * Every command opens the log read-only. An action's exit code is stored in `result.code`. Usage
 * errors are reported as `actorlog: <message> (INVALID_OPTIONS)` and exit 2 (see {@link runCli}).
 */
export function createProgram(io: CliIo, result: { code: number }): Command {
  const { version } = createRequire(import.meta.url)('actorlog/package.json') as { version: string };
  const program = new Command('actorlog')
    .description(
      'Inspect an actorlog event log (SQLite file or postgres:// URL): list streams, replay or diff an actor offline, follow new events, export a bug report, view it all in the browser.',
    )
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
  const configPath = () => (program.opts() as { config?: string }).config;
  let loaded: Promise<LoadedConfig> | undefined;
  const ctx: CommandContext = {
    io,
    result,
    config: () => (loaded ??= loadConfig(configPath())),
    registry: async (machinesModule) => registryOf(await ctx.config(), machinesModule),
    recipe: (machinesModule) => ({ config: configPath(), machines: machinesModule, cwd: process.cwd() }),
  };
  for (const command of [streamsCommand, replayCommand, diffCommand, tailCommand, inspectCommand, exportCommand, viewCommand]) {
    // a subcommand reports its errors, help and version as the program does
    program.addCommand(command(ctx).exitOverride().configureOutput(program.configureOutput()).showHelpAfterError(false));
  }
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

/**
 * The `actorlog` process (bin/actorlog.js calls it; importing this module runs nothing): the CLI on
 * `process.argv` with the process's stdout and stderr, its exit code set on `process.exitCode`.
 * `| head` closing stdout early is not an error.
 */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  process.exitCode = await runCli(argv, { out: process.stdout, err: process.stderr });
}

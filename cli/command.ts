import { Option } from 'commander';
import type { LoadedConfig } from './config.ts';
import type { Out } from './output.ts';
import type { MachineRegistry } from './registry.ts';
import type { RegistryRecipe } from './registryRecipe.ts';

/** Where the CLI writes: stdout for results, stderr for errors and warnings. */
export interface CliIo {
  out: Out;
  err: Out;
}

/**
 * What every command of the `actorlog` program is given (cli/main.ts makes it): where to write,
 * where its exit code goes, the program's config (`--config`, else actorlog.config.* in the working
 * directory) and the machine registry the config and a `--machines` module make. Each command file
 * builds its own commander `Command` (arguments, options, help) from it.
 */
export interface CommandContext {
  io: CliIo;
  /** The action's exit code. */
  result: { code: number };
  /** The config, loaded on first use. */
  config(): Promise<LoadedConfig>;
  /** The built-in machines, the config's, then those of `machinesModule` (each wins over the one before on a name). */
  registry(machinesModule?: string): Promise<MachineRegistry>;
  /** How {@link registry} makes it, as data (a worker thread makes the same one). */
  recipe(machinesModule?: string): RegistryRecipe;
}

/** `--machines <module>`, for the commands that fold streams. */
export function machinesOption(): Option {
  return new Option(
    '--machines <module>',
    'a .js/.mjs module (.ts with a loader) exporting machines by name (export const job = …), or `machines` (or a default) Record<string, machine>; adds to actorlog.config',
  );
}

/** `--ignore-hash`, for the commands that fold streams: `doing` says what it lets them do anyway. */
export function ignoreHashOption(doing: string): Option {
  return new Option('--ignore-hash', `${doing} even if the registered machine (definition or code) differs from the logged one`);
}

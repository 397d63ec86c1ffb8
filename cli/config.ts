import { existsSync } from 'node:fs';
import { isPostgresUrl } from '../stores/postgres/url.ts';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import { ActorlogError } from '../src/errors.ts';
import { isMachine, loadMachinesModule } from './machinesModule.ts';

/**
 * The shape of `actorlog.config.{js,mjs,ts}`: its default export (or a `config` export).
 *
 * @example
 * ```js
 * // actorlog.config.mjs, in the directory you run `npx actorlog` from
 * export default {
 *   machines: ['./dist/machines.js'],   // modules exporting machines by name, or `machines` (or a default) Record<string, machine>
 *   db: './orchestrator.db',            // the log file a command reads when none is given
 * };
 * ```
 */
export interface ActorlogConfig {
  /**
   * Machine modules (paths relative to the config file), each exporting `machines` or a default
   * `Record<string, AnyStateMachine>`, or its machines by name (`export const job = …`); or such a
   * record itself. Later modules win on a name clash.
   */
  machines?: string | string[] | Record<string, AnyStateMachine>;
  /** The default log file (relative to the config file) for commands given none. */
  db?: string;
}

/** A config as the CLI uses it: where it was found, its machines loaded, its log path resolved. */
export interface LoadedConfig {
  /** The config file, absolute; undefined when there is none. */
  path?: string;
  machines: Record<string, AnyStateMachine>;
  /** The default log file, absolute. */
  db?: string;
}

/** The keys a config may have. */
const CONFIG_KEYS = ['machines', 'db'];

/** The file names looked for in the working directory, in this order. */
export const CONFIG_FILES = ['actorlog.config.js', 'actorlog.config.mjs', 'actorlog.config.ts'] as const;

/**
 * Finds and loads the CLI's config: `explicit` (`--config PATH`, relative to `cwd`) or else the first
 * of {@link CONFIG_FILES} in `cwd`. No file is no config (built-in machines only). A `.ts` config,
 * and `.ts` machine modules, need a TypeScript loader (`NODE_OPTIONS="--import tsx"`); in a checkout
 * of actorlog the `actorlog` command runs with one.
 *
 * @throws ActorlogError `INVALID_OPTIONS` when `--config` names a missing file, the file cannot be
 *   loaded, it has a key other than `machines` and `db`, or they are not of the documented shape; each
 *   message starts with the config's path, a module it lists included (`config /app/actorlog.config.mjs:
 *   machines module /app/m.mjs: …`), details `path` (the config; for a module it lists, `path` is the
 *   module and `config` the config), `unknown` or `invalid` when they apply
 */
export async function loadConfig(explicit: string | undefined, cwd = process.cwd()): Promise<LoadedConfig> {
  const path = explicit !== undefined ? resolve(cwd, explicit) : CONFIG_FILES.map((f) => resolve(cwd, f)).find((f) => existsSync(f));
  if (path === undefined) return { machines: {} };
  if (!existsSync(path)) throw new ActorlogError('INVALID_OPTIONS', `--config ${explicit}: no such file`, { details: { path } });
  let mod: { default?: unknown; config?: unknown };
  try {
    mod = await import(pathToFileURL(path).href);
  } catch (err) {
    const needsLoader = /\.[cm]?tsx?$/.test(path) && (err as NodeJS.ErrnoException)?.code === 'ERR_UNKNOWN_FILE_EXTENSION';
    const reason = needsLoader
      ? 'Node cannot import TypeScript without a loader: run with `NODE_OPTIONS="--import tsx"`, or use actorlog.config.mjs'
      : ((err as Error)?.message ?? String(err));
    throw new ActorlogError('INVALID_OPTIONS', `cannot load config ${path}: ${reason}`, { cause: err, details: { path } });
  }
  const config = (mod.default ?? mod.config ?? {}) as ActorlogConfig;
  const problem = (message: string, more: Record<string, unknown> = {}) =>
    new ActorlogError('INVALID_OPTIONS', `config ${path}: ${message}`, { details: { path, ...more } });
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw problem('exports no object (export default { machines, db })');
  const unknown = Object.keys(config).filter((key) => !CONFIG_KEYS.includes(key));
  if (unknown.length > 0) throw problem(`unknown key ${unknown.map((k) => `\`${k}\``).join(', ')} (a config has ${CONFIG_KEYS.join(' and ')})`, { unknown });
  if (config.db !== undefined && typeof config.db !== 'string') throw problem('db must be a path (a string)');
  const base = dirname(path);
  let machines: Record<string, AnyStateMachine> = {};
  const listed = config.machines;
  if (typeof listed === 'string' || Array.isArray(listed)) {
    for (const module of [listed].flat()) {
      if (typeof module !== 'string') throw problem(`machines lists something that is not a module path: ${JSON.stringify(module) ?? String(module)}`);
      machines = { ...machines, ...(await loadMachinesModule(resolve(base, module), { config: path })) };
    }
  } else if (listed !== undefined) {
    if (typeof listed !== 'object' || listed === null) throw problem('machines must be module paths or a record of machines');
    const invalid = Object.keys(listed).filter((name) => !isMachine((listed as Record<string, unknown>)[name]));
    if (invalid.length > 0) throw problem(`not XState machines: ${invalid.map((n) => `machines.${n}`).join(', ')}`, { invalid });
    machines = listed;
  }
  return { path, machines, db: config.db === undefined ? undefined : resolve(base, config.db) };
}

/**
 * The log file of a command: the one given, else `ACTORLOG_DB` (the variable the examples and the
 * main job write to), else the config's `db`, else an `INVALID_OPTIONS` error.
 */
export function logFile(given: string | undefined, config: LoadedConfig, env: NodeJS.ProcessEnv = process.env): string {
  if (given !== undefined) return given;
  if (env.ACTORLOG_DB) return env.ACTORLOG_DB;
  if (config.db !== undefined) {
    if (!isPostgresUrl(config.db) && !existsSync(config.db))
      throw new ActorlogError('STORE_UNAVAILABLE', `no log file at ${config.db} (the db named by ${config.path}); pass <db> or set ACTORLOG_DB`, {
        details: { path: config.db },
      });
    return config.db;
  }
  throw new ActorlogError(
    'INVALID_OPTIONS',
    config.path ? `no log file given, and ${config.path} names no db` : 'no log file given (pass <db>, or name `db` in actorlog.config.mjs)',
  );
}

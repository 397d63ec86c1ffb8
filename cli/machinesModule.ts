import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import { ActorlogError } from '../src/errors.ts';

/** True for an XState machine (what a module may register). */
export function isMachine(value: unknown): value is AnyStateMachine {
  const v = value as { transition?: unknown; getInitialSnapshot?: unknown; toJSON?: unknown } | null;
  return (
    typeof v === 'object' && v !== null && typeof v.transition === 'function' && typeof v.getInitialSnapshot === 'function' && typeof v.toJSON === 'function'
  );
}

/**
 * Where a machines module was named, for its messages: `--machines` on the command line (the
 * default), or a config file's `machines` list.
 */
export interface MachinesModuleOrigin {
  /** The config file (absolute) that lists the module; undefined for `--machines`. */
  config?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !isMachine(v);

/**
 * Loads user machines from a module (`.js`/`.mjs`; `.ts` when a TypeScript loader runs; path
 * relative to the working directory). Its machines are, in this order of precedence:
 * - its `machines` export, a `Record<string, AnyStateMachine>`;
 * - else its default export, such a record;
 * - else its named exports that are machines, each registered under its export name
 *   (`export const job = …` registers `job`); other exports (helpers, constants) are left alone.
 *
 * @param origin names the config file that lists the module, so its errors are reported as that
 *   config's (`config ./actorlog.config.mjs: machines module ./m.mjs: …`) rather than as `--machines`
 * @throws ActorlogError `INVALID_OPTIONS` (details `path`, and `config` when a config lists it) when
 *   the module cannot be imported, exports no machine, or its record holds something that is not one
 * @example
 * ```ts
 * // my-machines.ts: either form
 * export const counter = counterMachine;                       // registers `counter`
 * export const machines = { counter: counterMachine, job: jobMachine.provide({ actors }) };
 * // shell
 * actorlog replay log.db counter-1 --machines ./my-machines.ts
 * ```
 */
export async function loadMachinesModule(path: string, origin: MachinesModuleOrigin = {}): Promise<Record<string, AnyStateMachine>> {
  const file = resolve(process.cwd(), path);
  const where = origin.config === undefined ? `--machines ${path}` : `config ${origin.config}: machines module ${path}`;
  const details = origin.config === undefined ? { path: file } : { path: file, config: origin.config };
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    // plain Node (the installed, compiled CLI) imports .js/.mjs; a .ts module needs a loader
    const needsLoader = /\.[cm]?tsx?$/.test(file) && (err as NodeJS.ErrnoException)?.code === 'ERR_UNKNOWN_FILE_EXTENSION';
    const reason = needsLoader
      ? 'Node cannot import TypeScript without a loader: run the CLI with one, e.g. `NODE_OPTIONS="--import tsx" npx actorlog …` or `node --import tsx node_modules/.bin/actorlog …`, or pass a compiled .js/.mjs module'
      : ((err as Error)?.message ?? String(err));
    throw new ActorlogError('INVALID_OPTIONS', `cannot load ${where}: ${reason}`, { cause: err, details });
  }
  const chosen = 'machines' in mod ? 'machines' : isRecord(mod.default) ? 'default' : undefined;
  if (chosen !== undefined) {
    const record = mod[chosen];
    if (!isRecord(record)) {
      throw new ActorlogError('INVALID_OPTIONS', `${where}: its \`machines\` export is not a Record<string, machine>`, { details });
    }
    const invalid = Object.keys(record).filter((name) => !isMachine(record[name]));
    if (invalid.length > 0) {
      throw new ActorlogError('INVALID_OPTIONS', `${where}: not XState machines in its \`${chosen}\` export: ${invalid.join(', ')}`, {
        details: { ...details, invalid },
      });
    }
    return record as Record<string, AnyStateMachine>;
  }
  const named = Object.fromEntries(Object.entries(mod).filter(([name, value]) => name !== 'default' && isMachine(value))) as Record<string, AnyStateMachine>;
  if (Object.keys(named).length === 0) {
    const exported = Object.keys(mod);
    throw new ActorlogError(
      'INVALID_OPTIONS',
      `${where} exports no machine (${exported.length > 0 ? `its exports: ${exported.join(', ')}` : 'it exports nothing'}): export each machine by the name streams record (\`export const job = …\`), or \`machines\` (or a default) Record<string, machine>`,
      { details },
    );
  }
  return named;
}

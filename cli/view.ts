import { basename } from 'node:path';
import { isPostgresUrl, openLogCopy } from './openLog.ts';
import { redactUrl } from '../stores/postgres/errors.ts';
import { ExitCodes, type Out } from './output.ts';
import type { MachineRegistry } from './registry.ts';
import { ViewApi } from './view/api.ts';
import { loadAssets } from './view/assets.ts';
import { startViewServer, type ViewServer } from './view/server.ts';

/** Options of `actorlog view`. */
export interface ViewCommandOptions {
  /** The port on 127.0.0.1; 0 or absent: a free one. */
  port?: number;
  /** Fold streams even when the registered machine's definition hash differs from the logged one. */
  ignoreHash?: boolean;
  /** How often to look for events other processes append (ms). @default 200 */
  pollInterval?: number;
}

/** The process hooks `view` waits on; tests may pass their own. */
export interface ViewSignals {
  once(signal: 'SIGINT' | 'SIGTERM', handler: () => void): unknown;
  off(signal: 'SIGINT' | 'SIGTERM', handler: () => void): unknown;
}

/**
 * Starts the viewer of a log, opened read-only, on 127.0.0.1 (see {@link startViewServer}) and
 * returns it running; the caller closes it, then the store.
 *
 * @throws ActorlogError `STORE_UNAVAILABLE`, `SCHEMA_VERSION` (at open); the listen error (`EADDRINUSE`)
 * @example
 * ```ts
 * const { url, close } = await openViewer('./actorlog.db', createRegistry(), { port: 0 });
 * ```
 */
export async function openViewer(dbPath: string, registry: MachineRegistry, options: ViewCommandOptions = {}): Promise<ViewServer> {
  const log = await openLogCopy(dbPath);
  const store = log.store;
  try {
    const api = new ViewApi(store, registry, { ignoreHash: options.ignoreHash });
    const viewer = await startViewServer(store, { api, assets: loadAssets(), db: isPostgresUrl(dbPath) ? redactUrl(dbPath) : basename(dbPath), port: options.port, pollIntervalMs: options.pollInterval });
    return { ...viewer, close: async () => (await viewer.close(), await log.close()) };
  } catch (err) {
    await log.close();
    throw err;
  }
}

/**
 * `actorlog view <db> [--port N]`: serves the offline viewer of a log on 127.0.0.1 and prints its URL
 * (`actorlog view: http://127.0.0.1:PORT/ (log <db>, Ctrl-C stops)`); runs until SIGINT or SIGTERM.
 * The page and every asset come from the package (dist/viewer), nothing from a network.
 *
 * @returns a promise of the exit code (0) once stopped
 * @throws ActorlogError `STORE_UNAVAILABLE`, `SCHEMA_VERSION`; the listen error (`EADDRINUSE`)
 * @example
 * ```sh
 * npx actorlog view actorlog.db --port 4800
 * ```
 */
export async function runView(dbPath: string, registry: MachineRegistry, options: ViewCommandOptions, out: Out, signals: ViewSignals = process): Promise<number> {
  const viewer = await openViewer(dbPath, registry, options);
  out.write(`actorlog view: ${viewer.url} (log ${dbPath}, Ctrl-C stops)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      signals.off('SIGINT', stop);
      signals.off('SIGTERM', stop);
      resolve();
    };
    signals.once('SIGINT', stop);
    signals.once('SIGTERM', stop);
  });
  await viewer.close();
  return ExitCodes.OK;
}

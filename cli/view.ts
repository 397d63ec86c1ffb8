import { basename } from 'node:path';
import { redactUrl } from '../stores/postgres/errors.ts';
import { isPostgresUrl, openLog } from './openLog.ts';
import { Command } from 'commander';
import { ignoreHashOption, machinesOption, type CommandContext } from './command.ts';
import { logFile } from './config.ts';
import { ExitCodes, parseCount, parsePositive, type Out } from './output.ts';
import type { MachineRegistry } from './registry.ts';
import type { RegistryRecipe } from './registryRecipe.ts';
import { ViewApi } from './view/api.ts';
import { loadAssets } from './view/assets.ts';
import { startViewServer, type ViewServer } from './view/server.ts';
import { StreamListing } from './view/streamList.ts';
import type { StreamReads } from './view/streamReads.ts';
import { WorkerReads } from './view/workerReads.ts';

/** Options of `actorlog view`. */
export interface ViewCommandOptions {
  /** The port on 127.0.0.1; 0 or absent: a free one. */
  port?: number;
  /** Fold streams even when the registered machine's definition hash differs from the logged one. */
  ignoreHash?: boolean;
  /** How often to look for events other processes append (ms). @default 200 */
  pollInterval?: number;
  /**
   * How `registry` was made: given, the folds run in a worker thread that makes the same registry
   * (so a long fold never holds up the server); absent, they run in the server's thread with `registry`.
   */
  recipe?: RegistryRecipe;
  /** Where refused requests are told (a stranger `Host`, too many live clients, a client too slow to send its request). */
  err?: Out;
  /** Most live (`/api/live`) clients at once. @default 32 */
  maxLiveClients?: number;
  /** A client must send its request head within this time (ms). @default 10000 */
  headersTimeoutMs?: number;
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
  const log = await openLog(dbPath);
  const store = log.store;
  const workers = options.recipe ? new WorkerReads({ db: dbPath, registry: options.recipe, ignoreHash: options.ignoreHash }) : undefined;
  const reads: StreamReads = workers ?? new ViewApi(store, registry, { ignoreHash: options.ignoreHash });
  const assets = loadAssets();
  // the workers and the page's build start now, not on the first request that needs them
  workers?.warm();
  assets.get('/index.html').catch(() => undefined); // a failed build is reported by the request that needs it
  try {
    const viewer = await startViewServer(store, {
      listing: new StreamListing(store),
      reads,
      assets,
      db: isPostgresUrl(dbPath) ? redactUrl(dbPath) : basename(dbPath),
      port: options.port,
      pollIntervalMs: options.pollInterval,
      maxLiveClients: options.maxLiveClients,
      headersTimeoutMs: options.headersTimeoutMs,
      onRefused: (line) => options.err?.write(`actorlog view: ${line}\n`),
    });
    return { ...viewer, close: async () => (await viewer.close(), await reads.close(), await log.close()) };
  } catch (err) {
    await reads.close();
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
export async function runView(
  dbPath: string,
  registry: MachineRegistry,
  options: ViewCommandOptions,
  out: Out,
  signals: ViewSignals = process,
): Promise<number> {
  const viewer = await openViewer(dbPath, registry, { err: out, ...options });
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

/** `actorlog view [db] [--port N] [--machines m] [--ignore-hash] [--poll-interval ms]`: its arguments, options and help. */
export function viewCommand(ctx: CommandContext): Command {
  return new Command('view')
    .description(
      'serve an offline viewer of a log in the browser (127.0.0.1): streams and how they ended, statecharts of the whole actor tree, messages between actors, timelines, snapshots, the service at any position',
    )
    .argument('[db]', "the log file (an exported .actorlog too) or postgres:// URL (default: the config's db)")
    .option('--port <n>', 'the port on 127.0.0.1 (default: a free port)', parseCount)
    .addOption(machinesOption())
    .addOption(ignoreHashOption('fold streams'))
    .option('--poll-interval <ms>', 'how often to look for events other processes append', parsePositive, 200)
    .action(async (db: string | undefined, opts: ViewCommandOptions & { machines?: string }) => {
      const loaded = await ctx.config();
      const registry = await ctx.registry(opts.machines);
      ctx.result.code = await runView(logFile(db, loaded), registry, { ...opts, recipe: ctx.recipe(opts.machines), err: ctx.io.err }, ctx.io.out);
    });
}

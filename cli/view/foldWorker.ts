/**
 * The worker thread of `actorlog view` (started by cli/view/workerReads.ts): it opens the log
 * read-only itself, builds the machine registry from the same config and `--machines` module as
 * the CLI, and answers the server's {@link StreamReads} calls with a `ViewApi`, so the folds (a deep
 * first visit into a long stream folds tens of thousands of events) never run on the server's thread.
 * Messages: `{ id, call, args }` in, `{ id, result }` or `{ id, error: { code, message } }` out.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { describeError, isActorlogError } from '../../src/errors.ts';
import { openLog } from '../openLog.ts';
import { registryFromRecipe, type RegistryRecipe } from '../registryRecipe.ts';
import { ViewApi } from './api.ts';
import { READ_CALLS, type ReadCall } from './streamReads.ts';

/** What the server hands the worker. */
export interface FoldWorkerData {
  /** The log: a SQLite file (opened read-only) or a `postgres://` URL. */
  db: string;
  registry: RegistryRecipe;
  ignoreHash?: boolean;
}

const data = workerData as FoldWorkerData;
const log = await openLog(data.db);
const api = new ViewApi(log.store, await registryFromRecipe(data.registry), { ignoreHash: data.ignoreHash });

parentPort!.on('message', (message: { id: number; call: ReadCall; args: unknown[] }) => {
  const { id, call, args } = message;
  const run = READ_CALLS.includes(call) ? (api[call] as (...a: unknown[]) => Promise<unknown>).apply(api, args) : Promise.reject(new Error(`no call ${call}`));
  run.then(
    (result) => parentPort!.postMessage({ id, result }),
    (err: unknown) => parentPort!.postMessage({ id, error: { code: isActorlogError(err) ? err.code : 'INTERNAL', message: describeError(err).message } }),
  );
});
parentPort!.postMessage({ ready: true });

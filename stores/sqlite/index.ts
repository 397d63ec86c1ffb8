import { ActorlogError } from '../../src/errors.ts';
import { openConnection } from './connection.ts';
import { SqliteStore } from './store.ts';
import { DEFAULT_VERSION_CACHE_SIZE } from './versionCache.ts';
import { resolveKeepSnapshots } from '../../src/log/keepSnapshots.ts';

export { SqliteStore } from './store.ts';
export { SCHEMA_VERSION } from './schema.ts';

export { DEFAULT_KEEP_SNAPSHOTS } from '../../src/log/keepSnapshots.ts';
export { DEFAULT_VERSION_CACHE_SIZE };

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * `PRAGMA synchronous`. `NORMAL`: in WAL mode a commit is durable against a process crash, and a
   * power loss may lose the last commits (never corrupts). `FULL`: every commit is fsynced.
   * @default 'NORMAL'
   */
  synchronous?: 'NORMAL' | 'FULL';
  /** How long a write waits for another process's lock before failing (ms). @default 5000 */
  busyTimeoutMs?: number;
  /**
   * Opens an existing file read-only (for the CLI: `streams`, `replay`, `tail`): never creates,
   * migrates or writes it; every write throws `STORE_UNAVAILABLE`. A file in WAL mode in a directory
   * this process cannot write (SQLite cannot create its -shm) is opened with `immutable=1` instead:
   * no locks, the file as it stood at open, no later change seen (`store.immutable` tells). If its
   * -wal file still holds commits (a writer is running or crashed), that is refused with
   * `STORE_UNAVAILABLE`. @default false
   */
  readonly?: boolean;
  /**
   * How many snapshots to keep per stream: each `saveSnapshot` deletes, in the same transaction, the
   * stream's snapshots below its `keepSnapshots` highest versions. `0` or `Infinity` keeps them all.
   * Recovery and `verifyReplay` use the kept ones (fewer kept: less disk, and verification of the
   * latest stretch only). @default 10
   */
  keepSnapshots?: number;
  /**
   * How many streams' versions the append path keeps in memory (the least recently written are
   * dropped first; a dropped stream costs one version read on its next append). @default 4096
   */
  versionCacheSize?: number;
}

/** Validates an option that is a count: a non-negative integer (`min` and up), or `Infinity` when allowed. */
function count(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (Number.isInteger(value) && value >= min) return value;
  throw new ActorlogError('INVALID_OPTIONS', `${name} must be an integer >= ${min}, not ${String(value)}`, {
    details: { [name]: value },
  });
}

/**
 * Opens (creating when missing, mode 0600) a SQLite log file and returns its store. Sets WAL, the
 * `synchronous` level and a busy timeout, and migrates the schema (`PRAGMA user_version`).
 * `':memory:'` opens a private in-memory database (no WAL; for tests).
 *
 * @param path the log file; its `-wal` and `-shm` companions live next to it (also 0600)
 * A read-write open refuses an existing file that is not an actorlog log (user_version 0 with any
 * table, or other tables, or another `application_id`) and leaves it unchanged: no table added, no
 * WAL switch. An existing log file is set to mode 0600 (when this process may change its mode).
 *
 * @param options `synchronous` (default `'NORMAL'`), `busyTimeoutMs` (ms, default 5000), `readonly`,
 *   `keepSnapshots` (default 10; 0 or `Infinity`: all), `versionCacheSize` (streams, default 4096)
 * @throws ActorlogError `STORE_UNAVAILABLE` when the file cannot be created or opened, is not an
 *   actorlog log (details `{ path, kind: 'foreign' }`), or is missing in read-only mode;
 *   `SCHEMA_VERSION` when the file was written by a newer actorlog; `INVALID_OPTIONS` for a bad count
 * @example
 * ```ts
 * import { openSqliteStore } from 'actorlog/stores/sqlite';
 * const store = openSqliteStore('./actorlog.db', { keepSnapshots: 5 });
 * store.createStream({ streamId: 'job-1', machine: { name: 'job', hash: 'ab12' }, input: {}, createdAt: Date.now() });
 * store.append('job-1', 0, [{ type: 'submit', data: { prompt: 'hi' }, meta: { source: 'external', recordedAt: Date.now() } }]);
 * store.close();
 * ```
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  const readonly = options.readonly ?? false;
  const keepSnapshots = resolveKeepSnapshots(options.keepSnapshots);
  const versionCacheSize = count('versionCacheSize', options.versionCacheSize, DEFAULT_VERSION_CACHE_SIZE, 1);
  const { db, immutable } = openConnection(path, {
    synchronous: options.synchronous ?? 'NORMAL',
    busyTimeoutMs: options.busyTimeoutMs ?? 5000,
    readonly,
  });
  return new SqliteStore(path, db, { readonly, immutable, keepSnapshots, versionCacheSize });
}

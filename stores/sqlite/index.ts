import { openConnection } from './connection.ts';
import { SqliteStore } from './store.ts';

export { SqliteStore } from './store.ts';
export { SCHEMA_VERSION } from './schema.ts';

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
   * Opens an existing file read-only (for the CLI: `streams`, `replay`, `tail`): never creates or
   * migrates it; every write throws `STORE_UNAVAILABLE`. @default false
   */
  readonly?: boolean;
}

/**
 * Opens (creating when missing, mode 0600) a SQLite log file and returns its store. Sets WAL, the
 * `synchronous` level and a busy timeout, and migrates the schema (`PRAGMA user_version`).
 * `':memory:'` opens a private in-memory database (no WAL; for tests).
 *
 * @param path the log file; its `-wal` and `-shm` companions live next to it (also 0600)
 * @param options `synchronous` (default `'NORMAL'`), `busyTimeoutMs` (ms, default 5000), `readonly`
 * @throws ActorlogError `STORE_UNAVAILABLE` when the file cannot be created or opened, or is missing
 *   in read-only mode; `SCHEMA_VERSION` when the file was written by a newer actorlog
 * @example
 * ```ts
 * import { openSqliteStore } from 'actorlog/stores/sqlite';
 * const store = openSqliteStore('./actorlog.db');
 * store.createStream({ streamId: 'job-1', machine: { name: 'job', hash: 'ab12' }, input: {}, createdAt: Date.now() });
 * store.append('job-1', 0, [{ type: 'submit', data: { prompt: 'hi' }, meta: { source: 'external', recordedAt: Date.now() } }]);
 * store.close();
 * ```
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  const readonly = options.readonly ?? false;
  const db = openConnection(path, {
    synchronous: options.synchronous ?? 'NORMAL',
    busyTimeoutMs: options.busyTimeoutMs ?? 5000,
    readonly,
  });
  return new SqliteStore(path, db, readonly);
}

import { openSqliteStore, type SqliteStore } from '../../../stores/sqlite/index.ts';

/**
 * Reads the SQLite log at `path` as another process would: `read` gets a new read-only connection,
 * closed once what `read` returns has settled (whether it threw or not). For looking at the log a
 * child process writes, or wrote before it was killed.
 * @returns what `read` returned (awaited)
 * @example
 * ```ts
 * expect(await readLog(db.path, (store) => verifyReplay(store, jobMachine, 'job-1'))).toMatchObject({ ok: true });
 * ```
 */
export async function readLog<T>(path: string, read: (store: SqliteStore) => T | Promise<T>): Promise<T> {
  const store = openSqliteStore(path, { readonly: true });
  try {
    return await read(store);
  } finally {
    store.close();
  }
}

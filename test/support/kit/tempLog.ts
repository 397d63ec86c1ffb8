import { afterAll, onTestFinished } from 'vitest';
import { openSqliteStore, type SqliteStore, type SqliteStoreOptions } from '../../../stores/sqlite/index.ts';
import { tempDb } from '../tempDb.ts';

/** A temporary SQLite log file of the current test (see {@link tempLog}). */
export interface TempLog {
  dir: string;
  path: string;
  /** A new connection to the file (a "process"), closed when the test ends. */
  open(options?: SqliteStoreOptions): SqliteStore;
}

/**
 * A fresh SQLite log file for the test that calls it: every connection `open()` made is closed, and
 * the directory deleted, when that test ends (vitest `onTestFinished`), whether it passed or not.
 * Call it inside a test (or a helper a test calls).
 */
export function tempLog(name?: string): TempLog {
  return temporary(name, onTestFinished);
}

/**
 * A fresh SQLite log file for a whole test file (or `describe` block): call it at that scope. Every
 * connection `open()` made is closed, and the directory deleted, after all its tests (vitest
 * `afterAll`, registered first so that it runs after the file's own `afterAll` hooks).
 */
export function suiteLog(name?: string): TempLog {
  return temporary(name, afterAll);
}

function temporary(name: string | undefined, after: (hook: () => void) => void): TempLog {
  const t = tempDb(name);
  const opened: SqliteStore[] = [];
  after(() => {
    for (const store of opened.splice(0).reverse()) store.close();
    t.cleanup();
  });
  return {
    dir: t.dir,
    path: t.path,
    open(options) {
      const store = openSqliteStore(t.path, options);
      opened.push(store);
      return store;
    },
  };
}

/** One connection to a fresh SQLite log file, closed and deleted when the current test ends. */
export function tempStore(options?: SqliteStoreOptions): SqliteStore {
  return tempLog().open(options);
}

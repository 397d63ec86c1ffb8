import { afterEach } from 'vitest';
import type { LogStore } from '../../src/log/types.ts';
import { createMemoryStore } from '../../stores/memory.ts';
import { openPostgresStore } from '../../stores/postgres/index.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { usePostgresDatabase } from './postgresDatabase.ts';
import { tempDb } from './tempDb.ts';

/** The stores a runtime test runs on: memory and SQLite (answers at once), PostgreSQL (asynchronous, a real server). */
export const STORE_KINDS = ['memory', 'sqlite', 'postgres'] as const;

/** A fresh log; `reopen()` opens another connection to it (a new process after a crash; the same store on memory). */
export interface TestLog {
  store: LogStore;
  reopen(): Promise<LogStore>;
}

/**
 * Logs of each store kind for the tests of one file: call it at the top of the file (it registers
 * the file's PostgreSQL database and an `afterEach`). `openLog(kind)` gives a fresh log (a temporary
 * SQLite file, a new PostgreSQL schema named `<prefix>_<n>_<pid>`); `afterTest(fn)` runs `fn` after
 * the current test. After each test, what was registered is closed in reverse order and the files
 * are deleted.
 * @example
 * ```ts
 * const { openLog, afterTest } = useStoreLogs('rt');
 * describe.each(STORE_KINDS)('on %s', (kind) => it('…', async () => { const log = await openLog(kind); … }));
 * ```
 */
export function useStoreLogs(prefix: string): { openLog: (kind: string) => Promise<TestLog>; afterTest: (fn: () => unknown) => void } {
  const database = usePostgresDatabase();
  let schemas = 0;
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const afterTest = (fn: () => unknown) => {
    cleanups.push(fn);
  };

  async function openLog(kind: string): Promise<TestLog> {
    if (kind === 'memory') {
      const store = createMemoryStore();
      return { store, reopen: async () => store };
    }
    if (kind === 'sqlite') {
      const t = tempDb();
      afterTest(t.cleanup);
      const open = async () => {
        const s = openSqliteStore(t.path);
        afterTest(() => s.close());
        return s;
      };
      return { store: await open(), reopen: open };
    }
    const schema = `${prefix}_${++schemas}_${process.pid}`;
    const open = async () => {
      const s = await openPostgresStore(database().url, { schema, leaseMs: 60_000 });
      afterTest(() => s.close());
      return s;
    };
    return { store: await open(), reopen: open };
  }
  return { openLog, afterTest };
}

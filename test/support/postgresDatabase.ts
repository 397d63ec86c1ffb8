import { afterAll, beforeAll, inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from './postgres.ts';

/**
 * The database of the calling test file, made in its `beforeAll` and dropped in its `afterAll`.
 * Returns a getter: when the server cannot start (binaries missing, a failed initdb), every test that
 * calls it FAILS with the reason, one by one; none is skipped.
 *
 * @example
 * ```ts
 * const database = usePostgresDatabase();
 * it('appends', async () => { const store = await openPostgresStore(database().url, { schema: 't1' }); … });
 * ```
 */
export function usePostgresDatabase(): () => TestDatabase {
  let db: TestDatabase | undefined;
  let failure: Error | undefined;
  beforeAll(async () => {
    try {
      db = await createTestDatabase(inject('postgresHarness'));
    } catch (err) {
      failure = err as Error;
    }
  });
  afterAll(async () => {
    await db?.drop();
  });
  return () => {
    if (db !== undefined) return db;
    throw new Error(`no PostgreSQL test database: ${failure?.message ?? 'beforeAll has not run'}`, { cause: failure });
  };
}

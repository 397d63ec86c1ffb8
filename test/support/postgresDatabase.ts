import pg from 'pg';
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

/**
 * A client of the test file's database (see {@link usePostgresDatabase}), for looking under a store:
 * its schemas and rows. Connected in `beforeAll`, ended in `afterAll`. Returns a getter: when the
 * server could not start, it throws the reason, so each test that uses it fails on its own.
 *
 * @example
 * ```ts
 * const database = usePostgresDatabase();
 * const admin = usePostgresAdmin(database);
 * it('migrates', async () => { expect((await admin().query('SELECT version FROM s.schema_migrations')).rows).toHaveLength(3); });
 * ```
 */
export function usePostgresAdmin(database: () => TestDatabase): () => pg.Client {
  let client: pg.Client | undefined;
  beforeAll(async () => {
    let url: string;
    try {
      url = database().url;
    } catch {
      return; // no server: each test fails on its own call of the getter, with the reason
    }
    client = new pg.Client({ connectionString: url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
  });
  return () => {
    database(); // throws the reason when there is no server
    if (client === undefined) throw new Error('no PostgreSQL admin client: beforeAll has not run');
    return client;
  };
}

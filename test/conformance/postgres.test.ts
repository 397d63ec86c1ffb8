import { afterAll, beforeAll, inject } from 'vitest';
import { openPostgresStore } from '../../stores/postgres/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { storeConformance } from './storeConformance.ts';

let db: TestDatabase;
let n = 0;

beforeAll(async () => {
  db = await createTestDatabase(inject('postgresHarness'));
});
afterAll(async () => {
  await db?.drop();
});

// a fresh schema per store: the suite's stores are empty and apart, on one database of the shared server
storeConformance('postgres', (options) => openPostgresStore(db.url, { ...options, schema: `conformance_${++n}` }));

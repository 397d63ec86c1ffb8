import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isActorlogError } from '../../src/errors.ts';
import { openPostgresStore, SCHEMA_VERSION } from '../../stores/postgres/index.ts';
import { usePostgresAdmin, usePostgresDatabase } from '../support/postgresDatabase.ts';
import { expectCode } from '../conformance/store/fixtures.ts';

// What the PostgreSQL store does beyond the shared contract: opening (migrations, schema versions,
// options), the application's pool, errors without SQL text or secrets.

const machine = { name: 'job', hash: 'c0ffee' };
const database = usePostgresDatabase();
const admin = usePostgresAdmin(database);

describe('postgres store', () => {
  it('creates its schema with the versioned migrations once; two stores opening it at once both succeed', async () => {
    const [a, b] = await Promise.all([openPostgresStore(database().url, { schema: 'twice' }), openPostgresStore(database().url, { schema: 'twice' })]);
    const { rows } = await admin().query<{ version: number }>('SELECT version FROM twice.schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    await a.createStream({ streamId: 's', machine, input: null, createdAt: 1 });
    expect(await b.getStream('s')).toMatchObject({ streamId: 's', version: 0 });
    await a.close();
    await b.close();
  });

  it('refuses a schema written by a newer actorlog: SCHEMA_VERSION, nothing changed', async () => {
    await (await openPostgresStore(database().url, { schema: 'newer' })).close();
    await admin().query('INSERT INTO newer.schema_migrations (version) VALUES ($1)', [SCHEMA_VERSION + 1]);
    await expectCode(() => openPostgresStore(database().url, { schema: 'newer' }), 'SCHEMA_VERSION', { found: SCHEMA_VERSION + 1, known: SCHEMA_VERSION });
  });

  it('INVALID_OPTIONS for a schema name that is not a plain identifier, and for bad numbers', async () => {
    await expectCode(() => openPostgresStore(database().url, { schema: 'x"; DROP TABLE y; --' }), 'INVALID_OPTIONS');
    await expectCode(() => openPostgresStore(database().url, { schema: 'Upper' }), 'INVALID_OPTIONS');
    await expectCode(() => openPostgresStore(database().url, { leaseMs: 0 }), 'INVALID_OPTIONS', { leaseMs: 0 });
    await expectCode(() => openPostgresStore(database().url, { pollIntervalMs: 1.5 }), 'INVALID_OPTIONS');
    await expectCode(() => openPostgresStore(database().url, { keepSnapshots: -1 }), 'INVALID_OPTIONS');
  });

  it("uses the application's pool and leaves it open on close", async () => {
    const pool = new pg.Pool({ connectionString: database().url, max: 3 });
    try {
      const store = await openPostgresStore(pool, { schema: 'app_pool' });
      await store.createStream({ streamId: 's', machine, input: null, createdAt: 1 });
      await store.close();
      await expectCode(() => store.getStream('s'), 'STORE_UNAVAILABLE');
      const { rows } = await pool.query('SELECT count(*)::int AS n FROM app_pool.streams');
      expect(rows[0].n).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it('a server it cannot reach: STORE_UNAVAILABLE, and the password of the URL is in no message', async () => {
    const secret = 's3cret-pa55word';
    const err = await expectCode(() => openPostgresStore(`postgres://app:${secret}@127.0.0.1:1/nowhere`), 'STORE_UNAVAILABLE');
    expect(err.message).not.toContain(secret);
    expect(JSON.stringify(err.details ?? {})).not.toContain(secret);
    expect(err.cause).toBeDefined();
  });

  it('wraps PostgreSQL errors: a code, a plain message with the SQLSTATE, the pg error as cause, no SQL text', async () => {
    const store = await openPostgresStore(database().url, { schema: 'wrapped' });
    try {
      await admin().query('ALTER TABLE wrapped.events ADD CONSTRAINT tiny_type CHECK (length(type) < 5)');
      await store.createStream({ streamId: 's', machine, input: null, createdAt: 1 });
      const err = await expectCode(
        () => store.append('s', 0, [{ type: 'a-long-type', data: { secret: 'payload' }, meta: { source: 'external', recordedAt: 1 } }]),
        'APPEND_FAILED',
        {
          streamId: 's',
          pgCode: '23514',
        },
      );
      expect(err.message).toBe('could not append to stream s: PostgreSQL error 23514');
      expect(err.message).not.toMatch(/INSERT|UPDATE|SELECT|payload/);
      expect((err.cause as { code?: string }).code).toBe('23514');
      expect(isActorlogError(err)).toBe(true);
      expect(await store.readStream('s')).toEqual([]);
      expect((await store.getStream('s'))!.version).toBe(0); // the UPDATE of the same statement was undone
    } finally {
      await store.close();
    }
  });

  it('records the writing transaction of every event, one id per batch', async () => {
    const store = await openPostgresStore(database().url, { schema: 'txids' });
    try {
      for (const id of ['a', 'b']) await store.createStream({ streamId: id, machine, input: null, createdAt: 1 });
      const e = { type: 't', data: {}, meta: { source: 'external' as const, recordedAt: 1 } };
      await store.appendBatch([
        { streamId: 'a', expectedVersion: 0, events: [e, e] },
        { streamId: 'b', expectedVersion: 0, events: [e] },
      ]);
      await store.append('a', 2, [e]);
      const tx = (await store.readAll()).map((r) => (r as { transactionId?: string }).transactionId!);
      expect(tx[0]).toMatch(/^\d+$/);
      expect(new Set(tx.slice(0, 3)).size).toBe(1);
      expect(BigInt(tx[3]!)).toBeGreaterThan(BigInt(tx[0]!));
    } finally {
      await store.close();
    }
  });
});

import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventRecord, NewEvent } from '../../src/log/types.ts';
import { appendToStream } from '../../stores/postgres/appendToStream.ts';
import { NO_OWNER } from '../../stores/postgres/fence.ts';
import { openPostgresStore, type PostgresStore } from '../../stores/postgres/index.ts';
import { usePostgresDatabase } from '../support/postgresDatabase.ts';
import { cursorOf, until } from '../conformance/store/fixtures.ts';

// The gap case of a log whose positions are assigned before commit: a slow transaction holds a lower
// global position while a fast one commits a higher one. A reader that went by position alone would
// deliver the fast event and never the slow one. The store's readers deliver only transactions older
// than every one still open (xid8 horizon), in (transaction id, global position) order.

const machine = { name: 'job', hash: 'c0ffee' };
const ev = (type: string): NewEvent => ({ type, data: { type }, meta: { source: 'external', recordedAt: 1 } });

const database = usePostgresDatabase();
let schemaN = 0;
const cleanup: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A pool whose log reads (the statements that take the horizon) are counted. */
function countingPool(): { pool: pg.Pool; reads: () => number } {
  const pool = new pg.Pool({ connectionString: database().url, max: 4 });
  let reads = 0;
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  (pool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('pg_snapshot_xmin')) reads++;
    return query(...args);
  };
  cleanup.push(() => pool.end());
  return { pool, reads: () => reads };
}

/** Two stores on one fresh schema (a writer and a reader, each with its own pool) and a raw client for the slow transaction. */
async function setup() {
  const schema = `gap_${++schemaN}`;
  const writer = await openPostgresStore(database().url, { schema, pollIntervalMs: 50 });
  const readerPool = countingPool();
  const reader = await openPostgresStore(readerPool.pool, { schema, pollIntervalMs: 50 });
  const slow = new pg.Client({ connectionString: database().url });
  await slow.connect();
  cleanup.push(
    () => writer.close(),
    () => reader.close(),
    () => slow.end(),
  );
  for (const id of ['slow', 'fast']) await writer.createStream({ streamId: id, machine, input: null, createdAt: 1 });
  return { writer, reader, readerReads: readerPool.reads, slow, S: `"${schema}"` };
}

/** Subscribes and collects. */
function collect(store: PostgresStore, after?: number | { transactionId: string; globalPosition: number }) {
  const received: EventRecord[] = [];
  const subscription = store.subscribe(after === undefined ? {} : { after }).subscribe((r) => received.push(r));
  cleanup.push(() => subscription.unsubscribe());
  return received;
}

const summary = (records: EventRecord[]) => records.map((r) => `${r.streamId}@${r.globalPosition}`);

describe('postgres: the gap of a slow transaction', () => {
  it('a live subscriber and readAll deliver both events, the slow one first, neither twice, never skipping it', async () => {
    const { writer, reader, readerReads, slow, S } = await setup();
    const received = collect(reader);

    await slow.query('BEGIN');
    const held = await appendToStream(slow, S, NO_OWNER, 'slow', 0, [ev('slow')], true); // takes position 1, not committed
    expect(held.result.lastGlobalPosition).toBe(1);
    const fast = await writer.append('fast', 0, [ev('fast')]); // position 2, committed
    expect(fast.lastGlobalPosition).toBe(2);

    // the fast event is committed but belongs to a transaction younger than the open slow one: hidden
    expect(await reader.readAll()).toEqual([]);
    const polls = readerReads();
    await until(() => readerReads() >= polls + 3, 'the subscriber polled while the slow transaction was open');
    expect(received).toEqual([]);

    await slow.query('COMMIT');
    await until(() => received.length >= 2, 'both delivered');
    expect(summary(received)).toEqual(['slow@1', 'fast@2']);
    expect(summary(await reader.readAll())).toEqual(['slow@1', 'fast@2']);

    await writer.append('fast', 1, [ev('marker')]);
    await until(() => received.length >= 3, 'the marker delivered');
    expect(summary(received)).toEqual(['slow@1', 'fast@2', 'fast@3']);
  });

  it('delivers by commit-safe order, not by position: a transaction that started first is delivered first, even with a higher position', async () => {
    const { writer, reader, slow, S } = await setup();
    const received = collect(reader);

    await slow.query('BEGIN');
    await slow.query('SELECT pg_current_xact_id()'); // the slow transaction takes its id first…
    const fast = await writer.append('fast', 0, [ev('fast')]); // …the fast one takes position 1 and commits
    const held = await appendToStream(slow, S, NO_OWNER, 'slow', 0, [ev('slow')], true); // position 2
    expect([fast.lastGlobalPosition, held.result.lastGlobalPosition]).toEqual([1, 2]);
    expect(await reader.readAll()).toEqual([]);
    await slow.query('COMMIT');

    await until(() => received.length >= 2, 'both delivered');
    expect(summary(received)).toEqual(['slow@2', 'fast@1']);
    const all = await reader.readAll();
    expect(summary(all)).toEqual(['slow@2', 'fast@1']);
    // a number cursor past the slow event's position would skip fast@1; the LogCursor resumes exactly
    expect(summary(await reader.readAll({ after: cursorOf(all[0]!) }))).toEqual(['fast@1']);
    const resumed = collect(reader, cursorOf(all[0]!));
    await writer.append('fast', 1, [ev('marker')]);
    await until(() => resumed.length >= 2, 'resumed and live');
    expect(summary(resumed)).toEqual(['fast@1', 'fast@3']);
  });

  it('a rolled-back slow transaction leaves nothing to wait for: the reader moves on at once, no timeout', async () => {
    const { writer, reader, slow, S } = await setup();
    const received = collect(reader);
    await slow.query('BEGIN');
    await appendToStream(slow, S, NO_OWNER, 'slow', 0, [ev('phantom')], true); // position 1
    await writer.append('fast', 0, [ev('fast')]); // position 2
    await slow.query('ROLLBACK');
    await until(() => received.length >= 1, 'the fast event delivered');
    await writer.append('slow', 0, [ev('after')]);
    await until(() => received.length >= 2, 'the next delivered');
    expect(received.map((r) => r.type)).toEqual(['fast', 'after']);
    expect((await reader.readAll()).map((r) => r.type)).toEqual(['fast', 'after']);
  });

  it("the writer's own readAll waits for the older open transaction rather than return a log without its own write", async () => {
    const { pool, reads } = countingPool();
    const schema = `gap_${++schemaN}`;
    const writer = await openPostgresStore(pool, { schema });
    cleanup.push(() => writer.close());
    for (const id of ['slow', 'fast']) await writer.createStream({ streamId: id, machine, input: null, createdAt: 1 });
    const slow = new pg.Client({ connectionString: database().url });
    await slow.connect();
    cleanup.push(() => slow.end());

    await slow.query('BEGIN');
    await appendToStream(slow, `"${schema}"`, NO_OWNER, 'slow', 0, [ev('slow')], true);
    await writer.append('fast', 0, [ev('fast')]);
    let done = false;
    const pending = writer.readAll().then((records) => ((done = true), records));
    const before = reads();
    await until(() => reads() >= before + 3, 'readAll retried while its own write was behind the horizon');
    expect(done).toBe(false);
    await slow.query('COMMIT');
    expect(summary(await pending)).toEqual(['slow@1', 'fast@2']);
  });
});

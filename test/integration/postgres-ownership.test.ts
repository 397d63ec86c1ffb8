import pg from 'pg';
import { firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/log/types.ts';
import { openPostgresStore, type PostgresStore, type PostgresStoreOptions } from '../../stores/postgres/index.ts';
import { usePostgresAdmin, usePostgresDatabase } from '../support/postgresDatabase.ts';
import { until } from '../support/kit/index.ts';
import { expectCode } from '../conformance/store/fixtures.ts';

// Ownership of streams by node incarnations, on a real server: two to four stores on one schema
// play the nodes. The test that needs a lease to expire uses 300 ms and waits until the database
// clock says so (never a fixed sleep of its own); the others use a lease that cannot expire during
// the test, so a slow machine cannot change their outcome.

const LEASE_LOST = 'LEASE_LOST';
const SHORT_LEASE_MS = 300;
const LONG_LEASE_MS = 600_000;
const machine = { name: 'job', hash: 'c0ffee' };
const ev = (type: string): NewEvent => ({ type, data: {}, meta: { source: 'external', recordedAt: 1 } });

const database = usePostgresDatabase();
const admin = usePostgresAdmin(database);
let schemaN = 0;
const opened: PostgresStore[] = [];

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});
/** `count` stores (nodes) on one fresh schema. */
async function nodes(count: number, options: PostgresStoreOptions = {}): Promise<{ stores: PostgresStore[]; schema: string }> {
  const schema = `own_${++schemaN}`;
  const stores: PostgresStore[] = [];
  for (let i = 0; i < count; i++) {
    const store = await openPostgresStore(database().url, { schema, leaseMs: LONG_LEASE_MS, nodeId: `node-${'abcdefgh'[i]}`, ...options });
    opened.push(store);
    stores.push(store);
  }
  return { stores, schema };
}

/** Waits until the database clock says `nodeId`'s heartbeat is older than the lease, renewing `keepAlive`'s lease meanwhile. */
async function leaseExpired(schema: string, nodeId: string, keepAlive?: PostgresStore): Promise<void> {
  const expired = async () =>
    (
      await admin().query<{ expired: boolean }>(
        `SELECT heartbeat_at < now() - $2 * interval '1 millisecond' AS expired FROM "${schema}".nodes WHERE node_id = $1`,
        [nodeId, SHORT_LEASE_MS],
      )
    ).rows[0]!.expired;
  while (!(await expired())) {
    await keepAlive?.ownership.heartbeat();
    await new Promise((r) => setTimeout(r, 25));
  }
  await keepAlive?.ownership.heartbeat();
}

/** `[version, owner_epoch]` of every event of a stream: which incarnation wrote each. */
async function writers(schema: string, streamId: string): Promise<Array<[number, number | null]>> {
  const { rows } = await admin().query<{ version: string; owner_epoch: string | null }>(
    `SELECT version, owner_epoch FROM "${schema}".events WHERE stream_id = $1 ORDER BY version`,
    [streamId],
  );
  return rows.map((r) => [Number(r.version), r.owner_epoch === null ? null : Number(r.owner_epoch)]);
}

describe('postgres ownership', () => {
  it('streams created by a registered node are its own; another node cannot claim them while its lease lives', async () => {
    const {
      stores: [a, b],
    } = await nodes(2);
    const { epoch } = await a!.ownership.register();
    await b!.ownership.register();
    await a!.createStream({ streamId: 's', machine, input: null, createdAt: 1 });
    expect(await b!.ownership.claimOrphans(10)).toEqual([]);
    await expectCode(() => b!.append('s', 0, [ev('intruder')]), LEASE_LOST, { streamId: 's', ownerNode: 'node-a', ownerEpoch: epoch, nodeId: 'node-b' });
    expect(await a!.append('s', 0, [ev('mine')])).toMatchObject({ nextVersion: 1 });
    expect((await a!.readStream('s')).map((r) => r.type)).toEqual(['mine']);
  });

  it("after A's lease expires, B claims A's streams; A's next append fails LEASE_LOST and writes nothing", async () => {
    const {
      stores: [a, b],
      schema,
    } = await nodes(2, { leaseMs: SHORT_LEASE_MS });
    const { epoch: epochA } = await a!.ownership.register();
    const { epoch: epochB } = await b!.ownership.register();
    for (const id of ['s1', 's2', 's3']) {
      await a!.createStream({ streamId: id, machine, input: null, createdAt: 1 });
      await a!.append(id, 0, [ev('by a')]);
    }
    await a!.setStreamStatus('s3', 'done', 2); // an ended stream is nobody's orphan

    await leaseExpired(schema, 'node-a', b); // B keeps its own lease meanwhile
    const claimed = await b!.ownership.claimOrphans(10);
    expect(claimed.map((s) => s.streamId)).toEqual(['s1', 's2']);
    expect(claimed[0]).toMatchObject({ streamId: 's1', version: 1, status: 'active' });

    await expectCode(() => a!.append('s1', 1, [ev('zombie')]), LEASE_LOST, { streamId: 's1', ownerNode: 'node-b', ownerEpoch: epochB });
    // one statement for several streams: refused as a whole, the first refused stream named
    await expectCode(
      () =>
        a!.appendBatch([
          { streamId: 's2', expectedVersion: 1, events: [ev('zombie')] },
          { streamId: 's1', expectedVersion: 1, events: [ev('zombie')] },
        ]),
      LEASE_LOST,
      { streamId: 's2' },
    );
    await expectCode(() => a!.setStreamStatus('s1', 'error', 3), LEASE_LOST);
    expect(await b!.append('s1', 1, [ev('by b')])).toMatchObject({ nextVersion: 2 });
    expect((await b!.readStream('s1')).map((r) => r.type)).toEqual(['by a', 'by b']);
    expect(await writers(schema, 's1')).toEqual([
      [1, epochA],
      [2, epochB],
    ]);
    expect(await b!.getStream('s1')).toMatchObject({ status: 'active', version: 2 });

    // A's own heartbeat now tells it: expired; it has no incarnation until it registers again
    const lost = await expectCode(() => a!.ownership.heartbeat(), LEASE_LOST, { nodeId: 'node-a', epoch: epochA, reason: 'expired' });
    expect(lost.message).toContain('expired');
    expect(a!.ownership.node).toBeUndefined();
  });

  it('an append waiting behind a takeover re-checks the new owner and inserts nothing (one fenced statement)', async () => {
    const {
      stores: [a, b],
      schema,
    } = await nodes(2);
    await a!.ownership.register();
    const { epoch: epochB } = await b!.ownership.register();
    await a!.createStream({ streamId: 's', machine, input: null, createdAt: 1 });
    await a!.append('s', 0, [ev('v1')]);

    // B's takeover holds the stream row locked in an open transaction
    const takeover = new pg.Client({ connectionString: database().url });
    await takeover.connect();
    try {
      await takeover.query('BEGIN');
      await takeover.query(`UPDATE "${schema}".streams SET owner_node = 'node-b', owner_epoch = $1 WHERE stream_id = 's'`, [epochB]);
      const pending = a!.append('s', 1, [ev('zombie')]).then(
        () => 'written',
        (err: unknown) => err,
      );
      await until(() => waitingOnLock(), "A's append waiting on the row lock", { timeoutMs: 30_000, everyMs: 10 });
      await takeover.query('COMMIT');
      expect(await pending).toMatchObject({ code: 'LEASE_LOST' });
    } finally {
      await takeover.end();
    }
    expect(await writers(schema, 's')).toHaveLength(1);
    expect(await b!.append('s', 1, [ev('v2 by b')])).toMatchObject({ nextVersion: 2 });
  });

  it('a superseded epoch loses its streams at once: the new incarnation claims them without waiting for the lease', async () => {
    const {
      stores: [old],
      schema,
    } = await nodes(1);
    const restarted = await openPostgresStore(database().url, { schema, leaseMs: LONG_LEASE_MS, nodeId: 'node-a' });
    opened.push(restarted);
    const { epoch: first } = await old!.ownership.register();
    await old!.createStream({ streamId: 's', machine, input: null, createdAt: 1 });
    await old!.append('s', 0, [ev('first life')]);

    const { epoch: second } = await restarted.ownership.register(); // the same node id, a new incarnation
    expect(second).toBeGreaterThan(first);
    const claimed = await restarted.ownership.claimOrphans(10);
    expect(claimed.map((s) => s.streamId)).toEqual(['s']);
    await expectCode(() => old!.append('s', 1, [ev('zombie')]), LEASE_LOST, { ownerEpoch: second, epoch: first });
    await expectCode(() => old!.ownership.heartbeat(), LEASE_LOST, { reason: 'superseded' });
    expect(await restarted.append('s', 1, [ev('second life')])).toMatchObject({ nextVersion: 2 });
    expect(await writers(schema, 's')).toEqual([
      [1, first],
      [2, second],
    ]);

    // the same store registering again also orphans what it owned under the old epoch
    const { epoch: third } = await restarted.ownership.register();
    await expectCode(() => restarted.append('s', 2, [ev('old epoch')]), LEASE_LOST, { ownerEpoch: second, epoch: third });
    expect((await restarted.ownership.claimOrphans(10)).map((s) => s.streamId)).toEqual(['s']);
    expect(await restarted.append('s', 2, [ev('third life')])).toMatchObject({ nextVersion: 3 });
  });

  it('claimOrphans under concurrency: three nodes claiming 60 orphans in batches, three rounds, never get one stream twice', async () => {
    const { stores, schema } = await nodes(4);
    const [creator, ...claimers] = stores;
    await creator!.ownership.register();
    const ids = Array.from({ length: 60 }, (_, i) => `s${String(i).padStart(2, '0')}`);
    for (const id of ids) await creator!.createStream({ streamId: id, machine, input: null, createdAt: 1 });
    await creator!.ownership.release(ids); // every stream an orphan at once
    for (const c of claimers) await c.ownership.register();

    for (let round = 1; round <= 3; round++) {
      const got = await Promise.all(
        claimers.map(async (c) => {
          const mine: string[] = [];
          for (;;) {
            const batch = await c.ownership.claimOrphans(7);
            expect(batch.length).toBeLessThanOrEqual(7);
            if (batch.length === 0) return mine;
            mine.push(...batch.map((s) => s.streamId));
          }
        }),
      );
      expect(got.flat().sort()).toEqual(ids); // each stream claimed exactly once, none left out
      const { rows } = await admin().query<{ stream_id: string; owner_node: string }>(`SELECT stream_id, owner_node FROM "${schema}".streams`);
      for (const [i, mine] of got.entries()) {
        const owner = claimers[i]!.ownership.node!.nodeId;
        expect(
          rows
            .filter((r) => r.owner_node === owner)
            .map((r) => r.stream_id)
            .sort(),
        ).toEqual([...mine].sort());
        await claimers[i]!.ownership.release(mine); // orphans again for the next round
      }
    }
  });

  it('release hands streams over at once; an unregistered store cannot write owned streams; a registered one refuses ended streams', async () => {
    const {
      stores: [a, b, plain],
    } = await nodes(3);
    await a!.ownership.register();
    await b!.ownership.register();
    await a!.createStream({ streamId: 's', machine, input: null, createdAt: 1 });
    await expectCode(() => plain!.append('s', 0, [ev('unregistered')]), LEASE_LOST, { nodeId: null });
    await a!.ownership.release(['s']);
    await expectCode(() => a!.append('s', 0, [ev('released')]), LEASE_LOST);
    expect((await b!.ownership.claimOrphans(5)).map((s) => s.streamId)).toEqual(['s']);
    await b!.append('s', 0, [ev('by b')]);
    await b!.setStreamStatus('s', 'done', 5);
    await expectCode(() => b!.append('s', 1, [ev('after the end')]), 'ACTOR_STOPPED', { streamId: 's', status: 'done' });
    expect(await b!.ownership.claimOrphans(5)).toEqual([]);
  });

  it('with heartbeatMs the store renews its lease itself, and reports on `lost` when a newer incarnation supersedes it', async () => {
    const {
      stores: [a],
      schema,
    } = await nodes(1, { heartbeatMs: 20 });
    const { epoch } = await a!.ownership.register();
    const beatAt = async () =>
      (await admin().query<{ at: Date }>(`SELECT heartbeat_at AS at FROM "${schema}".nodes WHERE node_id = 'node-a'`)).rows[0]!.at.getTime();
    const first = await beatAt();
    await until(async () => (await beatAt()) > first, 'the next heartbeat', { timeoutMs: 30_000, everyMs: 10 });
    const lost = firstValueFrom(a!.ownership.lost);
    const successor = await openPostgresStore(database().url, { schema, leaseMs: LONG_LEASE_MS, nodeId: 'node-a' });
    opened.push(successor);
    await successor.ownership.register();
    expect(await lost).toMatchObject({ code: 'LEASE_LOST', details: { nodeId: 'node-a', epoch, reason: 'superseded' } });
    expect(a!.ownership.node).toBeUndefined();
  });
});

/** Whether some session waits on a lock (the blocked append). */
async function waitingOnLock(): Promise<boolean> {
  const { rows } = await admin().query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`,
  );
  return Number(rows[0]!.n) > 0;
}

/** Waits until an async condition holds (checked every 10 ms; the test timeout bounds it). */

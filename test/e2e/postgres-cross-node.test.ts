import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../stores/postgres/index.ts';
import { usePostgresDatabase } from '../support/postgresDatabase.ts';
import { runTsx, until, type ChildRun } from '../support/kit/index.ts';

/**
 * Messages between journaled actors on different nodes of one PostgreSQL log travel through the
 * receiver's inbox; each is delivered exactly once, whichever node owns which actor, across a
 * SIGKILL of the receiver's node and then of the sender's.
 */
const database = usePostgresDatabase();
const LEASE_MS = 1200;
const TOTAL = 1000;
const nodes: ChildRun[] = [];

function startNode(url: string, ...spawns: string[]): ChildRun {
  const node = runTsx('test/support/pg-node.ts', [url, String(LEASE_MS), ...spawns]);
  nodes.push(node);
  return node;
}

afterEach(() => {
  for (const node of nodes.splice(0)) node.kill('SIGKILL');
});

describe('messages between actors on different nodes', () => {
  it(`${TOTAL} pings and pongs through a SIGKILL of the receiver's node, then of the sender's: each delivered exactly once`, async () => {
    const url = database().url;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    // what a timeout reports: the counts, who owns what, the inbox, and each node's output
    const state = async () => {
      const streams = (
        await admin
          .query('SELECT stream_id, status, version, owner_node FROM actorlog.streams ORDER BY stream_id')
          .catch((err: Error) => ({ rows: [err.message] }))
      ).rows;
      const inbox = (
        await admin.query('SELECT stream_id, count(*) AS n FROM actorlog.inbox GROUP BY stream_id').catch((err: Error) => ({ rows: [err.message] }))
      ).rows;
      const counts = { pingsAtB: await count('b', 'ping'), pongsAtA: await count('a', 'pong') };
      return `${JSON.stringify({ counts, streams, inbox })}\n${nodes.map((n, i) => `node ${i}: ${n.output().slice(-1500)}`).join('\n')}`;
    };
    const count = async (stream: string, type: string) =>
      Number(
        (await admin.query('SELECT count(*) AS n FROM actorlog.events WHERE stream_id = $1 AND type = $2', [stream, type]).catch(() => ({ rows: [{ n: 0 }] })))
          .rows[0].n,
      );
    try {
      const nodeA = startNode(url, `a:${TOTAL}`);
      const nodeB = startNode(url, 'b');
      startNode(url); // the spare
      await until(
        async () => (await count('b', 'ping')) >= 300,
        async () => `300 pings at b: ${await state()}`,
        { timeoutMs: 180_000, everyMs: 100 },
      );
      nodeB.child.kill('SIGKILL');
      await until(
        async () => (await count('a', 'pong')) >= 600,
        async () => `600 pongs at a (b taken over): ${await state()}`,
        { timeoutMs: 240_000, everyMs: 100 },
      );
      nodeA.child.kill('SIGKILL');
      const status = async () => (await admin.query("SELECT status FROM actorlog.streams WHERE stream_id = 'a'")).rows[0]?.status as string | undefined;
      await until(
        async () => (await status()) === 'done',
        async () => `a done: ${await state()}`,
        { timeoutMs: 240_000, everyMs: 100 },
      );
    } finally {
      await admin.end();
    }
    const store = await openPostgresStore(url);
    try {
      const numbers = async (stream: string, type: string) =>
        (await store.readStream(stream)).filter((r) => r.type === type).map((r) => (r.data as { n: number }).n);
      const expected = Array.from({ length: TOTAL }, (_, i) => i + 1);
      expect(await numbers('b', 'ping')).toEqual(expected);
      expect((await numbers('a', 'pong')).sort((x, y) => x - y)).toEqual(expected);
      const messages = (await store.readStream('b')).filter((r) => r.type === 'ping');
      expect(new Set(messages.map((r) => r.meta.causationId)).size).toBe(TOTAL);
      expect(await store.inboxStreams()).toEqual([]);
    } finally {
      await store.close();
    }
  }, 720_000);
});

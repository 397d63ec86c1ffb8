/**
 * A WebSocket server nobody here wrote (the `graphql-ws` package on
 * 127.0.0.1, test/servers/graphql-ws-server.ts). The example (`npm run example:graphql-ws`) is
 * killed with SIGKILL mid-subscription and started again on the same log: it recovers the stream,
 * resubscribes after the last logged tick and finishes with every tick once. A refused login
 * (graphql-ws closes with 4403 after accepting the socket) ends the stream instead of reconnecting
 * forever, with one logged event per try, after at most `maxAttempts` reconnects (items 5 and 6).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { graphqlTicksMachine } from '../../examples/graphql-ws.ts';
import { createActorSystem } from '../../src/index.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { startGraphqlWsServer } from '../servers/graphql-ws-server.ts';
import { tempDb } from '../support/tempDb.ts';
import { readLog, runCli, runTsx, until } from '../support/kit/index.ts';
import { alive, ensureServer } from '../../examples/server-process.ts';

const ROOT = join(import.meta.dirname, '..', '..');
let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** The example as its own process; `exited` resolves to its exit code or the signal that ended it. */
function example(args: string[], env: Record<string, string> = {}) {
  return runTsx('examples/graphql-ws.ts', args, { env });
}

function ticksIn(path: string, stream = 'graphql-ticks'): number[] {
  if (!existsSync(path)) return [];
  try {
    const store = openSqliteStore(path, { readonly: true });
    try {
      return store
        .readStream(stream)
        .filter((r) => r.type === 'tick')
        .map((r) => (r.data as { seq: number }).seq);
    } finally {
      store.close();
    }
  } catch {
    return []; // not created yet
  }
}

describe('graphql-ws subscription example (a real graphql-ws server)', () => {
  it('survives kill -9: restarted on the same log it recovers, resubscribes after the last logged tick and finishes with every tick once', async () => {
    const db = tempDb();
    cleanups.push(db.cleanup);
    const serverState = `${db.path}.graphql-ws.json`;
    cleanups.push(() => {
      if (existsSync(serverState)) {
        const { pid } = JSON.parse(readFileSync(serverState, 'utf8')) as { pid: number };
        if (alive(pid)) process.kill(pid, 'SIGTERM');
      }
    });
    // the log goes where ACTORLOG_DB says (no --db)
    const args = ['--count', '60', '--step-ms', '40'];
    const env = { ACTORLOG_DB: db.path };
    const first = example(args, env);
    await until(() => ticksIn(db.path).length >= 15, '15 ticks in the log', { timeoutMs: 30_000, everyMs: 50 });
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const atKill = ticksIn(db.path);
    expect(atKill.length).toBeLessThan(60);
    const { pid } = JSON.parse(readFileSync(serverState, 'utf8')) as { pid: number };
    expect(alive(pid), 'the server outlives the killed client').toBe(true);

    expect(statSync(`${db.path}.graphql-ws.log`).mode & 0o777, 'the server log is private').toBe(0o600);

    const second = example(args, env);
    const code = await Promise.race([second.exited, new Promise((r) => setTimeout(() => r('still running'), 40_000))]);
    if (code === 'still running') second.child.kill('SIGKILL');
    expect(code, second.output()).toBe(0);
    expect(second.output()).toContain('(left by an earlier run)');
    expect(second.output()).toContain('recovered 1 actors');
    expect(second.output()).toContain('log: 60 ticks, each once and in order');
    expect(ticksIn(db.path)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(alive(pid), 'the finished example stops its server').toBe(false);
    expect(existsSync(serverState)).toBe(false);
    // its machines replay: the module is given to the CLI
    const replay = await runCli(['replay', db.path, 'graphql-ticks', '--verify', '--machines', 'examples/graphql-ws.ts'], { timeoutMs: 60_000 });
    expect(replay.code, replay.stdout + replay.stderr).toBe(0);

    // a kill inside the shutdown leaves the stream finished and the server running: the next start stops it
    const leftover = await ensureServer({ db: db.path, name: 'graphql-ws', module: join(ROOT, 'test/servers/graphql-ws-server.ts'), env: { PORT: '0' } });
    expect(alive(leftover.pid)).toBe(true);
    const third = example(args, env);
    expect(await third.exited, third.output()).toBe(0);
    expect(third.output()).toContain('stream graphql-ticks is already done');
    expect(alive(leftover.pid), 'the leftover server is stopped').toBe(false);
    await readLog(db.path, (store) => {
      expect(store.getStream('graphql-ticks')?.status).toBe('done');
      expect(readFileSync(db.path).toString('latin1')).not.toContain('example-token');
    });
  }, 90_000);

  it('a refused login (4403) ends the example at once: one connect, one close logged, the stream is not left active', async () => {
    const server = await startGraphqlWsServer({ token: 'right-token', stepMs: 5 });
    cleanups.push(server.close);
    const db = tempDb();
    cleanups.push(db.cleanup);
    const run = example(['--db', db.path, '--server-url', server.url, '--max-attempts', '3'], { GQL_TOKEN: 'wrong-token' }); // the token from the environment, never argv
    expect(await run.exited, run.output()).toBe(1);
    expect(run.output()).toContain('failed: 0 ticks');
    expect(run.output()).toContain('WebSocket closed with code 4403 (Forbidden)');
    expect(server.stats).toMatchObject({ connects: 1, rejected: 1, subscribes: [] });
    await readLog(db.path, (store) => {
      expect(store.getStream('graphql-ticks')?.status).not.toBe('active');
      expect(store.readStream('graphql-ticks').map((r) => r.type)).toEqual(['ticks.closed', 'ticks.failed']);
      expect(readFileSync(db.path).toString('latin1')).not.toContain('wrong-token');
    });
  }, 30_000);

  it('a login refusal classified transient still ends after maxAttempts: each connect succeeds, but a session that delivered nothing is a failed attempt; one event logged per try', async () => {
    const server = await startGraphqlWsServer({ token: 'right-token', stepMs: 5 });
    cleanups.push(server.close);
    const db = tempDb();
    cleanups.push(db.cleanup);
    const store = openSqliteStore(db.path);
    const machine = graphqlTicksMachine({
      url: server.url,
      token: 'wrong-token',
      webSocket: { reconnect: { maxAttempts: 2, baseMs: 10, random: () => 0, classifyClose: (code) => (code === 4403 ? 'transient' : undefined) } },
    });
    const system = createActorSystem({ store, machines: { ticks: machine } });
    cleanups.push(async () => {
      await system.close();
      store.close();
    });
    const actor = system.spawn('ticks', { id: 'graphql-ticks', input: { count: 5 } });
    const end = await actor.waitFor((s) => s.status !== 'active', { timeoutMs: 10_000 });
    expect(end.value).toBe('failed');
    expect(end.context.error?.message).toMatch(/4403.*stopped after 2 reconnect attempts/);
    expect(server.stats.connects).toBe(3);
    expect(store.readStream('graphql-ticks').map((r) => r.type)).toEqual(['ticks.closed', 'ticks.closed', 'ticks.closed', 'ticks.failed']);
  });

  it('delivers every tick once in process and resumes after a dropped socket from the last tick (subscribe sent after connection_ack)', async () => {
    const server = await startGraphqlWsServer({ stepMs: 10 });
    cleanups.push(server.close);
    const db = tempDb();
    cleanups.push(db.cleanup);
    const store = openSqliteStore(db.path);
    const system = createActorSystem({
      store,
      machines: { ticks: graphqlTicksMachine({ url: server.url, webSocket: { reconnect: { baseMs: 10, random: () => 0 } } }) },
    });
    cleanups.push(async () => {
      await system.close();
      store.close();
    });
    const actor = system.spawn('ticks', { id: 'graphql-ticks', input: { count: 20 } });
    await actor.waitFor((s) => s.context.lastSeq >= 8, { timeoutMs: 10_000 });
    server.dropAll();
    const end = await actor.waitFor((s) => s.status !== 'active', { timeoutMs: 10_000 });
    expect(end.value).toBe('done');
    expect(
      store
        .readStream('graphql-ticks')
        .filter((r) => r.type === 'tick')
        .map((r) => (r.data as { seq: number }).seq),
    ).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(server.stats.subscribes[0]).toBeNull();
    expect(server.stats.subscribes[1]).toBeGreaterThanOrEqual(8);
    expect(end.context.duplicates).toBe(0);
  });

  it('a strict server: a tick frame sent twice is applied once, a next for an operation id not ours is recorded and never taken, a tick over 1 MiB is ordinary', async () => {
    const server = await startGraphqlWsServer({ stepMs: 5 });
    cleanups.push(server.close);
    const db = tempDb();
    cleanups.push(db.cleanup);
    const store = openSqliteStore(db.path);
    const system = createActorSystem({ store, machines: { ticks: graphqlTicksMachine({ url: server.url }) } });
    cleanups.push(async () => {
      await system.close();
      store.close();
    });
    // the first tick over 1 MiB and sent twice, after a 'next' of operation "other" that claims the last seq
    Object.assign(server.faults, { repeatTicks: 1, foreignNexts: 1, bigTicks: 1 });
    const actor = system.spawn('ticks', { id: 'graphql-ticks', input: { count: 6 } });
    const end = await actor.waitFor((s) => s.status !== 'active', { timeoutMs: 10_000 });
    expect(end.value).toBe('done');
    const records = store.readStream('graphql-ticks');
    const ticks = records.filter((r) => r.type === 'tick').map((r) => (r.data as { seq: number }).seq);
    expect(ticks).toEqual([1, 1, 2, 3, 4, 5, 6]); // the repeated frame is logged as received ...
    expect(end.context).toMatchObject({ lastSeq: 6, received: 6, duplicates: 1, invalid: 1 }); // ... and applied once
    const invalid = records.filter((r) => r.type === 'ticks.invalid').map((r) => r.data as { raw: string; error: string });
    expect(invalid).toEqual([
      { raw: expect.stringContaining('"id":"other"'), error: 'a next for operation "other", not ours ("ticks")', meta: { source: 'ws' } },
    ]);
    const big = records.find((r) => r.type === 'tick' && (r.data as { seq: number }).seq === 1)!.data as { text: string };
    expect(big.text.length).toBe(1.5 * 1024 * 1024);
  });
});

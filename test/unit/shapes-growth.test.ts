/**
 * Issue 15 item 14: growth. `recover()` with `snapshotEvery: 0` reads each receiver's stream once to
 * find which implied messages it lacks (it read it once per message: 2,005,000 rows for 2,000
 * messages); the journal keeps nothing per child path once the child has nothing pending. Rows read
 * are counted through the store; a real SQLite file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { assign, sendTo, setup } from 'xstate';
import { createActorSystem, type LogStore } from 'actorlog';
import { openSqliteStore } from 'actorlog/stores/sqlite';
import { tempDb } from '../support/tempDb.ts';

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

/** `inner`, counting the records its reads return. */
function counting(inner: LogStore): { store: LogStore; rows: () => number } {
  let rows = 0;
  const store = new Proxy(inner, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (Array.isArray(result) && (key === 'readAll' || key === 'readStream' || key === 'readInbox')) rows += result.length;
        return result;
      };
    },
  });
  return { store, rows: () => rows };
}

describe('issue 15 item 14: growth', () => {
  const pinged = setup({ types: { context: {} as { n: number } } }).createMachine({
    id: 'pinged',
    context: { n: 0 },
    on: { ping: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
  });
  const pinger = setup({}).createMachine({ id: 'pinger', on: { go: { actions: sendTo(({ system }) => system.get('b-1'), { type: 'ping' }) } } });

  it('recover() reads a number of rows linear in the log, with snapshotEvery 0', async () => {
    const t = tempDb();
    cleanups.push(t.cleanup);
    const messages = 2_000;
    const first = openSqliteStore(t.path);
    const live = createActorSystem({ store: first, machines: { pinged, pinger }, snapshotEvery: 0 });
    live.spawn('pinged', { id: 'b-1' });
    const a = live.spawn('pinger', { id: 'a-1' });
    for (let i = 0; i < messages; i++) a.send({ type: 'go' });
    first.close(); // the process ends without close(): no final snapshot

    const second = openSqliteStore(t.path);
    cleanups.push(() => second.close());
    const { store, rows } = counting(second);
    const system = createActorSystem({ store, machines: { pinged, pinger }, snapshotEvery: 0 });
    const { recovered } = await system.recover();
    expect(recovered.map((r) => r.id)).toEqual(['b-1', 'a-1']);
    expect(system.get<typeof pinged>('b-1')!.getSnapshot().context.n).toBe(messages);
    // both streams folded (2 x 2,000 rows) and the receiver's stream read once to check for lost messages
    expect(rows()).toBeLessThanOrEqual(3 * messages + 10);
    expect(second.readStream('b-1')).toHaveLength(messages); // nothing delivered twice
  });

  it('keeps nothing per child path once the child has nothing pending', async () => {
    const t = tempDb();
    cleanups.push(t.cleanup);
    const store = openSqliteStore(t.path);
    cleanups.push(() => store.close());
    const task = setup({}).createMachine({ id: 'task', initial: 'open', states: { open: { on: { close: 'closed' } }, closed: { type: 'final' } } });
    const board = setup({ types: { context: {} as { opened: number } }, actors: { task } }).createMachine({
      id: 'board',
      context: { opened: 0 },
      on: {
        open: { actions: assign({ opened: ({ context, spawn }) => (spawn('task', { id: `task-${context.opened}` }), context.opened + 1) }) },
        close: { actions: sendTo(({ context }) => `task-${context.opened - 1}`, { type: 'close' }) },
      },
    });
    const system = createActorSystem({ store, machines: { board } });
    const actor = system.spawn('board', { id: 'bd-1' });
    for (let i = 0; i < 500; i++) {
      actor.send({ type: 'open' });
      actor.send({ type: 'close' });
    }
    expect(store.readStream('bd-1').filter((r) => r.meta.target !== undefined)).toHaveLength(500);
    // the journal's queue of appended, unprocessed events per path (internal): none left behind
    expect((actor.journal as unknown as { pending: Map<string, unknown[]> }).pending.size).toBeLessThanOrEqual(1);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { assign, createMachine, sendTo, setup, type AnyActorRef } from 'xstate';
import { createActorSystem } from '../../src/runtime/actorSystem.ts';
import { createMemoryStore } from '../../stores/memory.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { tempDb } from '../support/tempDb.ts';

// Recovery's bulk paths (one inbox query, tails read 1,000 streams at a time, no fold for a snapshot
// at the head) must resume exactly what reading each stream resumed.

const receiver = setup({ types: { context: {} as { got: number } } }).createMachine({
  id: 'receiver',
  context: { got: 0 },
  on: { ping: { actions: assign({ got: ({ context }) => context.got + 1 }) } },
});

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('recover() and the inbox', () => {
  it("delivers a recovered actor's inbox when 1,000 other ids (never spawned, or ended) hold mail", async () => {
    const store = createMemoryStore();
    store.write({
      messages: Array.from({ length: 1000 }, (_, i) => ({ streamId: `ghost-${i}`, causationId: `c-${i}`, type: 'ping', data: {}, from: '', postedAt: 1 })),
    });
    const first = createActorSystem({ store, machines: { receiver } });
    first.spawn('receiver', { id: 'r' });
    await first.close();
    // r is posted to while it runs nowhere (system.send from another process, or before recover())
    store.write({ messages: [{ streamId: 'r', causationId: 'for-r', type: 'ping', data: {}, from: '', postedAt: 2 }] });
    const second = createActorSystem({ store, machines: { receiver } });
    const report = await second.recover();
    await second.settled();
    expect(report.recovered.map((a) => a.id)).toEqual(['r']);
    expect(store.readInbox('r')).toEqual([]);
    expect(second.get('r')!.getSnapshot().context.got).toBe(1);
    await second.close();
  });

  it('delivers a message posted through a ref kept from before the receiver slept, once it runs again', async () => {
    // the sender looks the receiver up once and keeps the ref
    const sender = setup({ types: { context: {} as { peer?: AnyActorRef } } }).createMachine({
      id: 'sender',
      context: {},
      on: {
        look: { actions: assign({ peer: ({ system }) => system.get('r') as AnyActorRef }) },
        ping: { actions: sendTo(({ context }) => context.peer!, { type: 'ping' }) },
      },
    });
    const store = createMemoryStore();
    const system = createActorSystem({ store, machines: { receiver, sender } });
    system.spawn('receiver', { id: 'r' });
    const s = system.spawn('sender', { id: 's' });
    s.send({ type: 'look' });
    await system.settled();
    expect(await system.passivate('r')).toBe(true);
    await system.wake('r');
    s.send({ type: 'ping' }); // the old ref is the sleeping root's: posted to the inbox of r, which runs here
    await system.settled();
    expect(store.readInbox('r')).toEqual([]);
    expect((system.get('r')!.getSnapshot().context as { got: number }).got).toBe(1);
    await system.close();
  });
});

describe('recover() of a stream whose machine changed', () => {
  it("with onMachineChange 'accept', a head snapshot the new machine cannot restore is refused before anything is appended", async () => {
    // v1 has a state 'b' that v2 no longer has
    const v1 = createMachine({ id: 'm', initial: 'a', states: { a: { on: { go: 'b' } }, b: { on: { back: 'a' } } } });
    const v2 = createMachine({ id: 'm', initial: 'a', states: { a: { on: { go: 'c' } }, c: {} } });
    const store = createMemoryStore();
    const first = createActorSystem({ store, machines: { m: v1 } });
    first.spawn('m', { id: 's' }).send({ type: 'go' });
    await first.close(); // the snapshot (in 'b') is the stream's head
    const second = createActorSystem({ store, machines: { m: v2 }, onMachineChange: 'accept', onError: () => {} });
    const report = await second.recover();
    await second.settled();
    expect(report.recovered.map((a) => a.id)).toEqual([]);
    expect(report.failed.map((f) => f.streamId)).toEqual(['s']);
    expect(store.getStream('s')!.status).toBe('active');
    expect(store.readStream('s').map((r) => r.type)).toEqual(['go']);
    await second.close();
  });

  it('a stream upgraded to v2 and then recovered by v1 (a rollback deploy) is a machine change: MACHINE_MISMATCH', async () => {
    const v1 = createMachine({ id: 'm', initial: 'a', states: { a: { on: { go: 'b' } }, b: {} } });
    const v2 = createMachine({ id: 'm', initial: 'a', states: { a: { on: { go: 'b', go2: 'c' } }, b: {}, c: {} } });
    const store = createMemoryStore();
    const a = createActorSystem({ store, machines: { m: v1 } });
    a.spawn('m', { id: 's' });
    await a.close();
    const b = createActorSystem({ store, machines: { m: v2 }, onMachineChange: 'accept', onError: () => {} });
    await b.recover();
    b.get('s')!.send({ type: 'go2' }); // a state v1 does not have
    await b.close();
    const codes: string[] = [];
    const c = createActorSystem({ store, machines: { m: v1 }, onError: (_id, e) => codes.push(e.code) });
    const report = await c.recover();
    await c.settled();
    expect(report.failed.map((f) => f.streamId)).toEqual(['s']);
    expect(codes).toContain('MACHINE_MISMATCH');
    expect(store.getStream('s')!.status).toBe('active');
    await c.close();
  });
});

describe('recover() past a snapshot the fold cannot start from (written by another tool)', () => {
  const counter = setup({ types: { context: {} as { n: number } } }).createMachine({
    id: 'counter',
    context: { n: 0 },
    on: { inc: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
  });
  for (const odd of [{ foo: 1 }, { state: null, bookkeeping: {} }]) {
    it(`folds from version 1 past ${JSON.stringify(odd)}`, async () => {
      const db = tempDb();
      cleanups.push(db.cleanup);
      const store = openSqliteStore(db.path, { keepSnapshots: 0 });
      cleanups.unshift(() => store.close());
      const first = createActorSystem({ store, machines: { counter }, snapshotEvery: 1000 });
      for (const id of ['a', 'b']) {
        const c = first.spawn('counter', { id });
        for (let i = 0; i < 3; i++) c.send({ type: 'inc' });
      }
      await first.settled();
      store.saveSnapshot({ streamId: 'a', version: 2, snapshot: odd, recordedAt: 1 });
      const second = createActorSystem({ store, machines: { counter }, onError: () => {} });
      const report = await second.recover();
      expect(report.failed).toEqual([]);
      expect(second.get('a')!.getSnapshot().context.n).toBe(3);
      expect(second.get('b')!.getSnapshot().context.n).toBe(3);
      await second.close();
    });
  }
});

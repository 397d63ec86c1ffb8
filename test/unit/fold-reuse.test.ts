import { describe, expect, it } from 'vitest';
import { assign, createMachine, fromPromise, sendTo, setup, SimulatedClock, type AnyActorRef } from 'xstate';
import { Folder } from '../../src/runtime/fold.ts';
import type { EventRecord } from '../../src/log/types.ts';
import { foldStream } from '../../src/runtime/recoverStream.ts';
import { createActorSystem } from '../../src/runtime/actorSystem.ts';
import { createMemoryStore } from '../../stores/memory.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { tempDb } from '../support/tempDb.ts';

// One folder folds many streams in a recovery (making one costs more than a short fold): nothing of
// one stream's fold may reach the next.
const worker = createMachine({ id: 'worker', initial: 'idle', states: { idle: {} } });
const dispatcher = setup({
  types: { context: {} as { asked: number }, events: {} as { type: 'hire' } | { type: 'ask' } },
  actors: { worker },
}).createMachine({
  id: 'dispatcher',
  context: { asked: 0 },
  initial: 'alone',
  states: {
    alone: { on: { hire: 'staffed' } },
    // a child registered under a systemId: a send by that id reaches it, not another journaled actor
    staffed: { invoke: { src: 'worker', systemId: 'helper' } },
  },
  on: {
    ask: {
      actions: [assign({ asked: ({ context }) => context.asked + 1 }), sendTo(({ system }) => system.get('helper') as AnyActorRef, { type: 'help' })],
    },
  },
});

let position = 0;
const record = (streamId: string, version: number, type: string): EventRecord => ({
  streamId,
  version,
  globalPosition: ++position,
  type,
  data: {},
  meta: { source: 'external', recordedAt: 1_000 + version },
});

describe('a folder reused for the next stream', () => {
  it("does not let a stream's send reach the child another stream registered under a systemId", () => {
    const folder = new Folder(dispatcher);
    const a = folder.initial(undefined, 1_000, 'a');
    folder.apply(a, record('a', 1, 'hire')); // a's worker holds the systemId 'helper'
    folder.apply(a, record('a', 2, 'ask'));
    expect(a.outbox).toEqual([]); // a asked its own child

    const b = folder.initial(undefined, 1_000, 'b');
    folder.apply(b, record('b', 1, 'ask')); // b has no worker: 'helper' is another journaled actor
    expect(b.outbox.map((m) => ({ from: m.from, to: m.to, type: m.event.type }))).toEqual([{ from: 'b', to: 'helper', type: 'help' }]);
    // and the same again from a fresh folder (the reference)
    const fresh = new Folder(dispatcher);
    const c = fresh.initial(undefined, 1_000, 'b');
    fresh.apply(c, record('b', 1, 'ask'));
    expect(b.outbox.map((m) => m.causationId)).toEqual(c.outbox.map((m) => m.causationId));
  });
});

describe('recovery from a snapshot at the head of its stream', () => {
  it('resumes without a fold what a clean close left, children, timers and context included', async () => {
    const store = createMemoryStore();
    const clock = new SimulatedClock();
    clock.set(10_000);
    const ticking = setup({
      types: { context: {} as { n: number }, events: {} as { type: 'inc' } | { type: 'hire' } },
      actors: { worker },
    }).createMachine({
      id: 'ticking',
      context: { n: 0 },
      initial: 'alone',
      states: {
        alone: { on: { hire: 'staffed' }, after: { 60_000: 'late' } },
        staffed: { invoke: { id: 'w', src: 'worker' } },
        late: {},
      },
      on: { inc: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
    });
    const first = createActorSystem({ store, machines: { ticking }, clock });
    const one = first.spawn('ticking', { id: 'one' });
    one.send({ type: 'inc' });
    one.send({ type: 'inc' });
    const two = first.spawn('ticking', { id: 'two' });
    two.send({ type: 'hire' });
    await first.close(); // each stream's last snapshot is at its head
    expect(store.loadSnapshot('one')!.version).toBe(store.getStream('one')!.version);

    const folded = await foldStream(store, ticking, store.getStream('one')!);
    expect(folded).toMatchObject({ status: 'active', version: 2, tail: [], outbox: [] });
    expect(folded.bookkeeping.timers.map((t) => t.dueAt)).toEqual([70_000]);

    clock.set(20_000);
    const second = createActorSystem({ store, machines: { ticking }, clock });
    const report = await second.recover();
    expect(report.recovered.map((a) => a.id).sort()).toEqual(['one', 'two']);
    expect(second.get('one')!.getSnapshot()).toMatchObject({ value: 'alone', context: { n: 2 } });
    expect(second.get('two')!.getSnapshot().value).toBe('staffed');
    expect(second.get('two')!.getSnapshot().children.w).toBeDefined();
    second.get('one')!.send({ type: 'inc' });
    await second.settled();
    clock.increment(50_000); // the timer re-armed from the snapshot's bookkeeping fires at 70 s
    await second.settled();
    expect(store.readStream('one').map((r) => r.type)).toEqual(['inc', 'inc', 'inc', 'xstate.after.60000.ticking.alone']);
    expect(second.get('one')!.getSnapshot().value).toBe('late');
    await second.close();
  });

  it('reads each stream on its own when the batch read of tails fails', async () => {
    const store = createMemoryStore();
    const first = createActorSystem({ store, machines: { dispatcher } });
    first.spawn('dispatcher', { id: 'd-1' }).send({ type: 'ask' });
    first.spawn('dispatcher', { id: 'd-2' }).send({ type: 'hire' });
    await first.settled(); // no close: the tails are not snapshotted
    let batches = 0;
    store.readTails = () => {
      batches++;
      throw new Error('disk hiccup');
    };
    const second = createActorSystem({ store, machines: { dispatcher } });
    const report = await second.recover();
    expect(batches).toBe(1);
    expect(report.failed).toEqual([]);
    expect(second.get('d-1')!.getSnapshot().context.asked).toBe(1);
    expect(second.get('d-2')!.getSnapshot().value).toBe('staffed');
    await second.close();
  });
});

describe('recovery from a head snapshot of a tree unlike the shipped machines', () => {
  it('does not run again a promise child whose completion the snapshot holds, and re-arms two timers of one type', async () => {
    let runs = 0;
    const tree = setup({
      types: { context: {} as { result?: number; ticks: number } },
      actors: { work: fromPromise(async () => ++runs) },
    }).createMachine({
      id: 'tree',
      context: { ticks: 0 },
      type: 'parallel',
      states: {
        job: {
          initial: 'waiting',
          states: { waiting: { invoke: { id: 'work', src: 'work', onDone: { actions: assign({ result: ({ event }) => event.output }) } } } },
        },
        left: {
          initial: 'on',
          states: { on: { after: { 60_000: { target: 'off', actions: assign({ ticks: ({ context }) => context.ticks + 1 }) } } }, off: {} },
        },
        right: {
          initial: 'on',
          states: { on: { after: { 60_000: { target: 'off', actions: assign({ ticks: ({ context }) => context.ticks + 1 }) } } }, off: {} },
        },
      },
    });
    const db = tempDb();
    const clock = new SimulatedClock();
    clock.set(1_000);
    const store = openSqliteStore(db.path);
    try {
      const first = createActorSystem({ store, machines: { tree }, clock });
      first.spawn('tree', { id: 't' });
      await new Promise((resolve) => setImmediate(resolve)); // the promise settles
      await first.settled();
      expect(runs).toBe(1);
      await first.close(); // the snapshot at the head holds the completed child
      const second = createActorSystem({ store, machines: { tree }, clock });
      const report = await second.recover();
      expect(report.recovered.map((a) => a.id)).toEqual(['t']);
      await new Promise((resolve) => setImmediate(resolve));
      await second.settled();
      expect(runs).toBe(1);
      expect(second.get('t')!.getSnapshot().context.result).toBe(1);
      clock.increment(60_000); // both timers of one delay, re-armed from the snapshot's bookkeeping
      await second.settled();
      expect(second.get('t')!.getSnapshot().context.ticks).toBe(2);
      await second.close();
    } finally {
      store.close();
      db.cleanup();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { assign, fromEventObservable, fromPromise, sendParent, sendTo, setup, SimulatedClock } from 'xstate';
import { Subject } from 'rxjs';
import { createActorSystem, verifyReplay, type LogStore, type WriteBatch } from '../../src/index.ts';
import { STORE_KINDS, useStoreLogs } from '../support/storeLogs.ts';

/**
 * The runtime's invariants on each store: memory and SQLite (answers at once) and PostgreSQL
 * (asynchronous, on a real server). A store is wrapped to count the events whose write has
 * committed, so a test can check, at the moment XState takes an input, that its append is durable.
 */
const { openLog } = useStoreLogs('rt');

/** Counts the appended events of every committed write. */
function counted(store: LogStore): { store: LogStore; committed: () => number } {
  let committed = 0;
  const count = (batch: WriteBatch) => (committed += (batch.appends ?? []).reduce((n, a) => n + a.events.length, 0));
  const wrapped = new Proxy(store, {
    get(target, key) {
      if (key === 'write') {
        return (batch: WriteBatch) => {
          const result = target.write(batch);
          if (result instanceof Promise) return result.then((r) => (count(batch), r));
          count(batch);
          return result;
        };
      }
      const v = Reflect.get(target, key) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { store: wrapped, committed: () => committed };
}

const feeds: Array<Subject<{ type: 'frame'; n: number; meta: { source: 'sse'; cursor: string } }>> = [];
const cursors: Array<string | undefined> = [];
const tally = setup({
  types: {
    context: {} as { n: number; frames: number[]; answer?: number },
    events: {} as { type: 'inc' } | { type: 'frame'; n: number } | { type: 'listen' } | { type: 'ask' },
  },
  actors: {
    source: fromEventObservable(({ input }: { input: { cursor?: string } }) => {
      cursors.push(input.cursor);
      const s = new Subject<{ type: 'frame'; n: number; meta: { source: 'sse'; cursor: string } }>();
      feeds.push(s);
      return s;
    }),
    answer: fromPromise(async () => 42),
  },
}).createMachine({
  id: 'tally',
  context: { n: 0, frames: [] },
  initial: 'idle',
  on: { inc: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
  states: {
    idle: { on: { listen: 'listening', ask: 'asking' }, after: { 60_000: 'expired' } },
    asking: { invoke: { id: 'answer', src: 'answer', onDone: { target: 'idle', actions: assign({ answer: ({ event }) => event.output }) } } },
    listening: {
      invoke: { id: 'source', src: 'source', input: () => ({}) },
      on: { frame: { actions: assign({ frames: ({ context, event }) => [...context.frames, event.n] }) } },
    },
    expired: { type: 'final' },
  },
});

describe.each(STORE_KINDS)('the runtime on the %s store', (kind) => {
  it("hands every input to XState only after its append has committed (sends, a child's output, a timer)", async () => {
    const log = await openLog(kind);
    const { store, committed } = counted(log.store);
    const clock = new SimulatedClock();
    const lateInputs: string[] = [];
    let delivered = 0;
    const system = createActorSystem({
      store,
      machines: { tally },
      clock,
      inspect: (ev) => {
        if (ev.type !== '@xstate.event' || (ev.actorRef as { id?: string }).id !== 't-1' || ev.event.type === 'xstate.init') return;
        delivered++;
        if (committed() < delivered) lateInputs.push(ev.event.type);
      },
    });
    if (kind === 'postgres') await system.recover();
    const actor = system.spawn('tally', { id: 't-1' });
    for (let i = 0; i < 20; i++) actor.send({ type: 'inc' });
    actor.send({ type: 'ask' });
    await system.settled();
    await new Promise((resolve) => setTimeout(resolve, 10)); // the promise child resolves
    await system.settled();
    clock.increment(60_000);
    await system.settled();
    expect(lateInputs).toEqual([]);
    expect(actor.getSnapshot().context).toMatchObject({ n: 20, answer: 42 });
    expect(actor.getSnapshot().status).toBe('done');
    expect((await store.readStream('t-1')).map((r) => r.type)).toEqual([
      ...Array<string>(20).fill('inc'),
      'ask',
      'xstate.done.actor.answer',
      'xstate.after.60000.tally.idle',
    ]);
    expect(await verifyReplay(store, tally, 't-1')).toMatchObject({ ok: true });
    await system.close();
  });

  it('recovers an actor in a new system: its state, and its source from the last cursor', async () => {
    const log = await openLog(kind);
    const clock = new SimulatedClock();
    const first = createActorSystem({ store: log.store, machines: { tally }, clock });
    if (kind === 'postgres') await first.recover();
    const a = first.spawn('tally', { id: 't-2' });
    a.send({ type: 'inc' });
    a.send({ type: 'listen' });
    await first.settled();
    for (const n of [1, 2, 3]) feeds.at(-1)!.next({ type: 'frame', n, meta: { source: 'sse', cursor: `c${n}` } });
    await first.settled();
    expect(a.getSnapshot().context.frames).toEqual([1, 2, 3]);
    await first.close(); // on PostgreSQL: gives the stream up, so the next node claims it at once
    const again = createActorSystem({ store: await log.reopen(), machines: { tally }, clock });
    const report = await again.recover();
    expect(report.recovered.map((r) => r.id)).toEqual(['t-2']);
    expect(cursors.at(-1)).toBe('c3');
    feeds.at(-1)!.next({ type: 'frame', n: 4, meta: { source: 'sse', cursor: 'c4' } });
    await again.settled();
    expect(again.get('t-2')!.getSnapshot().context).toMatchObject({ n: 1, frames: [1, 2, 3, 4] });
    await again.close();
  });

  it('commits the inputs of many actors in few transactions, each actor in order', async () => {
    const log = await openLog(kind);
    let transactions = 0;
    const store = new Proxy(log.store, {
      get(target, key) {
        if (key === 'write') return (batch: WriteBatch) => (transactions++, target.write(batch));
        const v = Reflect.get(target, key) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const system = createActorSystem({ store, machines: { tally }, commit: 'tick' });
    if (kind === 'postgres') await system.recover();
    const actors = Array.from({ length: 50 }, (_, i) => system.spawn('tally', { id: `m-${i}` }));
    await system.settled();
    transactions = 0;
    for (let round = 0; round < 10; round++) for (const a of actors) a.send({ type: 'inc' });
    await system.settled();
    for (const a of actors) expect(a.getSnapshot().context.n).toBe(10);
    expect(transactions).toBeLessThan(50);
    for (const a of actors.slice(0, 3)) expect((await store.readStream(a.id)).map((r) => r.version)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    await system.close();
  });
});

let runs = 0;
const once = setup({
  types: { context: {} as { result?: number; beats: number } },
  actors: { work: fromPromise(async () => ++runs) },
  delays: { beat: 1_000 },
}).createMachine({
  id: 'once',
  context: { beats: 0 },
  initial: 'working',
  states: {
    working: { invoke: { id: 'work', src: 'work', onDone: { target: 'beating', actions: assign({ result: ({ event }) => event.output }) } } },
    beating: {
      after: {
        beat: [
          { guard: ({ context }) => context.beats < 2, target: 'beating', reenter: true, actions: assign({ beats: ({ context }) => context.beats + 1 }) },
          { target: 'finished' },
        ],
      },
    },
    finished: { type: 'final' },
  },
});

const relay = setup({
  types: { context: {} as { got: string[] }, events: {} as { type: 'hello'; from: string } | { type: 'greet'; to: string } },
}).createMachine({
  id: 'relay',
  context: { got: [] },
  on: {
    greet: {
      actions: sendTo(
        ({ system, event }) => system.get(event.to),
        ({ self }) => ({ type: 'hello', from: self.id }),
      ),
    },
    hello: { actions: assign({ got: ({ context, event }) => [...context.got, event.from] }) },
  },
});

const counter = setup({
  types: { context: {} as { got: number[] }, events: {} as { type: 'emit'; to: string; n: number } | { type: 'n'; n: number } },
}).createMachine({
  id: 'counter',
  context: { got: [] },
  on: {
    emit: {
      actions: sendTo(
        ({ system, event }) => system.get(event.to),
        ({ event }) => ({ type: 'n', n: event.n }),
      ),
    },
    n: { actions: assign({ got: ({ context, event }) => [...context.got, event.n] }) },
  },
});

describe.each(STORE_KINDS)('messages to an actor that starts here (%s)', (kind) => {
  it("keep their sender's order: what waited in the inbox is appended before what comes directly once it runs", async () => {
    const log = await openLog(kind);
    const system = createActorSystem({ store: log.store, machines: { counter } });
    if (kind === 'postgres') await system.recover();
    const a = system.spawn('counter', { id: 'o-a' });
    await system.settled();
    for (const n of [1, 2, 3]) a.send({ type: 'emit', to: 'o-b', n }); // o-b runs nowhere: posted to its inbox
    await system.settled();
    expect((await log.store.readInbox('o-b')).map((m) => m.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const b = system.spawn('counter', { id: 'o-b' });
    a.send({ type: 'emit', to: 'o-b', n: 4 }); // o-b runs here now: delivered directly
    await system.settled();
    expect(b.getSnapshot().context.got).toEqual([1, 2, 3, 4]);
    expect((await log.store.readStream('o-b')).filter((r) => r.type === 'n').map((r) => (r.data as { n: number }).n)).toEqual([1, 2, 3, 4]);
    expect(await log.store.readInbox('o-b')).toEqual([]);
    await system.close();
  });
});

describe.each(STORE_KINDS)('close() on the %s store', (kind) => {
  it('appends and delivers what was sent before it, even to an actor still starting', async () => {
    const log = await openLog(kind);
    const system = createActorSystem({ store: log.store, machines: { counter } });
    if (kind === 'postgres') await system.recover();
    const actor = system.spawn('counter', { id: 'c-close' });
    actor.send({ type: 'n', n: 1 });
    actor.send({ type: 'n', n: 2 });
    await system.close(); // no settled() first
    const store = await log.reopen();
    expect((await store.readStream('c-close')).map((r) => (r.data as { n: number }).n)).toEqual([1, 2]);
    const next = createActorSystem({ store, machines: { counter } });
    const { recovered } = await next.recover();
    expect(recovered.map((a) => a.getSnapshot().context.got)).toEqual([[1, 2]]);
    await next.close();
  });
});

describe.each(STORE_KINDS)('recovery on the %s store', (kind) => {
  it('does not run a completed child again, and re-arms a pending timer with its remaining time', async () => {
    const log = await openLog(kind);
    const clock = new SimulatedClock();
    clock.set(10_000);
    runs = 0;
    const first = createActorSystem({ store: log.store, machines: { once }, clock });
    if (kind === 'postgres') await first.recover();
    const a = first.spawn('once', { id: 'o-1' });
    await first.settled();
    await new Promise((resolve) => setTimeout(resolve, 10)); // the promise resolves
    await first.settled();
    expect(a.getSnapshot().value).toBe('beating');
    clock.increment(1_000);
    await first.settled();
    clock.increment(400); // 600 ms left on the second beat
    await first.close();
    const again = createActorSystem({ store: await log.reopen(), machines: { once }, clock });
    const [b] = (await again.recover()).recovered;
    expect(runs).toBe(1);
    expect(b!.getSnapshot().context).toMatchObject({ result: 1, beats: 1 });
    clock.increment(599);
    await again.settled();
    expect(b!.getSnapshot().context.beats).toBe(1);
    clock.increment(1);
    await again.settled();
    expect(b!.getSnapshot().context.beats).toBe(2);
    clock.increment(1_000);
    await again.settled();
    expect(b!.getSnapshot().status).toBe('done');
    expect(runs).toBe(1);
    await again.close();
  });

  it('delivers a message between two journaled actors once: logged in the receiver with its causation id', async () => {
    const log = await openLog(kind);
    const system = createActorSystem({ store: log.store, machines: { relay } });
    if (kind === 'postgres') await system.recover();
    const a = system.spawn('relay', { id: 'r-a' });
    const b = system.spawn('relay', { id: 'r-b' });
    await system.settled();
    a.send({ type: 'greet', to: 'r-b' });
    b.send({ type: 'greet', to: 'r-a' });
    await system.settled();
    expect(b.getSnapshot().context.got).toEqual(['r-a']);
    expect(a.getSnapshot().context.got).toEqual(['r-b']);
    const logged = (await log.store.readStream('r-b')).filter((r) => r.type === 'hello');
    expect(logged.map((r) => [r.meta.source, r.meta.actor, r.meta.causationId])).toEqual([['actor', 'r-a', 'r-a:1::0']]);
    await system.close();
  });
});

const kid = setup({ types: { events: {} as { type: 'ping'; n: number } } }).createMachine({
  id: 'kid',
  on: { ping: { actions: sendParent(({ event }) => ({ type: 'pong', n: event.n })) } },
});
const talker = setup({
  types: { context: {} as { said: string[] }, events: {} as { type: 'say'; n: number } | { type: 'pong'; n: number } },
  actors: { kid },
}).createMachine({
  id: 'talker',
  context: { said: [] },
  invoke: { id: 'kid', src: 'kid' },
  on: {
    say: {
      actions: [assign({ said: ({ context, event }) => [...context.said, `say ${event.n}`] }), sendTo('kid', ({ event }) => ({ type: 'ping', n: event.n }))],
    },
    pong: { actions: assign({ said: ({ context, event }) => [...context.said, `pong ${event.n}`] }) },
  },
});

describe.each([
  ['memory', 'tick'],
  ['sqlite', 'tick'],
  ['postgres', 'each'],
] as const)('inputs queued together on the %s store (%s)', (kind, commit) => {
  it('are appended each after what the one before made the tree do, so replay equals live', async () => {
    const log = await openLog(kind);
    const system = createActorSystem({ store: log.store, machines: { talker }, commit, snapshotEvery: 1 });
    if (kind === 'postgres') await system.recover();
    const actor = system.spawn('talker', { id: 'k-1' });
    await system.settled();
    for (const n of [1, 2, 3]) actor.send({ type: 'say', n });
    await system.settled();
    expect(actor.getSnapshot().context.said).toEqual(['say 1', 'pong 1', 'say 2', 'pong 2', 'say 3', 'pong 3']);
    await system.close();
    expect((await log.store.readStream('k-1')).map((r) => `${r.type}${r.meta.target ? `>${r.meta.target}` : ''}`)).toEqual([
      'say',
      'ping>kid',
      'pong',
      'say',
      'ping>kid',
      'pong',
      'say',
      'ping>kid',
      'pong',
    ]);
    expect(await verifyReplay(log.store, talker, 'k-1')).toMatchObject({ ok: true });
  });
});

describe.each(STORE_KINDS)('a crash between an input and what it made the tree do (%s)', (kind) => {
  it("re-derives the machines' messages for the last input at recovery, appends them, and goes on as live", async () => {
    const log = await openLog(kind);
    let crashed = false;
    const store = new Proxy(log.store, {
      get(target, key) {
        if (key === 'write') {
          return (batch: WriteBatch) => {
            // the process "dies" before the commit that follows `say 2`: nothing of it is written
            if (crashed || batch.appends?.some((a) => a.events.some((e) => e.type === 'ping' && (e.data as { n?: number }).n === 2))) {
              crashed = true;
              throw new Error('killed');
            }
            return target.write(batch);
          };
        }
        const v = Reflect.get(target, key) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const first = createActorSystem({ store, machines: { talker }, onError: () => {} });
    if (kind === 'postgres') await first.recover();
    const actor = first.spawn('talker', { id: 'k-2' });
    await first.settled();
    actor.send({ type: 'say', n: 1 });
    await first.settled();
    try {
      actor.send({ type: 'say', n: 2 });
    } catch {
      // on an embedded store the failed write surfaces in send
    }
    await first.settled();
    expect((await log.store.readStream('k-2')).map((r) => r.type)).toEqual(['say', 'ping', 'pong', 'say']);
    if (kind === 'postgres') await (log.store.ownership as { release(ids: string[]): Promise<void> }).release(['k-2']);
    const again = createActorSystem({ store: await log.reopen(), machines: { talker } });
    const [recovered] = (await again.recover()).recovered;
    expect(recovered!.getSnapshot().context.said).toEqual(['say 1', 'pong 1', 'say 2', 'pong 2']);
    recovered!.send({ type: 'say', n: 3 });
    await again.settled();
    await again.close();
    const records = await log.store.readStream('k-2');
    expect(records.map((r) => `${r.type}${r.meta.target ? `>${r.meta.target}` : ''}`)).toEqual([
      'say',
      'ping>kid',
      'pong',
      'say',
      'ping>kid',
      'pong',
      'say',
      'ping>kid',
      'pong',
    ]);
    expect(await verifyReplay(log.store, talker, 'k-2')).toMatchObject({ ok: true });
  });
});

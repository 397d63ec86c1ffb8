import { describe, expect, it } from 'vitest';
import { assign, fromPromise, sendTo, setup, SimulatedClock } from 'xstate';
import { createActorSystem, isActorlogError, type LogStore } from '../../src/index.ts';
import { STORE_KINDS, useStoreLogs } from '../support/storeLogs.ts';
import { until } from '../support/kit/index.ts';

/**
 * Passivation on each store: an idle actor is written to the log and dropped from memory, and wakes
 * (folded from its snapshot) for a send, a message from another actor, or its next timer, with its
 * state, its order and the write-ahead guarantee unchanged; recovery loads only resident streams.
 */
const { openLog, afterTest } = useStoreLogs('pv');

/** A session that counts what it is told, expires after a minute of silence, and can ask a slow service. */
const session = setup({
  types: {
    context: {} as { said: number[]; asked: number },
    events: {} as { type: 'say'; n: number } | { type: 'ask' } | { type: 'tell'; to: string; n: number },
  },
  actors: { service: fromPromise(() => new Promise<number>(() => {})) },
}).createMachine({
  id: 'session',
  context: { said: [], asked: 0 },
  initial: 'open',
  states: {
    open: {
      after: { 60_000: 'expired' },
      on: {
        say: { target: 'open', reenter: true, actions: assign({ said: ({ context, event }) => [...context.said, event.n] }) },
        tell: {
          actions: sendTo(
            ({ system, event }) => system.get(event.to),
            ({ event }) => ({ type: 'say', n: event.n }),
          ),
        },
        ask: 'asking',
      },
    },
    asking: { invoke: { src: 'service' }, entry: assign({ asked: ({ context }) => context.asked + 1 }) },
    expired: { type: 'final' },
  },
});

/** A child machine with a timer of its own: it reports to its parent when the timer fires. */
const ticker = setup({}).createMachine({
  id: 'ticker',
  initial: 'waiting',
  states: { waiting: { after: { 30_000: 'rang' } }, rang: { type: 'final' } },
});
/**
 * A tree unlike the session: two parallel regions each with an `after` of the same delay (two timers
 * of one type), an invoked child machine with its own timer, and a child that already completed.
 */
const tree = setup({
  types: { context: {} as { log: string[] } },
  actors: { ticker, quick: fromPromise(async () => 'ok') },
}).createMachine({
  id: 'tree',
  context: { log: [] },
  type: 'parallel',
  states: {
    left: {
      initial: 'on',
      states: { on: { after: { 45_000: { target: 'off', actions: assign({ log: ({ context }) => [...context.log, 'left'] }) } } }, off: {} },
    },
    right: {
      initial: 'on',
      states: { on: { after: { 45_000: { target: 'off', actions: assign({ log: ({ context }) => [...context.log, 'right'] }) } } }, off: {} },
    },
    child: {
      initial: 'running',
      states: {
        running: { invoke: { src: 'ticker', onDone: { target: 'rang', actions: assign({ log: ({ context }) => [...context.log, 'child'] }) } } },
        rang: {},
      },
    },
    quick: {
      initial: 'asking',
      states: {
        asking: { invoke: { src: 'quick', onDone: { target: 'answered', actions: assign({ log: ({ context }) => [...context.log, 'quick'] }) } } },
        answered: {},
      },
    },
  },
});

describe.each(STORE_KINDS)('passivation on the %s store', (kind) => {
  async function start(store: LogStore, clock: SimulatedClock) {
    const system = createActorSystem({ store, clock, machines: { session }, passivation: { idleMs: 5_000, checkMs: 1_000 } });
    afterTest(() => system.close());
    if (kind === 'postgres') await system.recover();
    return system;
  }
  /** Moves the clock in steps of one check, letting each round's writes and wakes finish. */
  async function advance(system: { settled(): Promise<void> }, clock: SimulatedClock, ms: number) {
    for (let t = 0; t < ms; t += 1_000) {
      clock.increment(Math.min(1_000, ms - t));
      // each round's queries finish (a networked store answers in a few ms of real time)
      for (let i = 0; i < 5; i++) {
        await system.settled();
        await new Promise((resolve) => (kind === 'postgres' ? setTimeout(resolve, 30) : setImmediate(resolve)));
      }
    }
  }

  it('writes an idle actor to the log and drops it; a send wakes it with its state, and the event is appended once', async () => {
    const log = await openLog(kind);
    const clock = new SimulatedClock();
    clock.set(1_000_000);
    const system = await start(log.store, clock);
    const actor = system.spawn('session', { id: 's-1' });
    await system.settled();
    actor.send({ type: 'say', n: 1 });
    await system.settled();
    await advance(system, clock, 4_000);
    expect(system.get('s-1')).toBe(actor); // idle for 4 s: still resident
    await advance(system, clock, 2_000);
    expect(system.get('s-1')).toBeUndefined();
    expect((await log.store.listStreams({ passivated: true })).map((s) => s.streamId)).toEqual(['s-1']);
    let refused: unknown;
    try {
      actor.send({ type: 'say', n: 9 });
    } catch (err) {
      refused = err;
    }
    expect(isActorlogError(refused, 'ACTOR_PASSIVATED')).toBe(true);
    await system.send('s-1', { type: 'say', n: 2 });
    await until(() => system.get('s-1') !== undefined, 'the session woken');
    await system.settled();
    const woken = system.get<typeof session>('s-1')!;
    expect(woken.getSnapshot().context.said).toEqual([1, 2]);
    expect((await log.store.readStream('s-1')).map((r) => [r.type, (r.data as { n?: number }).n])).toEqual([
      ['say', 1],
      ['say', 2],
    ]);
    expect(await log.store.listStreams({ passivated: true })).toEqual([]);
  });

  it('wakes a sleeping actor for its timer, which fires once at its due time', async () => {
    const log = await openLog(kind);
    const clock = new SimulatedClock();
    clock.set(2_000_000);
    const system = await start(log.store, clock);
    system.spawn('session', { id: 's-2' });
    await system.settled();
    await advance(system, clock, 6_000);
    expect(system.get('s-2')).toBeUndefined();
    await advance(system, clock, 52_000); // 58 s after the start: not due within the next check
    expect(system.get('s-2')).toBeUndefined();
    await advance(system, clock, 2_000); // 59 s: due within the next check, woken with its timer re-armed; 60 s: fires
    await until(async () => (await log.store.getStream('s-2'))?.status === 'done', 's-2 done');
    const fired = (await log.store.readStream('s-2')).filter((r) => r.meta.source === 'timer');
    expect(fired).toHaveLength(1);
    expect(fired[0]!.meta.recordedAt).toBe(2_000_000 + 60_000);
  });

  it("a message from another actor wakes the receiver, each delivered once and in its sender's order", async () => {
    const log = await openLog(kind);
    const clock = new SimulatedClock();
    clock.set(3_000_000);
    const system = await start(log.store, clock);
    const sender = system.spawn('session', { id: 'from' });
    system.spawn('session', { id: 'to' });
    await system.settled();
    await advance(system, clock, 3_000);
    sender.send({ type: 'say', n: 0 }); // keeps the sender awake
    await advance(system, clock, 3_000);
    expect(system.get('to')).toBeUndefined();
    expect(system.get('from')).toBe(sender);
    for (const n of [1, 2, 3]) sender.send({ type: 'tell', to: 'to', n });
    await until(async () => (await system.wake<typeof session>('to'))?.getSnapshot().context.said.length === 3, 'three messages at `to`', { everyMs: 10 });
    expect(system.get<typeof session>('to')!.getSnapshot().context.said).toEqual([1, 2, 3]);
    const logged = (await log.store.readStream('to')).filter((r) => r.type === 'say');
    expect(logged.map((r) => [r.meta.source, r.meta.actor])).toEqual([
      ['actor', 'from'],
      ['actor', 'from'],
      ['actor', 'from'],
    ]);
    expect(await log.store.readInbox('to')).toEqual([]);
  });

  it('sleeps with a child machine, its timer and two timers of one type pending, and wakes for each at its due time', async () => {
    const log = await openLog(kind);
    const clock = new SimulatedClock();
    clock.set(6_000_000);
    const system = createActorSystem({ store: log.store, clock, machines: { tree }, passivation: { idleMs: 5_000, checkMs: 1_000 } });
    afterTest(() => system.close()); // closed even when an assertion fails first
    if (kind === 'postgres') await system.recover();
    system.spawn('tree', { id: 't-1' });
    await system.settled();
    await until(() => system.get<typeof tree>('t-1')?.getSnapshot().context.log.includes('quick') === true, 'the promise child completed');
    await advance(system, clock, 6_000);
    expect(system.get('t-1')).toBeUndefined(); // asleep with the child machine and three timers
    expect((await log.store.listStreams({ passivated: true })).map((r) => r.streamId)).toEqual(['t-1']);
    // woken at 29 s for the child's timer, which fires at 30 s; asleep again, woken at 44 s for the two at 45 s
    await advance(system, clock, 40_000);
    await system.wake('t-1');
    await system.settled();
    expect(system.get<typeof tree>('t-1')!.getSnapshot().context.log).toEqual(['quick', 'child', 'left', 'right']);
    const fired = (await log.store.readStream('t-1')).filter((r) => r.meta.source === 'timer');
    expect(fired.map((r) => r.meta.recordedAt)).toEqual([6_030_000, 6_045_000, 6_045_000]);
    await system.close();
  });

  it('does not passivate an actor while an invoked promise is in flight', async () => {
    const log = await openLog(kind);
    const clock = new SimulatedClock();
    clock.set(4_000_000);
    const system = await start(log.store, clock);
    const actor = system.spawn('session', { id: 's-4' });
    await system.settled();
    actor.send({ type: 'ask' });
    await advance(system, clock, 10_000);
    expect(system.get('s-4')).toBe(actor);
    expect(await system.passivate('s-4')).toBe(false);
    expect(await log.store.listStreams({ passivated: true })).toEqual([]);
  });

  it('recover() after a crash loads the resident streams only; a sleeping one wakes when due', async () => {
    const log = await openLog(kind);
    const clock = new SimulatedClock();
    clock.set(5_000_000);
    // the first process has a clock of its own: once it "dies" its timers never fire
    const deadClock = new SimulatedClock();
    deadClock.set(5_000_000);
    const first = createActorSystem({ store: log.store, clock: deadClock, machines: { session } });
    if (kind === 'postgres') await first.recover();
    for (const id of ['r-1', 'r-2', 'r-3']) first.spawn('session', { id });
    await first.settled();
    expect(await first.passivate('r-1')).toBe(true);
    expect(await first.passivate('r-2')).toBe(true);
    // the process dies here (no close): a new one opens the same log
    const store = await log.reopen();
    if (kind === 'postgres') await (log.store as unknown as { ownership: { release(ids: string[]): Promise<void> } }).ownership.release(['r-3']);
    const second = await start(store, clock);
    const report = kind === 'postgres' ? { recovered: second.list() } : await second.recover();
    expect(report.recovered.map((a) => a.id)).toEqual(['r-3']);
    expect(second.get('r-1')).toBeUndefined();
    const expired = async () => (await store.getStream('r-1'))?.status === 'done' && (await store.getStream('r-2'))?.status === 'done';
    for (let s = 0; s < 90 && !(await expired()); s++) await advance(second, clock, 1_000);
    expect(await expired()).toBe(true);
    for (const id of ['r-1', 'r-2']) expect((await store.readStream(id)).filter((r) => r.meta.source === 'timer')).toHaveLength(1);
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { toArray } from '../support/toArray.ts';
import { assign, fromEventObservable, initialTransition, setup, SimulatedClock, transition, type AnyMachineSnapshot } from 'xstate';
import { from, Subject } from 'rxjs';
import { createActorSystem } from '../../src/runtime/actorSystem.ts';
import { Folder } from '../../src/runtime/fold.ts';
import { replay, verifyReplay } from '../../src/replay/replay.ts';
import { openSqliteStore, type SqliteStore } from '../../stores/sqlite/index.ts';
import type { LogStore } from '../../src/log/types.ts';
import { tempDb } from '../support/tempDb.ts';

/** Frames a test pushes into the invoked source, keyed by the cursor the source was started with. */
const feeds = new Map<string, Subject<{ type: 'frame'; n: number; meta: { source: 'sse'; cursor: string } }>>();
const started: Array<{ cursor?: string }> = [];

const counter = setup({
  types: {
    context: {} as { count: number; seen: number[]; writes: number[] },
    input: {} as { start: number },
    events: {} as { type: 'inc' } | { type: 'frame'; n: number } | { type: 'listen' } | { type: 'stop' },
  },
  actors: {
    source: fromEventObservable(({ input }: { input: { cursor?: string } }) => {
      started.push({ cursor: input.cursor });
      const subject = new Subject<{ type: 'frame'; n: number; meta: { source: 'sse'; cursor: string } }>();
      feeds.set(input.cursor ?? 'start', subject);
      return subject;
    }),
  },
  delays: { long: 10_000 },
}).createMachine({
  id: 'counter',
  context: ({ input }) => ({ count: input.start, seen: [], writes: [] }),
  initial: 'idle',
  states: {
    idle: {
      on: { inc: { actions: assign({ count: ({ context }) => context.count + 1 }) }, listen: 'listening' },
      after: { long: 'expired' },
    },
    listening: {
      invoke: { id: 'source', src: 'source', input: () => ({}) },
      on: { frame: { actions: assign({ seen: ({ context, event }) => [...context.seen, event.n] }) }, stop: 'stopped' },
    },
    expired: { type: 'final' },
    stopped: { type: 'final' },
  },
});

let opened: SqliteStore[] = [];
let dirs: Array<() => void> = [];
function store(path?: string): SqliteStore {
  if (!path) {
    const t = tempDb();
    dirs.push(t.cleanup);
    path = t.path;
  }
  const s = openSqliteStore(path);
  opened.push(s);
  return s;
}
afterEach(() => {
  for (const s of opened) s.close();
  for (const d of dirs) d();
  opened = [];
  dirs = [];
  feeds.clear();
  started.length = 0;
});

describe('write-ahead journaling (invariant 1)', () => {
  it('appends an external event before the transition that acts on it', async () => {
    const log = store();
    const seenAtTransition: number[] = [];
    const machine = setup({ types: { events: {} as { type: 'ping' } } }).createMachine({
      id: 'probe',
      on: { ping: { actions: () => seenAtTransition.push(log.readStream('p-1').length) } },
    });
    const system = createActorSystem({ store: log, machines: { probe: machine } });
    const actor = system.spawn('probe', { id: 'p-1' });
    actor.send({ type: 'ping' });
    actor.send({ type: 'ping' });
    expect(seenAtTransition).toEqual([1, 2]);
    expect(log.readStream('p-1').map((r) => [r.version, r.type, r.meta.source])).toEqual([
      [1, 'ping', 'external'],
      [2, 'ping', 'external'],
    ]);
  });

  it('stops the actor with APPEND_FAILED when the append fails, without processing the event', async () => {
    const log = store();
    const reported: string[] = [];
    const system = createActorSystem({ store: log, machines: { counter }, onError: (id, err) => reported.push(`${id} ${err.code}`) });
    const actor = system.spawn('counter', { id: 'c-1', input: { start: 0 } });
    actor.send({ type: 'inc' });
    const failing: LogStore = log;
    const original = failing.append.bind(failing);
    failing.append = () => {
      throw new Error('disk full');
    };
    expect(() => actor.send({ type: 'inc' })).toThrowError(expect.objectContaining({ code: 'APPEND_FAILED' }));
    failing.append = original;
    expect(reported).toEqual(['c-1 APPEND_FAILED']);
    expect(actor.error?.code).toBe('APPEND_FAILED');
    expect(actor.getSnapshot().context.count).toBe(1);
    expect(actor.getSnapshot().status).toBe('stopped');
    expect(() => actor.send({ type: 'inc' })).toThrowError(expect.objectContaining({ code: 'APPEND_FAILED' }));
    expect(log.readStream('c-1')).toHaveLength(1);
  });

  it('stops the actor when the append of a timer event fails, and reports it instead of throwing', async () => {
    const log = store();
    const clock = new SimulatedClock();
    const reported: string[] = [];
    const system = createActorSystem({ store: log, machines: { counter }, clock, onError: (id, err) => reported.push(`${id} ${err.code}`) });
    const actor = system.spawn('counter', { id: 'c-10', input: { start: 0 } });
    log.append = () => {
      throw new Error('disk full');
    };
    expect(() => clock.increment(10_000)).not.toThrow();
    expect(reported).toEqual(['c-10 APPEND_FAILED']);
    expect(actor.getSnapshot().value).toBe('idle');
    expect(actor.getSnapshot().status).toBe('stopped');
  });

  it('records source events with their source kind, child id and cursor in meta', async () => {
    const log = store();
    const system = createActorSystem({ store: log, machines: { counter } });
    const actor = system.spawn('counter', { id: 'c-2', input: { start: 0 } });
    actor.send({ type: 'listen' });
    feeds.get('start')!.next({ type: 'frame', n: 1, meta: { source: 'sse', cursor: 'c1' } });
    const [, frame] = log.readStream('c-2');
    expect(frame.meta).toMatchObject({ source: 'sse', actor: 'source', cursor: 'c1' });
    expect(frame.data).toEqual({ n: 1, meta: { source: 'sse', cursor: 'c1' } });
  });
});

describe('deterministic replay (invariant 2)', () => {
  it('folds to the live snapshots, and the fast fold equals XState transition()', async () => {
    const log = store();
    const clock = new SimulatedClock();
    clock.set(1_000);
    const system = createActorSystem({ store: log, machines: { counter }, clock });
    const actor = system.spawn('counter', { id: 'c-3', input: { start: 5 } });
    const live: AnyMachineSnapshot[] = [];
    actor.subscribe((s) => live.push(s));
    actor.send({ type: 'inc' });
    actor.send({ type: 'inc' });
    actor.send({ type: 'listen' });
    for (let n = 1; n <= 3; n++) feeds.get('start')!.next({ type: 'frame', n, meta: { source: 'sse', cursor: `c${n}` } });
    actor.send({ type: 'stop' });
    expect(actor.getSnapshot().status).toBe('done');

    const steps = await toArray(replay(log, counter, 'c-3'));
    expect(steps.map((s) => s.snapshot.value)).toEqual(live.map((s) => s.value));
    expect(steps.map((s) => s.snapshot.context)).toEqual(live.map((s) => s.context));
    expect(await verifyReplay(log, counter, 'c-3')).toMatchObject({ ok: true, version: 7 });
    expect(log.getStream('c-3')!.status).toBe('done');

    let [pure] = initialTransition(counter, { start: 5 });
    const folder = new Folder(counter);
    const fast = folder.initial({ start: 5 }, 1_000);
    for (const step of steps) {
      [pure] = transition(counter, pure, step.event as never);
      folder.apply(fast, step.record);
      expect({ value: fast.snapshot.value, context: fast.snapshot.context, status: fast.snapshot.status }).toEqual({
        value: pure.value,
        context: pure.context,
        status: pure.status,
      });
    }
  });

  it('saves each snapshot under the version of the event it follows, when one event object is queued twice', async () => {
    const tick = { type: 'tick' as const };
    const twice = setup({
      types: { context: {} as { n: number }, events: {} as { type: 'tick' } },
      actors: { source: fromEventObservable(() => from([tick, tick])) },
    }).createMachine({
      id: 'twice',
      context: { n: 0 },
      invoke: { id: 'source', src: 'source' },
      on: { tick: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
    });
    const log = store();
    const system = createActorSystem({ store: log, machines: { twice }, snapshotEvery: 1 });
    system.spawn('twice', { id: 't-1' });
    expect(log.readStream('t-1').map((r) => r.type)).toEqual(['tick', 'tick', 'xstate.done.actor.source']);
    expect((log.loadSnapshot('t-1', 1)!.snapshot as { state: { context: { n: number } } }).state.context.n).toBe(1);
    expect((log.loadSnapshot('t-1', 2)!.snapshot as { state: { context: { n: number } } }).state.context.n).toBe(2);
    expect(await verifyReplay(log, twice, 't-1')).toMatchObject({ ok: true, checked: 3, version: 3 });
  });

  it('verifyReplay reports a difference when the logged snapshot disagrees', async () => {
    const log = store();
    const system = createActorSystem({ store: log, machines: { counter } });
    const actor = system.spawn('counter', { id: 'c-4', input: { start: 0 } });
    actor.send({ type: 'inc' });
    system.stop('c-4');
    const saved = log.loadSnapshot('c-4')!;
    const tampered = JSON.parse(JSON.stringify(saved.snapshot));
    tampered.state.context.count = 99;
    log.saveSnapshot({ ...saved, snapshot: tampered });
    const result = await verifyReplay(log, counter, 'c-4');
    expect(result.ok).toBe(false);
    expect(result.differences.map((d) => [d.version, d.key])).toEqual([[saved.version, 'context']]);
  });
});

describe('recovery', () => {
  it('re-arms an after timer with its remaining time (invariant 4)', async () => {
    const t = tempDb();
    dirs.push(t.cleanup);
    const clock1 = new SimulatedClock();
    clock1.set(50_000);
    const first = createActorSystem({ store: store(t.path), machines: { counter }, clock: clock1 });
    first.spawn('counter', { id: 'c-5', input: { start: 0 } }).send({ type: 'inc' });
    clock1.increment(4_000); // the process "dies" here: the system is abandoned, not closed

    const clock2 = new SimulatedClock();
    clock2.set(56_000); // restarted 6 s after the timer was armed: 4 s remain
    const second = createActorSystem({ store: store(t.path), machines: { counter }, clock: clock2 });
    const { recovered } = await second.recover();
    expect(recovered.map((a) => a.id)).toEqual(['c-5']);
    const actor = recovered[0];
    expect(actor.getSnapshot().context.count).toBe(1);
    clock2.increment(3_999);
    expect(actor.getSnapshot().value).toBe('idle');
    clock2.increment(1);
    expect(actor.getSnapshot().value).toBe('expired');
    const last = t.path && second.store.readStream('c-5').at(-1)!;
    expect(last).toMatchObject({ type: 'xstate.after.long.counter.idle', meta: { source: 'timer' } });
    expect(second.store.getStream('c-5')!.status).toBe('done');
  });

  it('restarts a live source from its last logged cursor and loses no frame (invariant 3)', async () => {
    const t = tempDb();
    dirs.push(t.cleanup);
    const first = createActorSystem({ store: store(t.path), machines: { counter } });
    const a = first.spawn('counter', { id: 'c-6', input: { start: 0 } });
    a.send({ type: 'listen' });
    feeds.get('start')!.next({ type: 'frame', n: 1, meta: { source: 'sse', cursor: 'c1' } });
    feeds.get('start')!.next({ type: 'frame', n: 2, meta: { source: 'sse', cursor: 'c2' } });

    const second = createActorSystem({ store: store(t.path), machines: { counter } });
    const [b] = (await second.recover()).recovered;
    expect(started.at(-1)).toEqual({ cursor: 'c2' });
    expect(b.getSnapshot().context.seen).toEqual([1, 2]);
    feeds.get('c2')!.next({ type: 'frame', n: 3, meta: { source: 'sse', cursor: 'c3' } });
    expect(b.getSnapshot().context.seen).toEqual([1, 2, 3]);
    expect(second.store.readStream('c-6').map((r) => r.version)).toEqual([1, 2, 3, 4]);
  });

  it('resumes from a saved snapshot and its bookkeeping', async () => {
    const t = tempDb();
    dirs.push(t.cleanup);
    const first = createActorSystem({ store: store(t.path), machines: { counter }, snapshotEvery: 2 });
    const a = first.spawn('counter', { id: 'c-7', input: { start: 0 } });
    for (let i = 0; i < 5; i++) a.send({ type: 'inc' });
    expect(first.store.loadSnapshot('c-7')!.version).toBe(4);
    const second = createActorSystem({ store: store(t.path), machines: { counter } });
    const [b] = (await second.recover()).recovered;
    expect(b.getSnapshot().context.count).toBe(5);
    expect(b.version).toBe(5);
  });

  it('completes a stream whose final event was logged but whose final snapshot was not', async () => {
    const t = tempDb();
    dirs.push(t.cleanup);
    const first = createActorSystem({ store: store(t.path), machines: { counter } });
    const a = first.spawn('counter', { id: 'c-11', input: { start: 0 } });
    a.send({ type: 'listen' });
    // the process dies after appending `stop` and before the snapshot write
    const log = first.store;
    log.saveSnapshot = () => {
      throw new Error('killed');
    };
    expect(() => a.send({ type: 'stop' })).toThrowError(expect.objectContaining({ code: 'APPEND_FAILED' }));
    const second = createActorSystem({ store: store(t.path), machines: { counter } });
    const report = await second.recover();
    expect(report.recovered).toEqual([]);
    expect(report.finished).toEqual(['c-11']);
    expect(second.store.getStream('c-11')!.status).toBe('done');
    expect(await verifyReplay(second.store, counter, 'c-11')).toMatchObject({ ok: true, checked: 1, version: 2 });
  });

  it('does not resume streams of a stopped or finished actor', async () => {
    const t = tempDb();
    dirs.push(t.cleanup);
    const first = createActorSystem({ store: store(t.path), machines: { counter } });
    first.spawn('counter', { id: 'c-8', input: { start: 0 } });
    first.stop('c-8');
    const second = createActorSystem({ store: store(t.path), machines: { counter } });
    expect((await second.recover()).recovered).toEqual([]);
    expect(second.store.getStream('c-8')!.status).toBe('stopped');
  });
});

describe('group commit', () => {
  it('commits the inputs of a tick, one per actor, in one transaction after the tick; an actor takes its next input once it acted on the last', async () => {
    const log = store();
    const system = createActorSystem({ store: log, machines: { counter }, commit: 'tick' });
    const actors = Array.from({ length: 100 }, (_, i) => system.spawn('counter', { id: `c-9-${i}`, input: { start: 0 } }));
    await system.settled();
    const head = log.headPosition();
    for (const actor of actors) actor.send({ type: 'inc' });
    actors[0]!.send({ type: 'inc' }); // a second input of one actor: appended once the first was acted on
    expect(log.headPosition()).toBe(head);
    expect(actors[0]!.getSnapshot().context.count).toBe(0); // nothing acted on before its commit
    await Promise.resolve();
    expect(log.headPosition()).toBe(head + 100);
    expect(actors.every((a) => a.getSnapshot().context.count >= 1)).toBe(true);
    await system.settled();
    expect(log.readStream('c-9-0').map((r) => r.type)).toEqual(['inc', 'inc']);
    expect((await toArray(replay(log, counter, 'c-9-0'))).at(-1)!.snapshot.context.count).toBe(2);
  });
});

describe('verifyReplay', () => {
  it('compares snapshots whatever the order their context keys were set in', async () => {
    const t = tempDb();
    dirs.push(t.cleanup);
    const log = store(t.path);
    const system = createActorSystem({ store: log, machines: { counter } });
    system.spawn('counter', { id: 'c-12', input: { start: 0 } }).send({ type: 'inc' });
    system.stop('c-12');
    const saved = log.loadSnapshot('c-12')!;
    const reordered = JSON.parse(JSON.stringify(saved.snapshot));
    const { count, ...rest } = reordered.state.context;
    reordered.state.context = { ...rest, count };
    log.saveSnapshot({ ...saved, snapshot: reordered });
    expect(Object.keys((log.loadSnapshot('c-12')!.snapshot as { state: { context: object } }).state.context)[0]).not.toBe('count');
    expect(await verifyReplay(log, counter, 'c-12')).toMatchObject({ ok: true });
  });
});

describe('failures inside an actor', () => {
  it('marks the stream error, reports ACTOR_FAILED and stops the children when the machine throws', async () => {
    let ticks = 0;
    const ticker = new Subject<{ type: 'tick' }>();
    const throwing = setup({
      types: { events: {} as { type: 'go' } | { type: 'tick' } },
      actors: { source: fromEventObservable(() => ticker) },
      actions: {
        explode: () => {
          throw new Error('boom');
        },
      },
    }).createMachine({
      id: 'throwing',
      invoke: { id: 'source', src: 'source' },
      on: { go: { actions: 'explode' }, tick: { actions: () => ticks++ } },
    });
    const log = store();
    const reported: string[] = [];
    const system = createActorSystem({ store: log, machines: { throwing }, onError: (id, err) => reported.push(`${id} ${err.code}`) });
    const actor = system.spawn('throwing', { id: 'x-1' });
    ticker.next({ type: 'tick' });
    expect(ticks).toBe(1);
    actor.send({ type: 'go' });
    expect(actor.getSnapshot().status).toBe('error');
    expect(reported).toEqual(['x-1 ACTOR_FAILED']);
    expect(log.getStream('x-1')!.status).toBe('error');
    expect(ticker.observed).toBe(false); // the child source was stopped
    expect((await system.recover()).recovered).toEqual([]);
  });

  it('refuses a send that is not JSON-safe with INVALID_EVENT; the actor keeps running', async () => {
    const log = store();
    const system = createActorSystem({ store: log, machines: { counter }, onError: () => {} });
    const actor = system.spawn('counter', { id: 'c-13', input: { start: 0 } });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => actor.send({ type: 'inc', cyclic } as never)).toThrowError(
      expect.objectContaining({ code: 'INVALID_EVENT', details: expect.objectContaining({ path: 'event.cyclic.self' }) }),
    );
    expect(actor.getSnapshot().context.count).toBe(0);
    expect(log.readStream('c-13')).toHaveLength(0);
    actor.send({ type: 'inc' });
    expect(actor.getSnapshot().context.count).toBe(1);
  });

  it('in tick mode, one bad write stops only the actor that made it', async () => {
    const log = store();
    const reported: string[] = [];
    const system = createActorSystem({ store: log, machines: { counter }, commit: 'tick', onError: (id, err) => reported.push(`${id} ${err.code}`) });
    const good = system.spawn('counter', { id: 'c-14', input: { start: 0 } });
    const bad = system.spawn('counter', { id: 'c-15', input: { start: 0 } });
    await Promise.resolve();
    const append = log.append.bind(log);
    log.append = (streamId, expected, events) => {
      if (streamId === 'c-15') throw new Error('disk full');
      return append(streamId, expected, events);
    };
    good.send({ type: 'inc' });
    bad.send({ type: 'inc' });
    await Promise.resolve();
    expect(reported).toEqual(['c-15 APPEND_FAILED']);
    expect(log.readStream('c-14')).toHaveLength(1);
    expect(good.getSnapshot().status).toBe('active');
  });
});

describe('timers after a long outage', () => {
  it('fires overdue timers in due order, not in the order they were armed', async () => {
    const order = setup({
      types: { context: {} as { fired: string[] }, events: {} as { type: 'arm' } },
      delays: { long: 5_000, short: 100 },
    }).createMachine({
      id: 'order',
      context: { fired: [] },
      type: 'parallel',
      states: {
        a: {
          initial: 'waiting',
          states: { waiting: { after: { long: { target: 'done', actions: assign({ fired: ({ context }) => [...context.fired, 'long'] }) } } }, done: {} },
        },
        b: {
          initial: 'idle',
          states: {
            idle: { on: { arm: 'waiting' } },
            waiting: { after: { short: { target: 'done', actions: assign({ fired: ({ context }) => [...context.fired, 'short'] }) } } },
            done: {},
          },
        },
      },
    });
    const t = tempDb();
    dirs.push(t.cleanup);
    const clock1 = new SimulatedClock();
    clock1.set(0);
    const first = createActorSystem({ store: store(t.path), machines: { order }, clock: clock1 });
    const a = first.spawn('order', { id: 'o-1' });
    clock1.increment(4_000);
    a.send({ type: 'arm' }); // short is due at 4,100, long at 5,000
    const clock2 = new SimulatedClock();
    clock2.set(10_000); // both overdue
    const second = createActorSystem({ store: store(t.path), machines: { order }, clock: clock2 });
    const [b] = (await second.recover()).recovered;
    clock2.increment(0);
    expect(b.getSnapshot().context.fired).toEqual(['short', 'long']);
  });
});

describe('JournaledActor.waitFor', () => {
  it('rejects with TIMEOUT, ABORTED or ACTOR_STOPPED as ActorlogErrors', async () => {
    vi.useFakeTimers();
    try {
      const log = store();
      const system = createActorSystem({ store: log, machines: { counter } });
      const actor = system.spawn('counter', { id: 'c-16', input: { start: 0 } });
      const timeout = actor.waitFor((s) => s.context.count > 5, { timeoutMs: 50 });
      vi.advanceTimersByTime(50);
      await expect(timeout).rejects.toMatchObject({ code: 'TIMEOUT' });
      const abort = new AbortController();
      const aborted = actor.waitFor((s) => s.context.count > 5, { signal: abort.signal });
      abort.abort();
      await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
      const ended = actor.waitFor((s) => s.context.count > 5);
      actor.send({ type: 'listen' });
      actor.send({ type: 'stop' });
      await expect(ended).rejects.toMatchObject({ code: 'ACTOR_STOPPED' });
    } finally {
      vi.useRealTimers();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry } from '../../cli/registry.ts';
import { MAX_WINDOW, ViewApi } from '../../cli/view/api.ts';
import { KEEP_EVERY } from '../../cli/view/folds.ts';
import { StreamListing } from '../../cli/view/streamList.ts';
import type { LogStore } from '../../src/log/types.ts';
import { replaySteps } from '../../src/replay/replay.ts';
import { createActorSystem } from '../../src/runtime/actorSystem.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { counterMachine } from '../support/cliMachines.ts';
import { tempDb } from '../support/tempDb.ts';
import { countReads } from '../support/kit/index.ts';

const db = tempDb();
const LONG = 3 * KEEP_EVERY + 40;
let store: LogStore;
let counted: ReturnType<typeof countReads>;
let api: ViewApi;
let listing: StreamListing;
const cycle = ['inc', 'pause', 'resume'] as const;

beforeAll(async () => {
  const writer = openSqliteStore(db.path);
  const system = createActorSystem({ store: writer, machines: { counter: counterMachine }, snapshotEvery: 1_000_000 });
  const a = system.spawn('counter', { id: 'counter-a', input: { step: 2 } });
  for (const type of ['start', 'inc', 'pause', 'resume', 'inc', 'finish'] as const) a.send({ type });
  const b = system.spawn('counter', { id: 'counter-b', input: {} });
  b.send({ type: 'start' });
  for (let i = 0; i < LONG - 1; i++) b.send({ type: cycle[i % 3]! });
  system.spawn('counter', { id: 'idle-c', input: {} });
  await system.settled();
  await system.close();
  writer.close();
  // count the events the api reads, to hold its folds to their bound
  counted = countReads(openSqliteStore(db.path, { readonly: true }));
  store = counted.store;
  api = new ViewApi(store, createRegistry({ counter: counterMachine }));
  listing = new StreamListing(store);
});
afterAll(async () => (await store.close(), db.cleanup()));

const q = (o: Record<string, string | number>) => new URLSearchParams(Object.entries(o).map(([k, v]) => [k, String(v)]));

describe('actorlog view API (cli/view/api.ts)', () => {
  it('lists streams with counts by status, filtered by status, machine and id', async () => {
    const all = await listing.streams(q({}));
    expect(all.all).toBe(3);
    expect(all.counts).toEqual({ active: 2, done: 1, error: 0, stopped: 0 });
    expect(all.machines).toEqual(['counter']);
    expect(all.items[0]).not.toHaveProperty('input');
    const done = await listing.streams(q({ status: 'done' }));
    expect(done.items.map((s) => s.streamId)).toEqual(['counter-a']);
    const search = await listing.streams(q({ q: 'COUNTER-B' }));
    expect(search.items.map((s) => s.streamId)).toEqual(['counter-b']);
    expect(search.counts.active).toBe(1);
    expect((await listing.streams(q({ machine: 'job' }))).total).toBe(0);
  });

  it('reads events in version windows of at most MAX_WINDOW, each with the state replay gives', async () => {
    const expected = await replaySteps(store, counterMachine, 'counter-b');
    const page = (await api.events('counter-b', q({ from: 301, limit: 50 }))) as {
      version: number;
      events: Array<{ version: number; state: string; globalPosition: number }>;
    };
    expect(page.version).toBe(LONG);
    expect(page.events.map((e) => e.version)).toEqual(Array.from({ length: 50 }, (_, i) => 301 + i));
    expect(page.events.map((e) => e.state)).toEqual(
      expected
        .slice(300, 350)
        .map((s) => (typeof s.snapshot.value === 'string' ? s.snapshot.value : `running.${(s.snapshot.value as { running: string }).running}`)),
    );
    const big = (await api.events('counter-b', q({ from: 1, limit: 100_000 }))) as typeof page;
    expect(big.events).toHaveLength(MAX_WINDOW);
  });

  it('gives the snapshot at a version, the one before it and the transition the event took', async () => {
    const at = (await api.at('counter-a', 3)) as {
      event: { type: string };
      snapshot: { value: unknown; context: unknown };
      previous: { value: unknown };
      transitions: Array<{ source: string; index: number; targets: string[] }>;
    };
    const steps = await replaySteps(store, counterMachine, 'counter-a');
    expect(at.event.type).toBe('pause');
    expect(at.snapshot.value).toEqual(steps[2]!.snapshot.value);
    expect(at.snapshot.context).toEqual(steps[2]!.snapshot.context);
    expect(at.previous.value).toEqual(steps[1]!.snapshot.value);
    const definition = (await api.streamInfo('counter-a')) as {
      definitionSource: string;
      definition: { states: Record<string, { states: Record<string, { transitions: Array<{ eventType: string }> }> }> };
    };
    expect(definition.definitionSource).toBe('log');
    expect(at.transitions).toEqual([
      { source: 'counter.running.counting', index: expect.any(Number), eventType: 'pause', targets: ['counter.running.paused'] },
    ]);
    const taken = definition.definition.states.running!.states.counting!.transitions[at.transitions[0]!.index]!;
    expect(taken.eventType).toBe('pause');
    const initial = (await api.at('counter-a', 0)) as { snapshot: { value: unknown }; event: unknown };
    expect(initial).toMatchObject({ event: null, snapshot: { value: 'idle' } });
  });

  it('folds from the nearest kept snapshot: a state near the end of a long stream reads a bounded number of events', async () => {
    await api.at('counter-b', LONG); // the first visit folds the whole stream once, keeping a snapshot every KEEP_EVERY versions in memory
    counted.reset();
    await api.at('counter-b', LONG - 5);
    expect(counted.reads()).toBeLessThanOrEqual(KEEP_EVERY);
    counted.reset();
    await api.events('counter-b', q({ from: 2 * KEEP_EVERY + 10, limit: 20 }));
    expect(counted.reads()).toBeLessThanOrEqual(KEEP_EVERY + 20);
  });

  it('shows the whole service at a global position: which streams existed, their state and last event then', async () => {
    const head = await store.headPosition();
    const early = (await store.readStream('counter-b', { fromVersion: 1, toVersion: 1 }))[0]!.globalPosition;
    const at = (await api.service(q({ position: early }))) as {
      total: number;
      items: Array<{ streamId: string; state: string; version: number; event: { type: string } | null }>;
    };
    expect(at.items.map((i) => [i.streamId, i.state, i.version, i.event?.type])).toEqual([
      ['counter-a', 'finished', 6, 'finish'],
      ['counter-b', 'running.counting', 1, 'start'],
    ]);
    const end = (await api.service(q({ position: head }))) as typeof at;
    expect(end.items.map((i) => i.streamId)).toEqual(['counter-a', 'counter-b', 'idle-c']);
    expect(end.items[1]).toMatchObject({ version: LONG });
    expect(end.items[2]).toMatchObject({ version: 0, event: null, state: 'idle' });
    const none = (await api.service(q({ position: 0 }))) as typeof at;
    expect(none.total).toBe(0);
  });

  it('lists and shows events of a stream whose machine is not registered, without states', async () => {
    const bare = new ViewApi(store, createRegistry());
    const info = (await bare.streamInfo('counter-a')) as { replay: { ok: boolean; code: string }; definitionSource: string };
    expect(info).toMatchObject({ replay: { ok: false, code: 'MACHINE_NOT_REGISTERED' }, definitionSource: 'log' });
    const page = (await bare.events('counter-a', q({}))) as { events: Array<{ type: string; state?: string }> };
    expect(page.events.map((e) => e.type)).toEqual(['start', 'inc', 'pause', 'resume', 'inc', 'finish']);
    expect(page.events[0]!.state).toBeUndefined();
    await expect(bare.at('nope', 1)).rejects.toMatchObject({ code: 'STREAM_NOT_FOUND' });
  });
});

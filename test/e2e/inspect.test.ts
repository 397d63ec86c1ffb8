/**
 * `actorlog inspect` re-sends a recorded run to the Stately Inspector as the
 * inspection events of `@statelyai/inspect`, over its WebSocket transport. A local receiver (the
 * `ws` package, 127.0.0.1) takes the frames; they are checked against the package's own types and
 * against what the package's own `createWebSocketInspector` sends for the same machines run live.
 */
import {
  createWebSocketInspector,
  type StatelyActorEvent,
  type StatelyEventEvent,
  type StatelyInspectionEvent,
  type StatelySnapshotEvent,
} from '@statelyai/inspect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { assign, createActor, createMachine, setup, type AnyActorRef, type AnyStateMachine } from 'xstate';
import { createActorSystem, type ActorSystem } from '../../src/index.ts';
import { inspectionEvents } from '../../cli/inspectEvents.ts';
import { createMemoryStore } from '../../stores/memory.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { machines, orderMachine, shipperMachine } from '../support/inspectMachines.ts';
import { tempDb } from '../support/tempDb.ts';
import { readLog, runCli } from '../support/kit/index.ts';

const MACHINES = 'test/support/inspectMachines.ts';

const cli = (...args: string[]) => runCli(args);

/** A WebSocket server on 127.0.0.1 that keeps the frames of each connection, and tells when one closes. */
interface Receiver {
  url: string;
  connections: Array<{ frames: unknown[]; closed: Promise<void> }>;
  close(): Promise<void>;
}
async function receiver(): Promise<Receiver> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const connections: Receiver['connections'] = [];
  server.on('connection', (socket) => {
    const frames: unknown[] = [];
    connections.push({ frames, closed: new Promise((resolve) => socket.once('close', () => resolve())) });
    socket.on('message', (data, isBinary) => frames.push(isBinary ? { binary: true } : JSON.parse(Buffer.from(data as Buffer).toString('utf8'))));
  });
  const { port } = server.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}`, connections, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Runs the CLI against a fresh receiver; resolves with its result and the frames of its one connection. */
async function inspect(...args: string[]) {
  const rx = await receiver();
  try {
    const run = await cli('inspect', ...args, '--url', rx.url);
    await rx.connections[0]?.closed;
    return { ...run, frames: (rx.connections[0]?.frames ?? []) as StatelyInspectionEvent[] };
  } finally {
    await rx.close();
  }
}

// The keys of each event type as @statelyai/inspect declares them; the type tests below fail when the package adds or drops one.
const KEYS = {
  '@xstate.actor': ['type', 'name', 'snapshot', 'definition', 'parentId', 'rootId', 'sessionId', 'createdAt', 'id', '_version'],
  '@xstate.event': ['type', 'event', 'sourceId', 'rootId', 'sessionId', 'createdAt', 'id', '_version'],
  '@xstate.snapshot': ['type', 'event', 'snapshot', 'rootId', 'sessionId', 'createdAt', 'id', '_version'],
} as const satisfies {
  '@xstate.actor': ReadonlyArray<keyof StatelyActorEvent>;
  '@xstate.event': ReadonlyArray<keyof StatelyEventEvent>;
  '@xstate.snapshot': ReadonlyArray<keyof StatelySnapshotEvent>;
};
type Missing<T, K extends readonly unknown[]> = Exclude<keyof T, K[number]>;
const _complete: [
  Missing<StatelyActorEvent, (typeof KEYS)['@xstate.actor']>,
  Missing<StatelyEventEvent, (typeof KEYS)['@xstate.event']>,
  Missing<StatelySnapshotEvent, (typeof KEYS)['@xstate.snapshot']>,
] = [] as unknown as [never, never, never];

const STATUSES = ['active', 'done', 'error', 'stopped'];

/** Checks one received frame against the package's `StatelyInspectionEvent` (the fields and their JSON types). */
function expectStately(frame: unknown): asserts frame is StatelyInspectionEvent {
  const e = frame as Record<string, unknown>;
  expect(Object.keys(KEYS)).toContain(e.type);
  const keys = KEYS[e.type as keyof typeof KEYS] as readonly string[];
  // JSON drops an undefined field: every key present is one the type declares
  expect(Object.keys(e).filter((k) => !keys.includes(k))).toEqual([]);
  for (const k of ['rootId', 'sessionId', 'createdAt', 'id', '_version']) expect(typeof e[k], k).toBe('string');
  expect(e.createdAt).toMatch(/^\d+$/);
  if (e.type === '@xstate.actor') {
    expect(typeof e.name).toBe('string');
    expect(['string', 'undefined']).toContain(typeof e.parentId);
    expect(typeof e.definition).toBe('string');
    expect(() => JSON.parse(e.definition as string)).not.toThrow();
  }
  if (e.type === '@xstate.event') expect(['string', 'undefined']).toContain(typeof e.sourceId);
  if (e.type !== '@xstate.actor') expect(typeof (e.event as { type?: unknown }).type).toBe('string');
  if (e.type !== '@xstate.event') expect(STATUSES).toContain((e.snapshot as { status?: unknown }).status);
}

/** The union of the keys of each event type in `frames`. */
const keysByType = (frames: StatelyInspectionEvent[]) => {
  const out: Record<string, string[]> = {};
  for (const f of frames) out[f.type] = [...new Set([...(out[f.type] ?? []), ...Object.keys(f)])].sort();
  return out;
};

/** Runs the order and the shipper: the order's promise and child machine finish, then it messages the shipper. */
async function run(system: ActorSystem<typeof machines>): Promise<void> {
  system.spawn('shipper', { id: 'shipper-1' });
  const order = system.spawn('order', { id: 'order-1' });
  await order.waitFor((s) => s.value === 'packing', { timeoutMs: 5_000 });
  (order.getSnapshot().children as Record<string, { send(e: { type: string }): void }>).worker!.send({ type: 'worker.finish' });
  await order.waitFor((s) => s.status === 'done', { timeoutMs: 5_000 });
}

const db = tempDb();
beforeAll(async () => {
  const store = openSqliteStore(db.path);
  const system = createActorSystem({ store, machines });
  await run(system);
  await system.close();
  store.close();
});
afterAll(() => db.cleanup());

describe('actorlog inspect', () => {
  it('sends every actor of the log as @statelyai/inspect events: registrations, events with senders, replayed snapshots', async () => {
    const { code, stdout, stderr, frames } = await inspect(db.path, '--machines', MACHINES);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    for (const frame of frames) expectStately(frame);
    expect(stdout).toMatch(/^sent 4 actor\(s\), 4 event\(s\), 5 snapshot\(s\) of 2 stream\(s\) to ws:\/\/127\.0\.0\.1:\d+\n$/);

    const line = (f: StatelyInspectionEvent) =>
      f.type === '@xstate.actor'
        ? `actor ${f.sessionId} parent=${f.parentId ?? '-'}`
        : f.type === '@xstate.event'
          ? `event ${f.sessionId} ${f.event.type} from=${f.sourceId ?? '-'}`
          : `snapshot ${f.sessionId} ${f.snapshot.status} ${JSON.stringify((f.snapshot as { value?: unknown }).value ?? null)}`;
    // in the log's order; the shipper, with no event before position 4, is registered when its first event comes;
    // as XState's own inspection, the children that come or go in a transition before the snapshot after it
    expect(frames.map(line)).toEqual([
      'actor order-1 parent=-',
      'actor order-1/charge parent=order-1',
      'event order-1 xstate.done.actor.charge from=order-1/charge',
      'snapshot order-1/charge done null',
      'actor order-1/worker parent=order-1',
      'snapshot order-1 active "packing"',
      'event order-1/worker worker.finish from=-',
      'snapshot order-1/worker done "finished"',
      'event order-1 worker.done from=order-1/worker',
      'snapshot order-1 done "shipped"',
      'actor shipper-1 parent=-',
      'event shipper-1 ship from=order-1',
      'snapshot shipper-1 active "shipping"',
    ]);
    expect(new Set(frames.map((f) => f.rootId))).toEqual(new Set(['order-1', 'shipper-1']));
    expect(frames.filter((f) => f.sessionId.startsWith('order-1')).every((f) => f.rootId === 'order-1')).toBe(true);
    expect(new Set(frames.map((f) => f.id)).size).toBe(frames.length);
    const shipped = frames.find((f) => f.type === '@xstate.snapshot' && f.sessionId === 'order-1' && f.snapshot.status === 'done') as StatelySnapshotEvent;
    expect(shipped.snapshot).toMatchObject({ status: 'done', context: { receipt: 'r-1' } });

    // the definition is a machine config that XState builds into the logged statechart
    const order = frames[0] as StatelyActorEvent;
    const drawn = createMachine(JSON.parse(order.definition!));
    expect(Object.keys(drawn.root.states)).toEqual(['paying', 'packing', 'shipped']);
    expect(drawn.root.states.packing!.on['worker.done']![0]).toMatchObject({ guard: 'canShip', actions: ['notifyShipper'] });
    expect(drawn.root.states.paying!.invoke[0]).toMatchObject({ id: 'charge', src: 'charge' });
  });

  it("sends the same event fields as the package's own createWebSocketInspector does for the same machines run live", async () => {
    const rx = await receiver();
    try {
      const inspector = createWebSocketInspector({ url: rx.url });
      const system = createActorSystem({ store: createMemoryStore(), machines, inspect: inspector.inspect });
      await run(system);
      await expect
        .poll(() => (rx.connections[0]?.frames as StatelyInspectionEvent[] | undefined)?.some((f) => f.type === '@xstate.event' && f.event.type === 'ship'), {
          timeout: 5_000,
        })
        .toBe(true);
      await system.close();
      inspector.stop();
      const live = rx.connections[0]!.frames as StatelyInspectionEvent[];
      const { frames } = await inspect(db.path, '--machines', MACHINES);
      const ours = keysByType(frames);
      const theirs = keysByType(live.filter((f) => f.type !== '@xstate.event' || f.event.type !== 'xstate.init'));
      expect(ours).toEqual(theirs);
      // and their values have the same JSON types (their `id` is null: the type says string, as ours is)
      for (const [a, b] of [[frames.find((f) => f.type === '@xstate.actor' && f.parentId), live.find((f) => f.type === '@xstate.actor' && f.parentId)]]) {
        for (const key of Object.keys(a!).filter((k) => k !== 'id'))
          expect(typeof (a as unknown as Record<string, unknown>)[key], key).toBe(typeof (b as unknown as Record<string, unknown>)[key]);
      }
      expect(new Set(live.map((f) => f._version))).toEqual(new Set([frames[0]!._version]));
    } finally {
      await rx.close();
    }
  });

  it("a spawned child still running when its parent ends gets a stopped snapshot, where and as XState's own inspection sends it", async () => {
    const child = createMachine({ id: 'child', initial: 'idle', states: { idle: {} } });
    const parent = setup({ actors: { child }, types: { context: {} as { ref: AnyActorRef | null } } }).createMachine({
      id: 'parent',
      context: { ref: null },
      initial: 'open',
      states: { open: { on: { go: { actions: assign({ ref: ({ spawn }) => spawn('child', { id: 'w1' }) }) }, end: 'closed' } }, closed: { type: 'final' } },
    });
    // live: XState's inspection of the same run (the root's session id is its own, here renamed to the stream id)
    const live: string[] = [];
    const actor = createActor(parent, {
      inspect: (ev) => {
        const who = (ev.actorRef as AnyActorRef).id === 'w1' ? 'p-1/w1' : 'p-1';
        if (ev.type === '@xstate.snapshot') live.push(`snapshot ${who} ${ev.event.type} ${ev.snapshot.status}`);
        if (ev.type === '@xstate.actor' && who !== 'p-1') live.push(`actor ${who}`);
      },
    });
    actor.start();
    actor.send({ type: 'go' });
    actor.send({ type: 'end' });
    const store = createMemoryStore();
    const system = createActorSystem({ store, machines: { parent } });
    const journaled = system.spawn('parent', { id: 'p-1' });
    journaled.send({ type: 'go' });
    journaled.send({ type: 'end' });
    await system.settled();
    await system.close();
    const sent: string[] = [];
    for (const ev of inspectionEvents(store, { machines: new Map([['p-1', parent]]) })) {
      if (ev.type === '@xstate.snapshot') sent.push(`snapshot ${ev.sessionId} ${ev.event.type} ${ev.snapshot.status}`);
      if (ev.type === '@xstate.actor' && ev.parentId) sent.push(`actor ${ev.sessionId}`);
    }
    expect(sent).toEqual(['actor p-1/w1', 'snapshot p-1 go active', 'snapshot p-1/w1 xstate.stop stopped', 'snapshot p-1 end done']);
    // the live run, after its start (xstate.init snapshots), has the same children's and the root's snapshots in the same order
    expect(live.filter((l) => !l.includes('xstate.init'))).toEqual(sent);
  });

  it('one stream up to a version: only its actor tree, only its events up to --to', async () => {
    const { code, stdout, frames } = await inspect(db.path, 'order-1', '--to', '2', '--machines', MACHINES, '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ streams: 1, actors: 3, events: 2, snapshots: 3 });
    expect(frames.filter((f) => f.type === '@xstate.event').map((f) => (f as StatelyEventEvent).event.type)).toEqual([
      'xstate.done.actor.charge',
      'worker.finish',
    ]);
    expect(frames.every((f) => f.rootId === 'order-1')).toBe(true);
  });

  it('without the machines: the statechart from the log, the events, no snapshots, and a warning', async () => {
    const { code, stderr, frames } = await inspect(db.path);
    expect(code).toBe(0);
    expect(stderr).toMatch(
      /stream order-1 was written by machine "order", which is not registered.*sending its events without snapshots \(MACHINE_NOT_REGISTERED\)/,
    );
    for (const frame of frames) expectStately(frame);
    expect(frames.map((f) => f.type).filter((t) => t === '@xstate.snapshot')).toEqual([]);
    expect(frames.filter((f) => f.type === '@xstate.event')).toHaveLength(4);
    const definitions = frames.filter((f): f is StatelyActorEvent => f.type === '@xstate.actor').map((f) => JSON.parse(f.definition!).id);
    expect(definitions).toEqual(['order', 'shipper']);
  });

  it('an inspector that cannot be reached is TRANSIENT (exit 2); a URL that is not ws:// is INVALID_OPTIONS', async () => {
    const rx = await receiver();
    await rx.close(); // its port is free now: nothing listens there
    const refused = await cli('inspect', db.path, '--machines', MACHINES, '--url', rx.url);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^actorlog: cannot connect to the inspector at ws:\/\/127\.0\.0\.1:\d+: .* \(TRANSIENT\)\n$/);
    const http = await cli('inspect', db.path, '--url', 'http://127.0.0.1:1');
    expect(http.code).toBe(2);
    expect(http.stderr).toMatch(/\(INVALID_OPTIONS\)\n$/);
  });

  it("what it sends is typed as the package's StatelyInspectionEvent", async () => {
    await readLog(db.path, (store) => {
      const sent: StatelyInspectionEvent[] = [
        ...inspectionEvents(store, {
          machines: new Map<string, AnyStateMachine>([
            ['order-1', orderMachine],
            ['shipper-1', shipperMachine],
          ]),
        }),
      ];
      expect(sent).toHaveLength(13);
    });
  });
});

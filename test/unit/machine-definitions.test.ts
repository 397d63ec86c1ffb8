/**
 * Machine definitions in the log. A stream's statechart is read back from the log
 * file alone (no application code); logs of the earlier schema stay readable and are migrated.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { and, assign, createMachine, fromPromise, not, setup } from 'xstate';
import { createActorSystem, machineHash, type EmbeddedLogStore } from 'actorlog';
import { openSqliteStore, SCHEMA_VERSION } from 'actorlog/stores/sqlite';
import { migrations } from '../../stores/sqlite/schema.ts';
import { expectCode } from '../conformance/embedded/fixtures.ts';
import { tempLog, tempStore, type TempLog } from '../support/kit/index.ts';

const worker = createMachine({ id: 'worker', initial: 'running', states: { running: { on: { 'worker.stop': 'stopped' } }, stopped: { type: 'final' } } });

/** A machine as a user writes one: named guards, actions and actors, a child machine, parallel, after, always. */
const orderMachine = setup({
  types: { context: {} as { tries: number }, events: {} as { type: 'submit' } | { type: 'retry' } | { type: 'cancel' } },
  guards: { canSubmit: () => true, tooManyTries: ({ context }) => context.tries > 3, isPaid: () => true },
  actions: { notify: () => {}, recordTry: assign({ tries: ({ context }) => context.tries + 1 }) },
  actors: { charge: fromPromise(async () => 'ok'), worker },
}).createMachine({
  id: 'order',
  context: { tries: 0 },
  initial: 'draft',
  states: {
    draft: { on: { submit: { target: 'paying', guard: 'canSubmit', actions: ['notify', 'recordTry'] }, cancel: 'cancelled' } },
    paying: {
      invoke: { id: 'charge', src: 'charge', onDone: 'fulfilling', onError: 'draft' },
      after: { 5000: { target: 'draft', actions: 'notify' } },
      on: { retry: { guard: and(['isPaid', not('tooManyTries')]), target: 'paying', reenter: true } },
    },
    fulfilling: {
      type: 'parallel',
      states: {
        shipping: {
          initial: 'packing',
          states: { packing: { invoke: { id: 'worker', src: 'worker' }, always: { guard: 'tooManyTries', target: 'stuck' } }, stuck: {} },
        },
        billing: { initial: 'open', states: { open: { on: { cancel: { guard: ({ context }) => context.tries === 0, target: 'closed' } } }, closed: {} } },
      },
    },
    cancelled: { type: 'final' },
  },
});

interface Transition {
  target?: string[];
  guard?: unknown;
  actions?: unknown[];
  eventType?: string;
  delay?: number;
}
interface StateDef {
  id: string;
  type: string;
  initial?: { target: string[] };
  states: Record<string, StateDef>;
  on: Record<string, Transition[]>;
  always?: Transition[];
  invoke: Array<{ id: string; src: string }>;
}

describe('machine definitions in the log', () => {
  it("a stream's statechart reads back from the log file alone: states, transitions with event names, guards, actions, actors", async () => {
    const log = tempLog();
    const file = log.path;
    const writer = openSqliteStore(file);
    const system = createActorSystem({ store: writer, machines: { order: orderMachine }, snapshotEvery: 0 });
    system.spawn('order', { id: 'order-1' }).send({ type: 'submit' });
    await system.close();
    writer.close();

    // A new connection to the file and nothing of the application: no machine, no hash computed here.
    const reader = log.open({ readonly: true });
    const stream = reader.getStream('order-1')!;
    const record = reader.loadDefinition(stream.machine.hash)!;
    expect(record).toMatchObject({ hash: stream.machine.hash, name: 'order' });
    const root = record.definition as StateDef;
    expect(root).toMatchObject({ id: 'order', type: 'compound', initial: { target: ['#order.draft'] } });
    expect(Object.keys(root.states)).toEqual(['draft', 'paying', 'fulfilling', 'cancelled']);
    const { draft, paying, fulfilling, cancelled } = root.states as Record<string, StateDef>;
    expect(draft!.on.submit).toEqual([
      expect.objectContaining({ eventType: 'submit', target: ['#order.paying'], guard: 'canSubmit', actions: ['notify', 'recordTry'] }),
    ]);
    expect(draft!.on.cancel![0]).toMatchObject({ target: ['#order.cancelled'] });
    expect(paying!.invoke).toEqual([expect.objectContaining({ id: 'charge', src: 'charge' })]);
    expect(paying!.on['xstate.done.actor.charge']![0]).toMatchObject({ target: ['#order.fulfilling'] });
    expect(paying!.on['xstate.error.actor.charge']![0]).toMatchObject({ target: ['#order.draft'] });
    expect(paying!.on['xstate.after.5000.order.paying']![0]).toMatchObject({ delay: 5000, target: ['#order.draft'], actions: ['notify'] });
    // guards XState's toJSON() drops (functions) are named by what they are
    expect(paying!.on.retry![0]!.guard).toEqual({ type: 'xstate.and', guards: ['isPaid', { type: 'xstate.not', guards: ['tooManyTries'] }] });
    expect(fulfilling!.type).toBe('parallel');
    const packing = fulfilling!.states.shipping!.states.packing!;
    expect(packing.invoke).toEqual([expect.objectContaining({ id: 'worker', src: 'worker' })]);
    // eventless transitions, which toJSON() leaves out
    expect(packing.always).toEqual([expect.objectContaining({ eventType: '', guard: 'tooManyTries', target: ['#order.fulfilling.shipping.stuck'] })]);
    expect(fulfilling!.states.billing!.states.open!.on.cancel![0]).toMatchObject({ guard: { type: 'inline' }, target: ['#order.fulfilling.billing.closed'] });
    expect(cancelled!.type).toBe('final');
  });

  it('saves a definition once per hash, in the transaction of the stream: a spawn that fails saves nothing', async () => {
    const store = tempStore(); // SQLite's own rollback, on a real file
    const saved: string[] = [];
    const save = store.saveDefinition.bind(store);
    store.saveDefinition = (r) => (saved.push(r.hash), save(r));
    const system = createActorSystem({ store, machines: { order: orderMachine, worker } });
    system.spawn('order', { id: 'a' });
    system.spawn('order', { id: 'b' });
    expect(saved).toEqual([machineHash(orderMachine)]);
    await system.close();
    // another machine on an id the log already has: STREAM_EXISTS, and its definition is rolled back with it
    expectCode(() => createActorSystem({ store, machines: { worker } }).spawn('worker', { id: 'a' }), 'STREAM_EXISTS');
    expect(saved).toHaveLength(2);
    expect(store.loadDefinition(machineHash(worker))).toBeUndefined();
    expect(store.loadDefinition(machineHash(orderMachine))?.name).toBe('order');
  });

  it('recover() saves the definition of a stream whose log has none (written before definitions were kept)', async () => {
    const log = tempLog();
    const file = log.path;
    const first = openSqliteStore(file);
    createActorSystem({ store: first, machines: { order: orderMachine } }).spawn('order', { id: 'o-1' });
    first.close();
    const raw = new Database(file);
    raw.prepare('DELETE FROM definitions').run();
    raw.close();
    const store = log.open();
    expect(store.loadDefinition(machineHash(orderMachine))).toBeUndefined();
    const system = createActorSystem({ store, machines: { order: orderMachine } });
    expect((await system.recover()).recovered.map((a) => a.id)).toEqual(['o-1']);
    expect(store.loadDefinition(machineHash(orderMachine))).toMatchObject({ name: 'order', definition: { id: 'order' } });
    await system.close();
  });
});

describe('sqlite: the definitions table (schema version 3)', () => {
  /** A log file as schema version 2 wrote it: one stream, one event. */
  function version2File(): TempLog {
    const log = tempLog();
    const db = new Database(log.path);
    db.pragma('journal_mode = WAL');
    db.exec(migrations[0]!);
    db.exec(migrations[1]!);
    db.pragma('user_version = 2');
    db.prepare("INSERT INTO streams VALUES ('s', 'order', 'h2', '{}', 'active', 1, 1)").run();
    db.prepare("INSERT INTO events (stream_id, version, type, data, meta) VALUES ('s', 1, 'submit', '{}', '{\"source\":\"external\",\"recordedAt\":2}')").run();
    db.close();
    return log;
  }
  const tableSql = (file: string) => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare<[], string>("SELECT sql FROM sqlite_schema WHERE name = 'definitions'").pluck().get();
    } finally {
      db.close();
    }
  };

  it('has the definitions table since schema version 3, a WITHOUT ROWID table keyed by hash', async () => {
    const log = tempLog();
    const file = log.path;
    log.open();
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(3);
    expect(tableSql(file)).toMatch(/hash\s+TEXT PRIMARY KEY[\s\S]*WITHOUT ROWID/);
  });

  it('read-only on a version 2 log: reads work, loadDefinition is undefined (no table), nothing is migrated', async () => {
    const log = version2File();
    const file = log.path;
    const reader = log.open({ readonly: true });
    expect(reader.pragma('user_version')).toBe(2);
    expect(reader.readStream('s').map((r) => r.type)).toEqual(['submit']);
    expect(reader.loadDefinition('h2')).toBeUndefined();
    expectCode(() => reader.saveDefinition({ hash: 'h2', name: 'order', definition: {}, recordedAt: 3 }), 'STORE_UNAVAILABLE');
    expect(tableSql(file)).toBeUndefined();
  });

  it('a read-write open migrates a version 2 log to the current schema and keeps what it held; a reader opened before sees the table once it exists', async () => {
    const log = version2File();
    const reader = log.open({ readonly: true });
    expect(reader.loadDefinition('h2')).toBeUndefined();
    const writer: EmbeddedLogStore & { pragma(n: string): unknown } = log.open();
    expect(writer.pragma('user_version')).toBe(SCHEMA_VERSION);
    expect(writer.readStream('s').map((r) => r.type)).toEqual(['submit']);
    writer.saveDefinition({ hash: 'h2', name: 'order', definition: { id: 'order' }, recordedAt: 3 });
    expect(writer.append('s', 1, [{ type: 'cancel', data: {}, meta: { source: 'external', recordedAt: 4 } }]).nextVersion).toBe(2);
    expect(reader.loadDefinition('h2')).toEqual({ hash: 'h2', name: 'order', definition: { id: 'order' }, recordedAt: 3 });
  });
});

/**
 * Issue 15 item 10: values the log cannot hold exactly. The actor acts on exactly what the log holds:
 * the application's `send` or `spawn` of such a value is refused with INVALID_EVENT naming the JSON
 * path (nothing appended, the actor keeps running); an event a child produces is delivered as the log
 * holds it (a Date as its ISO string, an Error described), and one JSON cannot write at all (a BigInt)
 * stops the actor with INVALID_EVENT. Machines written as a user would, on a real SQLite file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { assign, fromPromise, setup } from 'xstate';
import { createActorSystem, isActorlogError, verifyReplay, type ActorlogError } from 'actorlog';
import { openSqliteStore, type SqliteStore } from 'actorlog/stores/sqlite';
import { tempDb } from '../support/tempDb.ts';

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

function open(): SqliteStore {
  const t = tempDb();
  const store = openSqliteStore(t.path);
  cleanups.push(t.cleanup, () => store.close());
  return store;
}

const notes = setup({
  types: { context: {} as { notes: unknown[] }, input: {} as { owner?: string }, events: {} as { type: 'note'; value?: unknown } },
}).createMachine({
  id: 'notes',
  context: { notes: [] },
  on: { note: { actions: assign({ notes: ({ context, event }) => [...context.notes, event.value] }) } },
});

class Money {
  constructor(readonly cents: number) {}
}

/** `{ down: { down: … } }`, `levels` deep. */
function deep(levels: number): object {
  let value: object = {};
  for (let i = 0; i < levels; i++) value = { down: value };
  return value;
}

/** The error thrown by `fn`, or a failure when it does not throw. */
function thrown(fn: () => unknown): ActorlogError {
  try {
    fn();
  } catch (err) {
    if (isActorlogError(err)) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('issue 15 item 10: values the log cannot hold exactly', () => {
  it('refuses a send with INVALID_EVENT naming the JSON path; the actor keeps running and takes later sends', async () => {
    const store = open();
    const errors: ActorlogError[] = [];
    const system = createActorSystem({ store, machines: { notes }, onError: (_id, e) => errors.push(e) });
    const actor = system.spawn('notes', { id: 'n-1' });
    const refused: Array<[unknown, string, string]> = [
      [{ at: new Date(0) }, 'event.value.at', 'a Date'],
      [new Map([['a', 1]]), 'event.value', 'a Map'],
      [[1, new Set([2])], 'event.value[1]', 'a Set'],
      [{ ratio: NaN }, 'event.value.ratio', 'NaN'],
      [{ 'max-size': Infinity }, 'event.value["max-size"]', 'Infinity'],
      [{ onDone: () => 1 }, 'event.value.onDone', 'a function'],
      [new Money(5), 'event.value', 'a Money'],
      [{ big: 10n }, 'event.value.big', 'a BigInt'],
      [new Error('kept as an Error'), 'event.value', 'a Error'],
      [deep(1_200), 'event.value' + '.down'.repeat(1_000), 'nested more than 1000 levels deep'],
    ];
    for (const [value, path, kind] of refused) {
      const err = thrown(() => actor.send({ type: 'note', value }));
      expect([err.code, err.details?.path, err.details?.kind], path).toEqual(['INVALID_EVENT', path, kind]);
    }
    await expect(system.send('n-1', { type: 'note', value: new Date(0) })).rejects.toMatchObject({ code: 'INVALID_EVENT', details: { path: 'event.value' } });
    // to an actor that does not run here (its inbox): refused the same way, nothing posted
    await expect(system.send('elsewhere', { type: 'note', value: { at: new Date(0) } })).rejects.toMatchObject({
      code: 'INVALID_EVENT',
      details: { path: 'event.value.at' },
    });
    expect(store.readInbox('elsewhere')).toEqual([]);
    expect(store.readStream('n-1')).toEqual([]);
    expect(errors).toEqual([]);

    actor.send({ type: 'note', value: { at: '1970-01-01T00:00:00.000Z', skip: undefined } });
    actor.send({ type: 'note' });
    expect(actor.getSnapshot().context.notes).toEqual([{ at: '1970-01-01T00:00:00.000Z' }, undefined]);
    expect(store.readStream('n-1').map((r) => r.data)).toEqual([{ value: { at: '1970-01-01T00:00:00.000Z' } }, {}]);
    expect(store.getStream('n-1')!.status).toBe('active');
    await system.close();
    const verify = await verifyReplay(store, notes, 'n-1');
    expect(verify.differences).toEqual([]);
    expect(verify.checked).toBeGreaterThan(0);
  });

  it('refuses a spawn input the log cannot hold with INVALID_EVENT, before writing anything', () => {
    const store = open();
    const system = createActorSystem({ store, machines: { notes } });
    const err = thrown(() => system.spawn('notes', { id: 'n-2', input: { owner: 'ann', since: new Date(0) } as never }));
    expect([err.code, err.details?.path]).toEqual(['INVALID_EVENT', 'input.since']);
    expect(thrown(() => system.spawn('notes', { id: 'n-2', input: { owner: 1n } as never })).details?.path).toBe('input.owner');
    expect(store.getStream('n-2')).toBeUndefined();
    expect(system.get('n-2')).toBeUndefined();
    system.spawn('notes', { id: 'n-2', input: { owner: 'ann' } });
    expect(store.getStream('n-2')!.input).toEqual({ owner: 'ann' });
  });

  it("delivers a child's output as the log holds it (a Date as text, an Error described), so replay matches live", async () => {
    const store = open();
    const fetcher = setup({
      types: { context: {} as { fetched: unknown; failure: unknown } },
      actors: {
        fetch: fromPromise(async () => ({ at: new Date(86_400_000), tags: new Set(['a']) })),
        fail: fromPromise(async (): Promise<never> => {
          throw Object.assign(new TypeError('socket hang up'), { code: 'ECONNRESET' });
        }),
      },
    }).createMachine({
      id: 'fetcher',
      context: { fetched: null, failure: null },
      type: 'parallel',
      states: {
        one: { invoke: { id: 'fetch', src: 'fetch', onDone: { actions: assign({ fetched: ({ event }) => event.output }) } } },
        two: { invoke: { id: 'fail', src: 'fail', onError: { actions: assign({ failure: ({ event }) => event.error }) } } },
      },
    });
    const errors: ActorlogError[] = [];
    const system = createActorSystem({ store, machines: { fetcher }, onError: (_id, e) => errors.push(e) });
    const actor = system.spawn('fetcher', { id: 'f-1' });
    const done = await actor.waitFor((s) => s.context.fetched !== null && s.context.failure !== null);
    expect(done.context).toEqual({
      fetched: { at: '1970-01-02T00:00:00.000Z', tags: {} },
      failure: { name: 'TypeError', message: 'socket hang up', code: 'ECONNRESET' },
    });
    expect(done.context.failure).not.toBeInstanceOf(Error);
    expect(errors).toEqual([]);
    await system.close();
    const verify = await verifyReplay(store, fetcher, 'f-1');
    expect(verify.differences).toEqual([]);
    expect(verify.checked).toBeGreaterThan(0);
  });

  it('stops the actor with INVALID_EVENT when a child produces what JSON cannot write (a BigInt)', async () => {
    const store = open();
    const counter = setup({ actors: { count: fromPromise(async () => ({ total: 2n ** 64n })) } }).createMachine({
      id: 'counter',
      invoke: { id: 'count', src: 'count', onDone: '.counted' },
      initial: 'counting',
      states: { counting: {}, counted: {} },
    });
    const errors: ActorlogError[] = [];
    const system = createActorSystem({ store, machines: { counter }, onError: (_id, e) => errors.push(e) });
    const actor = system.spawn('counter', { id: 'k-1' });
    await expect(actor.waitFor((s) => s.matches('counted'))).rejects.toMatchObject({ code: 'ACTOR_STOPPED' });
    expect(errors.map((e) => [e.code, e.details?.path])).toEqual([['INVALID_EVENT', 'event.output.total']]);
    expect(store.readStream('k-1')).toEqual([]);
    expect(store.getStream('k-1')!.status).toBe('error');
  });
});

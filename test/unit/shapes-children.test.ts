/**
 * Issue 15 items 5 and 9, live: a child machine never acts on an input whose append failed (the whole
 * tree stops, in each and in tick mode); a source whose input is not an object cannot get its cursor
 * back in `input.cursor`, so its first cursor stops the actor with INVALID_CURSOR before it is logged.
 * User-shaped machines on a real SQLite file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { assign, fromCallback, fromEventObservable, setup } from 'xstate';
import { Subject } from 'rxjs';
import { createActorSystem, type ActorlogError, type LogStore } from 'actorlog';
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

/** `inner`, except that every write with an append fails while `broken.now` is true. */
function breakable(inner: SqliteStore, broken: { now: boolean }): LogStore {
  return new Proxy(inner, {
    get(target, key) {
      if (key === 'write') {
        return (batch: Parameters<LogStore['write']>[0]) => {
          if (broken.now && batch.appends?.length) throw new Error('disk full');
          return target.write(batch);
        };
      }
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('issue 15 item 5: a child machine and a failed append', () => {
  const items = new Subject<number>();
  const acted: number[] = [];
  /** A child machine whose own callback child feeds it items (inputs of the tree, to the child). */
  const worker = setup({
    types: { context: {} as { n: number } },
    actors: {
      feed: fromCallback(({ sendBack }) => {
        const sub = items.subscribe((n) => sendBack({ type: 'item', n }));
        return () => sub.unsubscribe();
      }),
    },
  }).createMachine({
    id: 'worker',
    context: { n: 0 },
    invoke: { id: 'feed', src: 'feed' },
    on: { item: { actions: [assign({ n: ({ context }) => context.n + 1 }), ({ event }) => acted.push((event as unknown as { n: number }).n)] } },
  });
  const root = setup({ actors: { worker } }).createMachine({ id: 'root', invoke: { id: 'worker', src: 'worker' } });

  for (const commit of ['each', 'tick'] as const) {
    it(`stops the whole tree before the child acts on it (commit ${commit})`, async () => {
      acted.length = 0;
      const file = open();
      const broken = { now: false };
      const errors: ActorlogError[] = [];
      const system = createActorSystem({ store: breakable(file, broken), machines: { root }, commit, onError: (_id, e) => errors.push(e) });
      const actor = system.spawn('root', { id: 'r-1' });
      await system.settled();
      items.next(1);
      await system.settled();
      broken.now = true;
      items.next(2);
      await system.settled();
      items.next(3);
      await system.settled();
      expect(acted).toEqual([1]);
      expect(errors.map((e) => e.code)).toEqual(['APPEND_FAILED']);
      expect(actor.getSnapshot().status).toBe('stopped');
      expect(items.observed).toBe(false); // the child's own child was stopped with the tree
      expect(file.readStream('r-1').map((r) => [r.type, r.meta.target])).toEqual([['item', 'worker']]);
    });
  }
});

describe('issue 15 item 9: a source whose input cannot carry its cursor', () => {
  it('stops the actor with INVALID_CURSOR at its first cursor when its input is a string', () => {
    const frames = new Subject<{ type: 'frame'; meta: { source: 'sse'; cursor: string } }>();
    const reader = setup({ actors: { source: fromEventObservable((_args: { input: string }) => frames) } }).createMachine({
      id: 'reader',
      invoke: { id: 'source', src: 'source', input: 'https://feeds.example/prices' },
    });
    const file = open();
    const errors: ActorlogError[] = [];
    const system = createActorSystem({ store: file, machines: { reader }, onError: (_id, e) => errors.push(e) });
    system.spawn('reader', { id: 'rd-1' });
    frames.next({ type: 'frame', meta: { source: 'sse', cursor: '1' } });
    expect(errors.map((e) => [e.code, e.details?.actor])).toEqual([['INVALID_CURSOR', 'source']]);
    expect(errors[0]!.message).toContain('input is a string');
    expect(file.readStream('rd-1')).toEqual([]);
    expect(file.getStream('rd-1')!.status).toBe('error');
  });
});

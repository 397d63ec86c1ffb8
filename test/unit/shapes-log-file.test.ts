/**
 * Issue 15 item 15: a log file deleted or replaced while the service runs. SQLite would keep
 * committing into the file it holds open, unlinked, and everything would be lost at exit: the store
 * notices that the file at its path is another one (or none) and refuses every write with
 * STORE_UNAVAILABLE; the actor stops and onError is told. Real SQLite files.
 */
import { copyFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { createActorSystem, type ActorlogError } from 'actorlog';
import { openSqliteStore } from 'actorlog/stores/sqlite';
import { tempDb } from '../support/tempDb.ts';

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

const counter = setup({ types: { context: {} as { n: number }, events: {} as { type: 'inc' } } }).createMachine({
  id: 'counter',
  context: { n: 0 },
  on: { inc: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
});

const cases: Array<[string, (path: string, dir: string) => void]> = [
  [
    'deleted',
    (path) => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    },
  ],
  [
    'replaced by a copy',
    (path, dir) => {
      copyFileSync(path, join(dir, 'restore.db'));
      renameSync(join(dir, 'restore.db'), path);
    },
  ],
];

describe('issue 15 item 15: the log file deleted or replaced under a running service', () => {
  for (const [what, change] of cases) {
    it(`refuses every write with STORE_UNAVAILABLE once the file is ${what}`, () => {
      const t = tempDb();
      cleanups.push(t.cleanup);
      const store = openSqliteStore(t.path);
      cleanups.push(() => store.close());
      const errors: ActorlogError[] = [];
      const system = createActorSystem({ store, machines: { counter }, onError: (_id, e) => errors.push(e) });
      const actor = system.spawn('counter', { id: 'c-1' });
      actor.send({ type: 'inc' });

      change(t.path, t.dir);
      // the store looks at its file at least once every 32 writes (an fstat each time would cost ~5%)
      let sent = 0;
      const refused = (() => {
        for (; sent < 40; sent++) {
          try {
            actor.send({ type: 'inc' });
          } catch (err) {
            return err;
          }
        }
        return undefined;
      })();
      expect(refused).toMatchObject({ code: 'STORE_UNAVAILABLE' });
      expect(sent).toBeLessThan(32);
      expect(errors.map((e) => [e.code, e.details?.path])).toEqual([['STORE_UNAVAILABLE', t.path]]);
      expect(actor.getSnapshot().context.n).toBe(1 + sent); // it never acted on what could not be kept
      expect(() => store.append('c-1', 1 + sent, [{ type: 'inc', data: {}, meta: { source: 'external', recordedAt: 0 } }])).toThrow(
        expect.objectContaining({ code: 'STORE_UNAVAILABLE' }),
      );
      expect(() => system.spawn('counter', { id: 'c-2' })).toThrow(expect.objectContaining({ code: 'STORE_UNAVAILABLE' }));
    });
  }

  it('goes on writing while the file is only renamed along with nothing else (same file, same path back)', () => {
    const t = tempDb();
    cleanups.push(t.cleanup);
    const store = openSqliteStore(t.path);
    cleanups.push(() => store.close());
    const system = createActorSystem({ store, machines: { counter } });
    const actor = system.spawn('counter', { id: 'c-1' });
    renameSync(t.path, `${t.path}.moved`);
    renameSync(`${t.path}.moved`, t.path);
    actor.send({ type: 'inc' });
    expect(store.readStream('c-1')).toHaveLength(1);
  });
});

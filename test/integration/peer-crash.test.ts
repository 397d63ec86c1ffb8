import { afterEach, describe, expect, it } from 'vitest';
import { assign, sendTo, setup } from 'xstate';
import { createActorSystem, type LogStore, type WriteBatch } from '../../src/index.ts';
import { openSqliteStore, type SqliteStore } from '../../stores/sqlite/index.ts';
import { tempDb } from '../support/kit/index.ts';

/**
 * A message between two journaled actors of one process is only in the sender's log until the
 * receiver appends it. A snapshot of the sender taken in that window, then a crash, must not make
 * recovery forget it: it is delivered once after recovery.
 */

/**
 * A SQLite log whose writes answer asynchronously, one at a time (as a networked store's do, so the
 * receiver's inputs commit one per round trip); `die()` makes every later write fail, as a killed
 * process writes nothing more.
 */
function networkedAndMortal(inner: SqliteStore): { store: LogStore; die: () => void; writes: WriteBatch[] } {
  let dead = false;
  const writes: WriteBatch[] = [];
  const store = new Proxy(inner as unknown as LogStore, {
    get(target, key) {
      if (key === 'write') {
        return (batch: WriteBatch) =>
          new Promise((resolve, reject) =>
            setImmediate(() => {
              if (dead) return reject(new Error('the process died'));
              writes.push(batch);
              try {
                resolve(inner.write(batch));
              } catch (err) {
                reject(err);
              }
            }),
          );
      }
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store, die: () => (dead = true), writes };
}

const sender = setup({ types: { events: {} as { type: 'go' } } }).createMachine({
  id: 'sender',
  on: { go: { actions: sendTo(({ system }) => system.get('receiver'), { type: 'ping' }) } },
});
const receiver = setup({ types: { context: {} as { got: string[] }, events: {} as { type: 'x' } | { type: 'ping' } } }).createMachine({
  id: 'receiver',
  context: { got: [] },
  on: {
    x: { actions: assign({ got: ({ context }) => [...context.got, 'x'] }) },
    ping: { actions: assign({ got: ({ context }) => [...context.got, 'ping'] }) },
  },
});

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('a message between two actors of one process, through a crash', () => {
  it('is delivered once after recovery when the sender was snapshotted before the receiver appended it', async () => {
    const log = tempDb();
    cleanups.push(log.cleanup);
    const inner = openSqliteStore(log.path);
    const { store, die, writes } = networkedAndMortal(inner);
    const machines = { sender, receiver };
    const system = createActorSystem({ store, machines, snapshotEvery: 1, onError: () => {} });
    const a = system.spawn('sender', { id: 'sender' });
    const b = system.spawn('receiver', { id: 'receiver' });
    await system.settled();
    // the receiver is busy: its inputs commit one at a time, so the ping waits behind x2 and x3
    b.send({ type: 'x' });
    b.send({ type: 'x' });
    b.send({ type: 'x' });
    a.send({ type: 'go' });
    // the process dies once the sender's snapshot after `go` is written (or, with the fix, once the ping is in)
    for (let i = 0; i < 200; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      const pinged = inner.readStream('receiver').some((r) => r.type === 'ping');
      const snapshotAfterGo = writes.some((w) => w.snapshots?.some((s) => s.streamId === 'sender' && s.version >= 1));
      if (pinged || snapshotAfterGo) break;
    }
    die();
    await system.close().catch(() => {});

    inner.close();

    // a new process on the same file (closed after the test, whether its assertions pass or not)
    const reopened = openSqliteStore(log.path);
    cleanups.push(() => reopened.close());
    const next = createActorSystem({ store: reopened, machines });
    cleanups.push(() => next.close());
    await next.recover();
    await next.settled();
    const pings = reopened.readStream('receiver').filter((r) => r.type === 'ping');
    expect(pings.map((r) => r.meta.causationId)).toHaveLength(1);
    expect(
      next
        .get<typeof receiver>('receiver')!
        .getSnapshot()
        .context.got.filter((g) => g === 'ping'),
    ).toEqual(['ping']);
  });
});

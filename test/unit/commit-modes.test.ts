import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { createActorSystem } from '../../src/runtime/actorSystem.ts';
import { createMemoryStore } from '../../stores/memory.ts';
import type { CommitMode } from '../../src/runtime/groupCommit.ts';
import { isActorlogError } from '../../src/errors.ts';

const counter = setup({ types: { context: {} as { n: number }, events: {} as { type: 'inc' } } }).createMachine({
  id: 'counter',
  context: { n: 0 },
  on: { inc: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
});

/** Sends one `inc` to each of `actors` actors, each from its own callback of one event-loop turn (as sockets' reads come), and counts the store's transactions. */
async function transactionsFor(mode: CommitMode, actors: number): Promise<{ transactions: number; logged: number[] }> {
  const store = createMemoryStore();
  const system = createActorSystem({ store, machines: { counter }, commit: mode });
  const refs = Array.from({ length: actors }, (_, i) => system.spawn('counter', { id: `c-${i}` }));
  await system.settled();
  const write = store.write.bind(store);
  let transactions = 0;
  store.write = (batch) => {
    transactions++;
    return write(batch);
  };
  // one turn of the loop: each callback is its own run of JavaScript, and Node drains the microtasks
  // between two callbacks (as between the 'data' callbacks of many sockets read in one poll)
  await new Promise<void>((resolve) => {
    for (const ref of refs) setImmediate(() => ref.send({ type: 'inc' }));
    setImmediate(resolve);
  });
  await system.settled();
  store.write = write;
  const logged = refs.map((ref) => store.getStream(ref.id)!.version);
  expect(refs.map((ref) => ref.getSnapshot().context.n)).toEqual(refs.map(() => 1));
  await system.close();
  return { transactions, logged };
}

describe('commit modes', () => {
  it("'turn' commits the inputs of one event-loop turn together; 'tick' commits each run of JavaScript alone", async () => {
    const tick = await transactionsFor('tick', 5);
    const turn = await transactionsFor('turn', 5);
    expect(tick.logged).toEqual([1, 1, 1, 1, 1]);
    expect(turn.logged).toEqual([1, 1, 1, 1, 1]);
    expect(tick.transactions).toBe(5);
    expect(turn.transactions).toBe(1);
  });

  it('refuses an unknown mode with INVALID_OPTIONS', () => {
    let thrown: unknown;
    try {
      createActorSystem({ store: createMemoryStore(), machines: { counter }, commit: 'later' as CommitMode });
    } catch (err) {
      thrown = err;
    }
    expect(isActorlogError(thrown, 'INVALID_OPTIONS')).toBe(true);
  });
});

/**
 * `actorlog inspect <db> <streamId>` reads the stream REPLAY_CHUNK versions at a time, as replay()
 * does: every event of a stream longer than a chunk reaches the inspector, each with the snapshot
 * folded after it.
 */
import { describe, expect, it } from 'vitest';
import { createActorSystem } from '../../src/index.ts';
import { inspectionEvents } from '../../cli/inspectEvents.ts';
import { REPLAY_CHUNK } from '../../src/replay/foldChunks.ts';
import { createMemoryStore } from '../../stores/memory.ts';
import { benchCounter } from '../../bench/actor.ts';

describe('inspectionEvents of one stream longer than a chunk', () => {
  it('sends every event, with the snapshot after it, up to --to too', async () => {
    const store = createMemoryStore();
    const system = createActorSystem({ store, machines: { counter: benchCounter } });
    const counter = system.spawn('counter', { id: 'c-1' });
    const n = 2 * REPLAY_CHUNK + 100;
    for (let i = 0; i < n; i++) counter.send({ type: 'inc' });
    await system.settled();
    await system.close();
    const machines = new Map([['c-1', benchCounter]]);
    const counts = (to?: number) => {
      const sent = [...inspectionEvents(store, { streamId: 'c-1', to, machines })];
      const events = sent.filter((e) => e.type === '@xstate.event');
      const snapshots = sent.filter((e) => e.type === '@xstate.snapshot') as Array<{ snapshot: { context: { count: number } } }>;
      return { events: events.length, last: snapshots.at(-1)?.snapshot.context.count };
    };
    expect(counts()).toEqual({ events: n, last: n });
    expect(counts(REPLAY_CHUNK + 1)).toEqual({ events: REPLAY_CHUNK + 1, last: REPLAY_CHUNK + 1 });
    expect(counts(2 * REPLAY_CHUNK)).toEqual({ events: 2 * REPLAY_CHUNK, last: 2 * REPLAY_CHUNK });
  });
});

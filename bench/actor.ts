import { performance } from 'node:perf_hooks';
import { assign, createActor, setup } from 'xstate';
import type { EmbeddedLogStore } from '../src/log/types.ts';
import { createActorSystem } from '../src/runtime/actorSystem.ts';
import type { CommitMode } from '../src/runtime/groupCommit.ts';

/** The machine every actor figure runs: one state, one counting transition (`inc`). */
export const benchCounter = setup({
  types: { context: {} as { count: number }, events: {} as { type: 'inc' } | { type: 'reset' } },
}).createMachine({
  id: 'bench-counter',
  context: { count: 0 },
  initial: 'counting',
  states: {
    counting: {
      on: {
        inc: { actions: assign({ count: ({ context }) => context.count + 1 }) },
        reset: { actions: assign({ count: 0 }) },
      },
    },
  },
});

/** Options of {@link measureJournaled}. */
export interface MeasureJournaledOptions {
  /** `each`: one transaction per event (the default of the runtime); `tick`: group commit per tick. */
  commit: CommitMode;
  /** Events sent, timed. */
  events: number;
  /** The new stream's id (one per run: a stream is spawned once). */
  streamId: string;
  /** In `tick` mode, events sent per synchronous tick before yielding to the committer. @default 100 */
  tickBatch?: number;
}

/**
 * Events per second sent through a journaled actor: `createActorSystem` on `store`, `spawn` of
 * {@link benchCounter}, then `events` x `send({ type: 'inc' })` (each append committed before its
 * transition in both modes; in `tick` mode one actor's inputs still take one commit each). The
 * timing includes the runtime's periodic snapshots (every 100 events, the default) and, in `tick`
 * mode, the last commit. The events stay in the log, for the replay figures.
 *
 * @throws Error when the log does not hold every event afterwards (a broken run, not a slow one)
 * @example
 * ```ts
 * const perSec = await measureJournaled(openSqliteStore(file), { commit: 'each', events: 10_000, streamId: 'run-1' });
 * ```
 */
export async function measureJournaled(store: EmbeddedLogStore, options: MeasureJournaledOptions): Promise<number> {
  const { commit, events, streamId } = options;
  const tickBatch = Math.max(1, options.tickBatch ?? 100);
  const system = createActorSystem({ store, machines: { counter: benchCounter }, commit });
  const actor = system.spawn('counter', { id: streamId });
  const start = performance.now();
  if (commit === 'each') {
    for (let i = 0; i < events; i++) actor.send({ type: 'inc' });
  } else {
    for (let i = 0; i < events;) {
      const end = Math.min(events, i + tickBatch);
      for (; i < end; i++) actor.send({ type: 'inc' });
      await Promise.resolve(); // the committer's flush, queued by the batch's first write, runs first
    }
  }
  // One actor's inputs are appended one at a time (each after what the one before caused): in `tick`
  // mode a burst to one actor takes one commit per input; wait until every input was acted on.
  await system.settled();
  const elapsed = performance.now() - start;
  await system.close();
  const logged = store.getStream(streamId)?.version;
  if (actor.getSnapshot().context.count !== events || logged !== events) {
    throw new Error(`journaled run ${streamId} is broken: count ${actor.getSnapshot().context.count}, logged ${logged}, sent ${events}`);
  }
  return perSecond(events, elapsed);
}

/**
 * Events per second sent to the same machine run by plain XState (`createActor(benchCounter)`), no
 * journal, no inspection: the baseline of the journaled figures.
 */
export function measureUnjournaled(events: number): number {
  const actor = createActor(benchCounter).start();
  const start = performance.now();
  for (let i = 0; i < events; i++) actor.send({ type: 'inc' });
  const elapsed = performance.now() - start;
  const count = actor.getSnapshot().context.count;
  actor.stop();
  if (count !== events) throw new Error(`unjournaled run is broken: count ${count}, sent ${events}`);
  return perSecond(events, elapsed);
}

/** `n` per second from a duration in ms (never Infinity for a sub-resolution duration). */
export function perSecond(n: number, elapsedMs: number): number {
  return (n * 1000) / Math.max(elapsedMs, 0.001);
}

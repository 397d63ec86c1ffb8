import { performance } from 'node:perf_hooks';
import type { LogStore, WriteBatch } from '../src/log/types.ts';
import type { ActorSystem } from '../src/runtime/actorSystem.ts';
import type { benchCounter } from './actor.ts';
import { watchLoopDelay, type LoopDelay } from './loopDelay.ts';

/** Transactions a store committed through `write`, and the events they appended. */
export interface WriteCount {
  transactions: number;
  events: number;
}

/**
 * `store` with its `write` counted (every other member passed through): the group commit's
 * transactions and the events they appended, so the bench can print how the runtime batched.
 *
 * @example
 * ```ts
 * const { store: counted, count } = countWrites(store);
 * const system = createActorSystem({ store: counted, machines });
 * ```
 */
export function countWrites<S extends LogStore>(store: S): { store: S; count: WriteCount } {
  const count: WriteCount = { transactions: 0, events: 0 };
  const write = (batch: WriteBatch) => {
    count.transactions++;
    for (const a of batch.appends ?? []) count.events += a.events.length;
    return store.write(batch);
  };
  const counted = new Proxy(store, {
    get(target, key) {
      if (key === 'write') return write;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: counted, count };
}

/** Options of {@link runActorLoad}. */
export interface ActorLoadOptions {
  /** Concurrently active actors, each spawned (and its stream committed) before the clock starts. */
  actors: number;
  /** Events each actor receives through `actor.send`. */
  eventsPerActor: number;
  /** Stream ids are `<prefix>-<i>`: one prefix per run (a stream is spawned once). */
  prefix: string;
  /** Sends per macrotask of the load: the load yields (setImmediate) after this many. @default 100 */
  slice?: number;
  /** The counter of the system's store (see {@link countWrites}): the timed span's transactions are reported. */
  count?: WriteCount;
}

/** What one run of {@link runActorLoad} measured. */
export interface ActorLoadResult {
  /** From the first send until `system.settled()` resolved (every event committed and delivered). */
  elapsedMs: number;
  events: number;
  delay: LoopDelay;
  /** Transactions the group commit made in the timed span (0 without `count`). */
  transactions: number;
  /** CPU time of this process (user + system) in the timed span, ms: the runtime's work, the database's excluded. */
  cpuMs: number;
}

const nextMacrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Offers load to `actors` journaled counters of `system` at once: round after round every actor gets
 * one `inc` (`actor.send`), the load yielding to the event loop every `slice` sends, so commits and
 * deliveries interleave with it as with events arriving from the network. Timed until
 * `await system.settled()`; the event-loop delay is watched over the same span. Afterwards every
 * actor is checked (count and journaled version equal to its events) and stopped, so it does not
 * count as active in the next run.
 *
 * @throws Error when an actor's count or version is not its events (a broken run, not a slow one)
 * @example
 * ```ts
 * const r = await runActorLoad(system, { actors: 1000, eventsPerActor: 20, prefix: 'run-1' });
 * console.log((r.events / r.elapsedMs) * 1000, r.delay.p99Ms);
 * ```
 */
export async function runActorLoad(system: ActorSystem<{ counter: typeof benchCounter }>, options: ActorLoadOptions): Promise<ActorLoadResult> {
  const { actors: n, eventsPerActor, prefix } = options;
  const slice = Math.max(1, options.slice ?? 100);
  const actors = Array.from({ length: n }, (_, i) => system.spawn('counter', { id: `${prefix}-${i}` }));
  await system.settled();
  const counted = options.count?.transactions ?? 0;
  const watch = watchLoopDelay();
  const cpu = process.cpuUsage();
  const start = performance.now();
  let sent = 0;
  for (let round = 0; round < eventsPerActor; round++) {
    for (const actor of actors) {
      actor.send({ type: 'inc' });
      if (++sent % slice === 0) await nextMacrotask();
    }
  }
  await system.settled();
  const elapsedMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const delay = watch.stop();
  const transactions = (options.count?.transactions ?? 0) - counted;
  for (const actor of actors) {
    const count = actor.getSnapshot().context.count;
    if (count !== eventsPerActor || actor.version !== eventsPerActor) {
      throw new Error(
        `journaled run ${actor.id} is broken: count ${count}, version ${actor.version}, sent ${eventsPerActor}${actor.error ? ` (${actor.error.code}: ${actor.error.message})` : ''}`,
      );
    }
  }
  for (const actor of actors) system.stop(actor.id);
  await system.settled();
  return { elapsedMs, events: n * eventsPerActor, delay, transactions, cpuMs: (used.user + used.system) / 1000 };
}

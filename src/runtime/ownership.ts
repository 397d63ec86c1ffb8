import type { Clock } from '../clock.ts';
import { describeError, isActorlogError } from '../errors.ts';
import type { StreamOwnership, StreamRecord } from '../log/types.ts';
import type { RecoveryReport } from './actorSystem.ts';

/** Streams claimed per query while taking over orphans. */
const CLAIM_BATCH = 100;

/** What {@link startOwnership} drives in the actor system. */
export interface OwnershipHooks {
  clock: Clock;
  /** How often to renew the lease, take over orphaned streams and read the inboxes (ms); the lease renewal runs at least three times per lease. */
  intervalMs: number;
  /** Folds and resumes streams this node has just claimed. */
  recover(streams: readonly StreamRecord[]): Promise<RecoveryReport>;
  /** Appends and delivers the inbox messages of the actors running here. */
  deliverInbox(): Promise<void>;
  /** The lease was lost (a pause longer than the lease, or a newer incarnation): stop every actor here, without writing. */
  lost(): void;
}

/** This node's side of fenced ownership, running until {@link Ownership.stop}. */
export interface Ownership {
  /** Takes over every orphaned stream now (in batches) and resumes them. */
  claimNow(): Promise<RecoveryReport>;
  /** Stops the loop and gives up `streamIds` (a clean shutdown: other nodes take them at once). */
  stop(streamIds: string[]): Promise<void>;
}

/**
 * Registers this process as a new node incarnation on a shared store and keeps it alive: every
 * `intervalMs` (at most a third of the lease) it renews the lease, takes over streams whose owner's
 * lease expired (`claimOrphans`, `FOR UPDATE SKIP LOCKED` on PostgreSQL, so survivors share a dead
 * node's streams) and resumes them as after a crash, and delivers inbox messages. When the renewal
 * fails with `LEASE_LOST` (this process was paused past its lease, and its streams may already run
 * elsewhere) it stops its actors without writing, registers a new incarnation and claims again.
 * A failed round (the database unreachable) is printed to stderr and retried at the next interval.
 */
export async function startOwnership(ownership: StreamOwnership, hooks: OwnershipHooks): Promise<Ownership> {
  await ownership.register();
  const period = Math.max(10, Math.min(hooks.intervalMs, Math.floor(ownership.leaseMs / 3)));
  let stopped = false;
  let timer: unknown;
  let round: Promise<unknown> = Promise.resolve();

  const claimNow = async (): Promise<RecoveryReport> => {
    const total: RecoveryReport = { recovered: [], finished: [], failed: [] };
    for (;;) {
      const streams = await ownership.claimOrphans(CLAIM_BATCH);
      if (streams.length === 0) break;
      const report = await hooks.recover(streams);
      total.recovered.push(...report.recovered);
      total.finished.push(...report.finished);
      total.failed.push(...report.failed);
      if (streams.length < CLAIM_BATCH || stopped) break;
    }
    return total;
  };

  const tick = async (): Promise<void> => {
    try {
      await ownership.heartbeat();
    } catch (err) {
      if (!isActorlogError(err, 'LEASE_LOST')) throw err;
      hooks.lost();
      await ownership.register();
    }
    await claimNow();
    await hooks.deliverInbox();
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = hooks.clock.setTimeout(() => {
      round = tick()
        .catch((err: unknown) => {
          if (!stopped) console.error(`actorlog: ownership round failed (retrying in ${period} ms): ${describeError(err).message}`);
        })
        .finally(schedule);
    }, period);
  };
  schedule();

  return {
    claimNow,
    async stop(streamIds) {
      stopped = true;
      hooks.clock.clearTimeout(timer);
      await round;
      if (streamIds.length > 0) await ownership.release(streamIds);
    },
  };
}

import { asyncScheduler, Observable, type SchedulerAction } from 'rxjs';
import type { EventRecord, SubscribeOptions } from './types.ts';
import { positionAfter } from './writeBatch.ts';

/** What {@link subscribeToLog} needs from a store. */
export interface LogFeed {
  /**
   * The store's `readAll`: records with global position greater than `after`, in order, at most
   * `limit`, only those of `streamId` when it is given (an index range of that stream).
   */
  readAll(options: { after: number; limit: number; streamId?: string }): EventRecord[];
  /**
   * Emits (synchronously) after each committed append of this process, and completes when the store
   * closes. A store keeps a `Subject<void>` and calls `next()` after every commit that appended.
   */
  readonly appended: Observable<void>;
  /**
   * True while the store's connection is inside a transaction. Reads are then put off (they would
   * see writes that may still roll back) until the commit's notification or the next poll.
   */
  inTransaction(): boolean;
}

/** Default of {@link SubscribeOptions.pollIntervalMs}: 250 ms. */
export const DEFAULT_POLL_INTERVAL_MS = 250;
/** Default of {@link SubscribeOptions.batchSize}: 500 records per query. */
export const DEFAULT_BATCH_SIZE = 500;

/**
 * The `subscribe()` of every store: an Observable of the log's records with global position greater
 * than `after`, in global order, each once, with no gaps, only those of `streamId` when given (read
 * with the store's stream-filtered `readAll`, so other streams' records are never read).
 *
 * On subscription it catches up by reading `readAll` in batches of `batchSize` (synchronously, inside
 * `subscribe()`), then stays live: a local append wakes it at once (the records are delivered
 * synchronously, after the commit, inside the `append`/`transaction` call that committed them), and
 * every `pollIntervalMs` (ms, on `scheduler`) it reads again to pick up records written by another
 * process. Nothing is read while the store is inside a transaction (not even the catch-up of a
 * subscription made there): uncommitted writes are never delivered. Reads are reentrancy-safe: a
 * record handler that appends is delivered the new record after it returns, in order. Unsubscribing stops the poll timer and the local wake-up; the Observable
 * completes when the store closes, and errors with the store's error if a read fails.
 *
 * @param feed the store's reads and its local append notification
 * @param options `after` (global position, default 0), `streamId`, `pollIntervalMs` (ms, default 250;
 *   0 or `Infinity`: no polling, local appends only), `batchSize` (default 500), `scheduler` (default
 *   `asyncScheduler`)
 * @returns a cold Observable: each subscription keeps its own position and timer
 * @example
 * ```ts
 * // in a store
 * subscribe(options?: SubscribeOptions) {
 *   const feed = { readAll: (o) => this.readAll(o), appended: this.appended, inTransaction: () => this.depth > 0 };
 *   return subscribeToLog(feed, options);
 * }
 * // in an application
 * store.subscribe({ after: checkpoint, streamId: 'job-1' }).subscribe((r) => console.log(r.version, r.type));
 * ```
 */
export function subscribeToLog(feed: LogFeed, options: SubscribeOptions = {}): Observable<EventRecord> {
  const after = positionAfter(options.after);
  const streamId = options.streamId;
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
  const scheduler = options.scheduler ?? asyncScheduler;

  return new Observable<EventRecord>((subscriber) => {
    let position = after;
    let draining = false;
    let again = false;

    /** Reads and delivers everything after `position`; a call while already reading asks for one more pass. */
    const drain = (): void => {
      if (draining) {
        again = true;
        return;
      }
      if (feed.inTransaction()) {
        queueMicrotask(drain); // catch up once the open transaction has committed
        return;
      }
      draining = true;
      try {
        do {
          again = false;
          for (;;) {
            if (subscriber.closed) return;
            const batch = feed.readAll(streamId === undefined ? { after: position, limit: batchSize } : { after: position, limit: batchSize, streamId });
            for (const record of batch) {
              if (subscriber.closed) return;
              position = record.globalPosition;
              subscriber.next(record);
            }
            if (batch.length < batchSize) break;
          }
        } while (again);
      } catch (err) {
        subscriber.error(err);
      } finally {
        draining = false;
      }
    };

    // Listen before catching up, so an append made while catching up is not missed.
    const subscription = feed.appended.subscribe({ next: drain, complete: () => subscriber.complete() });
    if (pollIntervalMs > 0 && Number.isFinite(pollIntervalMs)) {
      subscription.add(
        scheduler.schedule(function poll(this: SchedulerAction<undefined>) {
          drain();
          if (!subscriber.closed) this.schedule(undefined, pollIntervalMs);
        }, pollIntervalMs),
      );
    }
    drain();
    return subscription;
  });
}

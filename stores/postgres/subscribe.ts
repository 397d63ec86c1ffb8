import { asyncScheduler, Observable, type Subscription } from 'rxjs';
import { ActorlogError } from '../../src/errors.ts';
import type { EventRecord, LogCursor, SubscribeOptions } from '../../src/log/types.ts';
import type { ReadBatch, ReadFrom } from './readAll.ts';

/** The shortest wait between two polls (ms): after a poll that found records. */
export const MIN_POLL_INTERVAL_MS = 10;
/** Default of the longest wait between two polls (ms), reached by 1.5x steps while nothing comes. */
export const DEFAULT_POLL_INTERVAL_MS = 1000;
/** Default records per query. */
export const DEFAULT_BATCH_SIZE = 500;

/** What {@link subscribeToPostgres} needs from the store. */
export interface PostgresFeed {
  /** One batch of the commit-safe global order (`readBatch`). */
  read(from: ReadFrom): Promise<ReadBatch>;
  /** Emits when there may be something new (NOTIFY, a local commit, a LISTEN reconnect); completes when the store closes. */
  readonly wakeups: Observable<void>;
  /** A subscriber arrived / left (the store keeps its LISTEN client while there are any). */
  acquire(): void;
  release(): void;
  /** The store's default longest poll interval (ms). */
  readonly pollIntervalMs: number;
}

/**
 * The PostgreSQL `subscribe()`: an Observable of the log's records in commit-safe order (transaction
 * id, then global position; only transactions older than the oldest one still open), each once, none
 * skipped: a slow transaction holding a lower position is delivered when it commits, before anything
 * of a younger transaction. The subscription's cursor is the (transaction id, global position) of the
 * last record delivered; with a number `after` it also keeps `globalPosition > after`.
 *
 * Live delivery polls with adaptive backoff: at once again after a full batch, 10 ms after a batch
 * with records, then waits growing 1.5x up to `pollIntervalMs` (ms; the store's, default 1000) while
 * nothing comes; a wake-up (an empty NOTIFY from any process's commit, a commit of this store)
 * polls at once. A failure of the connection is retried at the next poll; any other read error ends
 * the subscription with that ActorlogError. Completes when the store closes.
 *
 * @example
 * ```ts
 * let cursor: LogCursor | undefined;
 * store.subscribe({ after: saved }).subscribe((r) => { project(r); cursor = { transactionId: r.transactionId!, globalPosition: r.globalPosition }; });
 * ```
 */
export function subscribeToPostgres(feed: PostgresFeed, options: SubscribeOptions = {}): Observable<EventRecord> {
  const after = options.after;
  const afterPosition = typeof after === 'number' ? after : undefined;
  const maxInterval = Math.max(MIN_POLL_INTERVAL_MS, options.pollIntervalMs ?? feed.pollIntervalMs);
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
  const scheduler = options.scheduler ?? asyncScheduler;
  const streamId = options.streamId;

  return new Observable<EventRecord>((subscriber) => {
    let cursor: LogCursor | undefined = typeof after === 'object' ? { ...after } : undefined;
    let interval = MIN_POLL_INTERVAL_MS;
    let running = false;
    let again = false;
    let timer: Subscription | undefined;

    const schedule = (ms: number) => {
      timer?.unsubscribe();
      timer = scheduler.schedule(() => {
        timer = undefined;
        poll();
      }, ms);
    };

    const poll = (): void => {
      if (subscriber.closed) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      timer?.unsubscribe();
      timer = undefined;
      void (async () => {
        let found = false;
        try {
          do {
            again = false;
            const from: ReadFrom = { limit: batchSize };
            if (afterPosition !== undefined) from.afterPosition = afterPosition;
            if (cursor !== undefined) from.afterCursor = cursor;
            if (streamId !== undefined) from.streamId = streamId;
            const { records } = await feed.read(from);
            for (const record of records as EventRecord[]) {
              if (subscriber.closed) return;
              cursor = { transactionId: record.transactionId ?? '0', globalPosition: record.globalPosition };
              subscriber.next(record);
            }
            if (records.length > 0) found = true;
            if (records.length === batchSize) again = true;
          } while (again && !subscriber.closed);
          interval = found ? MIN_POLL_INTERVAL_MS : Math.min(maxInterval, Math.ceil(interval * 1.5));
        } catch (err) {
          if (!(err instanceof ActorlogError && err.code === 'STORE_UNAVAILABLE')) {
            subscriber.error(err);
            return;
          }
          interval = maxInterval; // the connection: try again at the next poll
        } finally {
          running = false;
        }
        if (!subscriber.closed) schedule(interval);
      })();
    };

    feed.acquire();
    const wakeups = feed.wakeups.subscribe({ next: poll, complete: () => subscriber.complete() });
    poll();
    return () => {
      wakeups.unsubscribe();
      timer?.unsubscribe();
      feed.release();
    };
  });
}

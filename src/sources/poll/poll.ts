import { Observable, type Subscription } from 'rxjs';
import { ActorlogError } from '../../errors.ts';
import { retryAfterMsOf } from '../../transport/retryAfter.ts';
import { backoffDelay } from '../../transport/backoff.ts';
import { isTransient, networkError } from '../../transport/classify.ts';
import { resolvePollOptions, type PollContext, type PollOptions } from './options.ts';

/**
 * A poll source: sends `request` at once (or after `intervalMs`), emits each answer, waits
 * `intervalMs`, and asks again, until `until(answer)` holds (that answer is emitted, then the
 * Observable completes). A `TRANSIENT` failure (network, 5xx, 429, 408: src/transport/classify.ts)
 * is retried with capped exponential backoff and jitter ({@link backoffDelay}), `onRetry` told
 * first; any other failure ends the poll with it. Only one request is in flight at a time;
 * unsubscribing aborts it. Timers run on `options.scheduler`.
 *
 * Behaviour source: seed 003 (`molecule connect` poll loop: TransientError -> retry with
 * exponential backoff capped at 60 s, PermanentError -> stop with a clear message).
 *
 * @param request one request, e.g. an undici call through {@link requestText}; it should throw
 *   ActorlogErrors (anything else counts as a network failure, `TRANSIENT`)
 * @throws ActorlogError `INVALID_OPTIONS` at once for bad options; the Observable errors with
 *   `TRANSIENT` (`details.attempts`) when `maxAttempts` consecutive retries failed, or with the
 *   first non-transient error
 * @example
 * ```ts
 * poll(({ signal }) => client.activity(cursor, { signal }), { intervalMs: 1000, until: (rows) => rows.length > 0 })
 *   .subscribe((rows) => console.log(rows.length));
 * ```
 */
export function poll<T>(request: (context: PollContext) => Promise<T>, options: PollOptions<T>): Observable<T> {
  const o = resolvePollOptions(options);
  return new Observable<T>((subscriber) => {
    let abort: AbortController | undefined;
    let timer: Subscription | undefined;
    let failures = 0;
    let n = 0;

    const schedule = (delayMs: number) => {
      timer = o.scheduler.schedule(run, delayMs);
    };
    const onValue = (value: T) => {
      if (subscriber.closed) return;
      failures = 0;
      let done: boolean;
      try {
        done = o.until?.(value) ?? false;
      } catch (err) {
        subscriber.error(err);
        return;
      }
      subscriber.next(value);
      if (done) subscriber.complete();
      else if (!subscriber.closed) schedule(o.intervalMs);
    };
    const onError = (err: unknown) => {
      if (subscriber.closed) return;
      const error = err instanceof ActorlogError ? err : networkError('poll', err);
      if (!isTransient(error)) {
        subscriber.error(error);
        return;
      }
      failures += 1;
      if (failures > o.maxAttempts) {
        subscriber.error(
          new ActorlogError('TRANSIENT', `${error.message}; gave up after ${o.maxAttempts} retries`, {
            cause: error,
            details: { ...error.details, attempts: o.maxAttempts },
          }),
        );
        return;
      }
      const delayMs = backoffDelay(failures, o, retryAfterMsOf(error)); // at least a 429/503's Retry-After
      o.onRetry?.({ error, attempt: failures, delayMs });
      if (!subscriber.closed) schedule(delayMs);
    };
    function run() {
      timer = undefined;
      abort = new AbortController();
      n += 1;
      let pending: Promise<T>;
      try {
        pending = request({ signal: abort.signal, n, failures });
      } catch (err) {
        pending = Promise.reject(err);
      }
      pending.then(onValue, onError);
    }

    if (o.immediate) run();
    else schedule(o.intervalMs);
    return () => {
      abort?.abort();
      timer?.unsubscribe();
    };
  });
}

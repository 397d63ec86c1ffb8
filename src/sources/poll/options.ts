import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { ActorlogError } from '../../errors.ts';
import { resolveRetryOptions, type RetryOptions } from '../../transport/backoff.ts';

/** One retry {@link poll} is about to make after a transient failure. */
export interface PollRetry {
  /** The failure (code `TRANSIENT`). */
  error: ActorlogError;
  /** Consecutive failures so far (1 = the first retry). */
  attempt: number;
  /** The wait before the retry, ms. */
  delayMs: number;
}

/**
 * Options of {@link poll}. Durations in ms. The retry of a transient failure takes the shared
 * {@link RetryOptions} (`baseMs` 500, `capMs` 60000, `jitter` 0.2) and honours a 429/503's `Retry-After`.
 */
export interface PollOptions<T> extends RetryOptions {
  /** The wait between one answer and the next request. */
  intervalMs: number;
  /** Complete after the first answer for which this holds (that answer is emitted). @default never */
  until?: (value: T) => boolean;
  /** Send the first request at once (true) or after `intervalMs`. @default true */
  immediate?: boolean;
  /** Consecutive transient failures tolerated; one more fails the poll with `TRANSIENT`. @default Infinity */
  maxAttempts?: number;
  /** Told before each retry (e.g. to record it). Must not throw. */
  onRetry?: (retry: PollRetry) => void;
  /** Timers of the interval and the backoff. Tests pass a VirtualTimeScheduler. @default asyncScheduler */
  scheduler?: SchedulerLike;
}

/** What {@link poll} hands each request: an AbortSignal (aborted on unsubscribe) and counters. */
export interface PollContext {
  signal: AbortSignal;
  /** 1 for the first request, then 2, 3… */
  n: number;
  /** Consecutive transient failures before this request (0 after an answer). */
  failures: number;
}

/** Checks poll options. @throws ActorlogError `INVALID_OPTIONS` */
export function resolvePollOptions<T>(
  options: PollOptions<T>,
): Required<Omit<PollOptions<T>, 'until' | 'onRetry'>> & Pick<PollOptions<T>, 'until' | 'onRetry'> {
  const check = (name: string, v: number) => {
    if (Number.isNaN(v) || v < 0) throw new ActorlogError('INVALID_OPTIONS', `poll: ${name} must be a number >= 0 (got ${v})`, { details: { option: name } });
    return v;
  };
  if (typeof options?.intervalMs !== 'number' || !Number.isFinite(options.intervalMs)) {
    throw new ActorlogError('INVALID_OPTIONS', 'poll: intervalMs (ms) is required', { details: { option: 'intervalMs' } });
  }
  return {
    intervalMs: check('intervalMs', options.intervalMs),
    until: options.until,
    immediate: options.immediate ?? true,
    maxAttempts: check('maxAttempts', options.maxAttempts ?? Infinity),
    ...resolveRetryOptions(options, 'poll'),
    onRetry: options.onRetry,
    scheduler: options.scheduler ?? asyncScheduler,
  };
}

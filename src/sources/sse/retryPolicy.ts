import { ActorlogError } from '../../errors.ts';
import { retryAfterMsOf } from '../../transport/retryAfter.ts';
import { backoffDelay, type RetryOptions } from '../../transport/backoff.ts';

/**
 * The reconnection rules of an SSE source: the shared {@link RetryOptions} (`baseMs` 500, unless the
 * server sent `retry:`; `capMs` 60000; `jitter` 0.2) and a bound on attempts. All durations in ms.
 */
export interface SseRetryOptions extends RetryOptions {
  /** Consecutive failed connection attempts tolerated; the next failure ends the source with it. @default 5 */
  maxAttempts?: number;
}

/** What to do after a connection ended: wait `delayMs` and reconnect, or stop with `error`. */
export type RetryDecision = { retry: true; delayMs: number } | { retry: false; error: ActorlogError };

/**
 * The retry policy of the SSE source, apart from any socket: a pure function of the failure, the
 * attempt number and the server's `retry:` hint.
 *
 * - `TRANSIENT` errors (network, 5xx, 429, 408, a stall; classified once by src/transport/classify.ts)
 *   and a clean end of stream are retried while `attempt <= maxAttempts`, after
 *   `backoffDelay(attempt)` (capped exponential plus jitter, src/transport/backoff.ts) whose base is
 *   the server's `retry:` value when it sent one (WHATWG HTML §9.2.3, "reconnection time").
 * - Anything else (`PERMANENT`: other 4xx; `INVALID_PAYLOAD`; `ABORTED`) stops at once.
 * - When attempts run out, the last error is returned with `details.attempts` (code unchanged, so a
 *   refused connection ends `TRANSIENT` after bounded retries).
 *
 * @param error why the connection ended; `undefined` for a clean end of stream
 * @param attempt 1 for the first reconnection after a good connection, 2 for the next…
 * @param serverRetryMs the last `retry:` value the server sent, ms
 * @example
 * ```ts
 * decideRetry(httpStatusError('sse', 503), 1, undefined, { random: () => 0 }); // { retry: true, delayMs: 500 }
 * decideRetry(httpStatusError('sse', 404), 1, undefined);                       // { retry: false, error }
 * ```
 */
export function decideRetry(
  error: ActorlogError | undefined,
  attempt: number,
  serverRetryMs: number | undefined,
  options: SseRetryOptions = {},
): RetryDecision {
  const maxAttempts = options.maxAttempts ?? 5;
  const failure = error ?? new ActorlogError('TRANSIENT', 'SSE stream ended', { details: { cause: 'end-of-stream' } });
  if (failure.code !== 'TRANSIENT') return { retry: false, error: failure };
  if (attempt > maxAttempts) {
    return {
      retry: false,
      error: new ActorlogError(failure.code, `${failure.message} (gave up after ${maxAttempts} reconnection attempts)`, {
        cause: failure,
        details: { ...failure.details, attempts: maxAttempts },
      }),
    };
  }
  // at least the Retry-After of a 429/503 answer, capped (src/transport/retryAfter.ts)
  const delayMs = backoffDelay(attempt, { ...options, ...(serverRetryMs === undefined ? {} : { baseMs: serverRetryMs }) }, retryAfterMsOf(failure));
  return { retry: true, delayMs };
}

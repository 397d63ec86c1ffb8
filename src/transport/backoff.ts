import { ActorlogError } from '../errors.ts';

/**
 * How a client retries a transient failure: capped exponential backoff with jitter. The one
 * retry-options type of actorlog: the poll, SSE and WebSocket sources, the generic machines and the
 * bindings all take it (each may add its own `maxAttempts`). All durations in ms.
 */
export interface RetryOptions {
  /** The first delay. @default 500 (seed 004 `RECONNECT_DELAY`) */
  baseMs?: number;
  /** The largest delay, and the largest `Retry-After` wait honoured. @default 60000 (seed 003: "exponential backoff (cap 60s)") */
  capMs?: number;
  /** Up to this fraction is added at random, so clients do not retry in step. @default 0.2 */
  jitter?: number;
  /** The random source in [0, 1): inject a fixed one for deterministic tests and replays. @default Math.random */
  random?: () => number;
}

/** The defaults of {@link RetryOptions}, written once: 500 ms base, 60 s cap (seed 003), 0.2 jitter. */
export const DEFAULT_RETRY: Readonly<Required<Omit<RetryOptions, 'random'>>> = Object.freeze({ baseMs: 500, capMs: 60_000, jitter: 0.2 });

/**
 * {@link RetryOptions} with the defaults applied and checked.
 * @param where names the options in the error (`poll`, `webSocket reconnect`)
 * @throws ActorlogError `INVALID_OPTIONS` for a duration or jitter that is negative or not finite
 */
export function resolveRetryOptions(options: RetryOptions = {}, where = 'retry'): Required<RetryOptions> {
  const check = (name: keyof typeof DEFAULT_RETRY): number => {
    const v = options[name] ?? DEFAULT_RETRY[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new ActorlogError('INVALID_OPTIONS', `${where}: ${name} must be a finite number >= 0 (got ${String(options[name])})`, {
        details: { option: name },
      });
    }
    return v;
  };
  return { baseMs: check('baseMs'), capMs: check('capMs'), jitter: check('jitter'), random: options.random ?? Math.random };
}

/**
 * The retry delay before attempt `attempt` (1 = the first retry): `baseMs · 2^(attempt-1)`, plus up
 * to `jitter` of it, capped at `capMs`. Transient failures are retried with it; permanent ones are
 * not. A server's `Retry-After` (`retryAfterMs`, see {@link parseRetryAfter}) is honoured: the
 * delay is at least that long, capped at `capMs`.
 *
 * @example
 * ```ts
 * backoffDelay(1, { random: () => 0 }); // 500
 * backoffDelay(10, { random: () => 0 }); // 60000 (capped)
 * backoffDelay(1, { random: () => 0 }, 5000); // 5000 (the server said Retry-After: 5)
 * ```
 */
export function backoffDelay(attempt: number, options: RetryOptions = {}, retryAfterMs?: number): number {
  const { baseMs = DEFAULT_RETRY.baseMs, capMs = DEFAULT_RETRY.capMs, jitter = DEFAULT_RETRY.jitter, random = Math.random } = options;
  const raw = baseMs * 2 ** Math.max(0, attempt - 1);
  const delay = Math.min(capMs, Math.round(raw * (1 + jitter * random())));
  return retryAfterMs !== undefined && retryAfterMs > delay ? Math.min(capMs, Math.round(retryAfterMs)) : delay;
}

/**
 * A random source in [0, 1) that is a pure function of `seed` and `attempt` (a 32-bit string hash):
 * the jitter of an actor's retry timer, so a replay re-arms the same delay as the live run did.
 * @example
 * ```ts
 * seededRandom('job-1', 2)() === seededRandom('job-1', 2)(); // true
 * ```
 */
export function seededRandom(seed: string, attempt: number): () => number {
  let h = attempt >>> 0;
  for (let i = 0; i < seed.length; i++) h = (h * 31 + seed.charCodeAt(i)) >>> 0;
  // a finaliser (murmur3's fmix32), so seeds that differ in one character get unrelated jitters
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return () => (h % 1000) / 1000;
}

/**
 * {@link backoffDelay} with its jitter seeded by an id (a job id, a session key) and the attempt:
 * the one backoff of the journaled machines, whose timers must re-arm identically on replay.
 * `retryAfterMs` (the last error's `retryAfterMs`, as `describeError` logs it) is honoured, capped at `capMs`.
 *
 * @example
 * ```ts
 * const delay = seededBackoffDelay(context.jobId, context.pollFailures, { baseMs: context.retryDelayMs }, context.lastError?.retryAfterMs);
 * ```
 */
export function seededBackoffDelay(seed: string, attempt: number, options: Omit<RetryOptions, 'random'> = {}, retryAfterMs?: number): number {
  return backoffDelay(attempt, { ...options, random: seededRandom(seed, attempt) }, retryAfterMs);
}

/** Options of {@link backoffDelay}. All durations in ms. */
export interface BackoffOptions {
  /** The first delay. @default 500 */
  baseMs?: number;
  /** The largest delay (seed 003 caps at 60 s). @default 60000 */
  capMs?: number;
  /** Up to this fraction is added at random, so clients do not retry in step. @default 0.2 */
  jitter?: number;
  /** The random source in [0, 1): inject a fixed one for deterministic tests and replays. @default Math.random */
  random?: () => number;
}

/**
 * The retry delay before attempt `attempt` (1 = the first retry): `baseMs · 2^(attempt-1)`, plus up
 * to `jitter` of it, capped at `capMs`. Transient failures are retried with it; permanent ones are not.
 *
 * @example
 * ```ts
 * backoffDelay(1, { random: () => 0 }); // 500
 * backoffDelay(10, { random: () => 0 }); // 60000 (capped)
 * ```
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const { baseMs = 500, capMs = 60_000, jitter = 0.2, random = Math.random } = options;
  const raw = baseMs * 2 ** Math.max(0, attempt - 1);
  return Math.min(capMs, Math.round(raw * (1 + jitter * random())));
}

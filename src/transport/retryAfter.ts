/**
 * The longest `Retry-After` wait kept from a response, ms (1 hour). Retry paths cap it again at
 * their own `capMs` (60 s by default, `DEFAULT_RETRY`).
 */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/** The statuses whose `Retry-After` a retry honours (RFC 9110 §10.2.3; RFC 6585 §4): 429 and 503. */
export const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/**
 * The wait a `Retry-After` value asks for, ms (RFC 9110 §10.2.3): delay-seconds (`120`) or an
 * HTTP-date (`Wed, 21 Oct 2015 07:28:00 GMT`, taken relative to `nowMs`); a date in the past is 0.
 * Capped at {@link MAX_RETRY_AFTER_MS}. Anything else (absent, negative, unparseable) is `undefined`.
 *
 * @param value the header's value (the first one when repeated)
 * @param nowMs the current time, ms since the epoch (inject it in tests) @default Date.now()
 * @example
 * ```ts
 * parseRetryAfter('5');                                                    // 5000
 * parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4_000);                 // 6000
 * parseRetryAfter('soon');                                                 // undefined
 * ```
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number = Date.now()): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Math.min(MAX_RETRY_AFTER_MS, Number(text) * 1000);
  if (!/[a-z]/i.test(text)) return undefined; // a number with a sign or a fraction is not delay-seconds, and not a date
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - nowMs));
}

/**
 * The `Retry-After` of a 429 or 503 answer, ms, or `undefined` (another status, no header, a
 * value {@link parseRetryAfter} cannot read). Header names compare case-insensitively.
 */
export function retryAfterOf(status: number, headers: Record<string, string | string[] | undefined> | undefined, nowMs?: number): number | undefined {
  if (!RETRY_AFTER_STATUSES.has(status) || !headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === 'retry-after');
  return key === undefined ? undefined : parseRetryAfter(headers[key], nowMs);
}

/**
 * The `Retry-After` wait an error carries, ms: `details.retryAfterMs` of a live error
 * (`httpStatusError`), or `retryAfterMs` of an error description logged by the journal.
 * `undefined` when it has none.
 */
export function retryAfterMsOf(err: unknown): number | undefined {
  const e = err as { retryAfterMs?: unknown; details?: { retryAfterMs?: unknown } } | undefined;
  const v = typeof e?.retryAfterMs === 'number' ? e.retryAfterMs : e?.details?.retryAfterMs;
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

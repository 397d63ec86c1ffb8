import { ActorlogError, type ErrorCode } from '../errors.ts';
import { retryAfterOf } from './retryAfter.ts';
import { scrubCredentials } from './scrubCredentials.ts';

/** The most bytes of a bad payload kept in an error or an `*.invalid` event. */
export const MAX_RAW_BYTES = 4096;

/**
 * `text` cut to at most {@link MAX_RAW_BYTES} bytes of UTF-8, at a character boundary (a cut inside
 * a character would decode to U+FFFD, 3 bytes, and overshoot). No scrub: raw text that is kept
 * goes through {@link keepRaw}.
 */
export function truncateRaw(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= MAX_RAW_BYTES) return text;
  let end = MAX_RAW_BYTES;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--; // bytes[end] continues the character before it
  return bytes.subarray(0, end).toString('utf8');
}

/**
 * The raw wire text a transport keeps, in the `raw` of an `*.invalid` event or in an error (a
 * server's error text): unambiguous credential forms scrubbed ({@link scrubCredentials}), then cut
 * to at most {@link MAX_RAW_BYTES} bytes. The only place actorlog scrubs by pattern (docs/architecture.md
 * invariant 7): ordinary events and input are logged as they are.
 *
 * @example
 * ```ts
 * keepRaw('{"state":"bogus","headers":{"authorization":"Bearer abc"}}');
 * // '{"state":"bogus","headers":{"authorization":"Bearer [redacted]"}}'
 * ```
 */
export function keepRaw(text: string): string {
  // scrub before cutting, so a credential that straddles the cut is still recognised whole
  return truncateRaw(scrubCredentials(text.length > 16 * MAX_RAW_BYTES ? text.slice(0, 16 * MAX_RAW_BYTES) : text));
}

/** True for the HTTP statuses retried with backoff: 5xx, 429 (too many requests), 408 (request timeout). */
export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/**
 * The one classification of transport failures, shared by every binding (docs/architecture.md, "Errors are
 * classified once"; seeds 003 and 004): an HTTP status becomes `TRANSIENT` (5xx, 429, 408) or
 * `PERMANENT` (any other 4xx), with `details.status`. Given the answer's headers, a 429 or 503
 * carrying `Retry-After` (seconds or an HTTP date) adds `details.retryAfterMs`, which every retry
 * path honours (`backoffDelay`, `seededBackoffDelay`; `describeError` logs it).
 *
 * @param label what failed, for the message (`A2A tasks/get`, `molecule register`); never a URL with credentials
 * @param headers the answer's headers, read for `Retry-After` only
 * @example
 * ```ts
 * httpStatusError('foreman POST /jobs', 503, {}, { 'retry-after': '5' }); // TRANSIENT, details { status: 503, retryAfterMs: 5000 }
 * ```
 */
export function httpStatusError(
  label: string,
  status: number,
  details: Record<string, unknown> = {},
  headers?: Record<string, string | string[] | undefined>,
): ActorlogError {
  const code: ErrorCode = isTransientStatus(status) ? 'TRANSIENT' : 'PERMANENT';
  const retryAfterMs = retryAfterOf(status, headers);
  return new ActorlogError(code, `${label}: HTTP ${status}${retryAfterMs === undefined ? '' : ` (Retry-After ${retryAfterMs} ms)`}`, {
    details: { ...details, status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
  });
}

/**
 * A network failure (refused, reset, DNS, timeout) as `TRANSIENT`; an abort as `ABORTED`; an
 * {@link ActorlogError} passes through unchanged.
 */
export function networkError(label: string, err: unknown): ActorlogError {
  if (err instanceof ActorlogError) return err;
  const e = err as { name?: string; code?: string };
  if (e?.name === 'AbortError' || e?.code === 'UND_ERR_ABORTED' || e?.code === 'ABORT_ERR') {
    return new ActorlogError('ABORTED', `${label}: aborted`, { cause: err });
  }
  const kind = e?.code ?? e?.name ?? 'Error';
  return new ActorlogError('TRANSIENT', `${label}: network error (${kind})`, { cause: err, details: { cause: kind } });
}

/** A payload that is not JSON or fails its schema: `INVALID_PAYLOAD` with the raw text ({@link keepRaw}: credential forms scrubbed, <= 4 KiB) and the reason. */
export function invalidPayload(label: string, raw: string, error: string): ActorlogError {
  const reason = scrubCredentials(error.slice(0, 1000)); // a parser's message may quote the raw text
  return new ActorlogError('INVALID_PAYLOAD', `${label}: invalid payload: ${reason}`, { details: { raw: keepRaw(raw), error: reason } });
}

/** True when `err` (live Error or its logged description) has code `TRANSIENT`. */
export function isTransient(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'TRANSIENT';
}

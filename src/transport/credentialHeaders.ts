/** The text that replaces a redacted value. */
export const REDACTED = '[redacted]';

/**
 * The HTTP headers that carry credentials (RFC 9110 §11.6.2 and §11.7.2, RFC 6265 §4): their
 * values are redacted wherever a transport describes a request or a response (an SSE `open` or
 * `body` item, {@link requestText}'s answer). Lower case.
 */
export const CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'];

/**
 * A copy of `headers` with the value of every credential header replaced by {@link REDACTED}:
 * {@link CREDENTIAL_HEADERS}, and the names in `secretHeaders` (e.g. `['x-api-key']`, from a
 * source's `secretHeaders` option). Names compare case-insensitively; other headers are kept as
 * they are. Nothing else is guessed: a header is a secret because it is named here.
 *
 * @param headers header names to values (a value may be an array, e.g. several `set-cookie`)
 * @param secretHeaders more header names that carry secrets
 * @example
 * ```ts
 * redactHeaders({ 'content-type': 'text/event-stream', 'set-cookie': 'sid=abc', 'x-api-key': 'k' }, ['X-Api-Key']);
 * // { 'content-type': 'text/event-stream', 'set-cookie': '[redacted]', 'x-api-key': '[redacted]' }
 * ```
 */
export function redactHeaders<H extends Record<string, unknown>>(headers: H, secretHeaders: readonly string[] = []): H {
  const names = secretHeaders.length === 0 ? CREDENTIAL_HEADERS : [...CREDENTIAL_HEADERS, ...secretHeaders.map((h) => h.toLowerCase())];
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = value !== undefined && names.includes(name.toLowerCase()) ? REDACTED : value;
  }
  return out as H;
}

import { describeError } from '../errors.ts';

/** Keys whose string values are secrets (DESIGN.md invariant 7). Matched case-insensitively. */
const SECRET_KEY = /(authorization|password|passwd|secret|token|api[-_]?key|private[-_]?key|credential|cookie|bearer|^auth$)/i;

/** Cheap test: a string that may hold a secret inside (an embedded JSON field, a header, a URL query). */
const SUSPECT = /(authorization|password|passwd|secret|token|api[-_]?key|credential|cookie|bearer|basic )/i;

/** Secrets inside text: `"token":"…"` in embedded JSON, `Bearer …`/`Basic …` credentials, `?access_token=…` in URLs. */
const EMBEDDED: Array<[RegExp, string]> = [
  [/("[^"]*?(?:authorization|password|passwd|secret|token|api[-_]?key|private[-_]?key|credential|cookie)[^"]*"\s*:\s*)"(?:[^"\\]|\\.)*"/gi, '$1"[redacted]"'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, '$1 [redacted]'],
  [/([?&][A-Za-z_]*(?:token|key|secret|password|signature|sig)=)[^&\s"'#]+/gi, '$1[redacted]'],
];

/** The text that replaces a redacted value. */
export const REDACTED = '[redacted]';

/**
 * Returns a deep copy of `value` with its secrets replaced by `"[redacted]"`:
 * - every string held (at any depth) under a key that names a secret: authorization, password,
 *   secret, token, api key, private key, credential, cookie, bearer, auth;
 * - secrets embedded in other strings: `"token":"…"` in a raw JSON frame kept by an `*.invalid`
 *   event, `Bearer …` and `Basic …` credentials, `?access_token=…` and similar URL parameters.
 * Numbers are kept (`total_tokens: 12` is not a secret). Error instances become their
 * {@link describeError} description first. The runtime applies it to stream input and to every
 * event, live and logged alike, so the actor acts on exactly what the log keeps.
 *
 * @example
 * ```ts
 * redactSecrets({ url: 'http://x?access_token=abc', headers: { Authorization: 'Bearer abc' } });
 * // { url: 'http://x?access_token=[redacted]', headers: { Authorization: '[redacted]' } }
 * ```
 */
export function redactSecrets<T>(value: T): T {
  return redact(value, 0, false) as T;
}

function scrub(text: string): string {
  if (!SUSPECT.test(text)) return text;
  let out = text;
  for (const [pattern, replacement] of EMBEDDED) out = out.replace(pattern, replacement);
  return out;
}

function redact(value: unknown, depth: number, underSecret: boolean): unknown {
  if (typeof value === 'string') return underSecret ? REDACTED : scrub(value);
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return redact(describeError(value), depth + 1, underSecret); // keep its message
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, underSecret));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    out[key] = redact(v, depth + 1, underSecret || SECRET_KEY.test(key));
  }
  return out;
}

/**
 * The value of one field, `key: value`, with its secrets redacted: `value` itself (same reference)
 * when there is nothing to redact, so the append path copies nothing for ordinary events.
 */
export function redactEntry(key: string, value: unknown): unknown {
  const underSecret = SECRET_KEY.test(key);
  return hasSecrets(value, 0, underSecret) ? redact(value, 0, underSecret) : value;
}

/** True when {@link redactSecrets} would change `value` (a fast check for the hot path). */
export function hasSecrets(value: unknown, depth = 0, underSecret = false): boolean {
  if (typeof value === 'string') return underSecret || scrub(value) !== value;
  if (depth > 32 || value === null || typeof value !== 'object') return false;
  if (value instanceof Error) return hasSecrets(describeError(value), depth + 1, underSecret);
  if (Array.isArray(value)) return value.some((v) => hasSecrets(v, depth + 1, underSecret));
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (hasSecrets(v, depth + 1, underSecret || SECRET_KEY.test(key))) return true;
  }
  return false;
}

import { describeError } from '../errors.ts';

/** Keys whose string values are secrets (DESIGN.md invariant 7). Matched case-insensitively. */
const SECRET_KEY = /(authorization|password|passwd|secret|token|api[-_]?key|credential|cookie)/i;

/** The text that replaces a redacted value. */
export const REDACTED = '[redacted]';

/**
 * Returns a deep copy of `value` in which every string (or string array) held under a key that
 * names a secret (authorization, password, secret, token, api key, credential, cookie) is replaced
 * by `"[redacted]"`. Numbers are kept (`total_tokens: 12` is not a secret). Used on everything the
 * runtime writes to the log: stream input and event data.
 *
 * @example
 * ```ts
 * redactSecrets({ url: 'http://x', headers: { Authorization: 'Bearer abc' } });
 * // { url: 'http://x', headers: { Authorization: '[redacted]' } }
 * ```
 */
export function redactSecrets<T>(value: T): T {
  return redact(value, 0) as T;
}

function redact(value: unknown, depth: number): unknown {
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return redact(describeError(value), depth + 1); // keep its message, not just its own enumerable fields
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (SECRET_KEY.test(key) && (typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string')))) {
      out[key] = REDACTED;
    } else {
      out[key] = redact(v, depth + 1);
    }
  }
  return out;
}

/** True when some string under a secret-named key would be redacted (a fast check for the hot path). */
export function hasSecrets(value: unknown, depth = 0): boolean {
  if (depth > 32 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => hasSecrets(v, depth + 1));
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (SECRET_KEY.test(key) && (typeof v === 'string' || Array.isArray(v))) return true;
    if (hasSecrets(v, depth + 1)) return true;
  }
  return false;
}

import { ActorlogError } from '../../errors.ts';
import { retryAfterMsOf } from '../../transport/retryAfter.ts';
import { backoffDelay } from '../../transport/backoff.ts';
import type { ReconnectOptions } from './options.ts';

/** What a close code means for a reconnect: the stream ended, try again, or stop for good. */
export type CloseKind = 'normal' | 'transient' | 'permanent';

/**
 * Classifies a close code (RFC 6455 §7.4.1, IANA registry; 4401/4403 as graphql-ws and other
 * subprotocols use them):
 * - 1000 normal closure: `normal`;
 * - 1002 protocol error, 1003 unsupported data, 1007 invalid payload, 1008 policy violation,
 *   1009 message too big, 1010 missing extension, 3000 unauthorized, 3003 forbidden, 4401
 *   unauthorized, 4403 forbidden: `permanent` (reconnecting would get the same answer);
 * - anything else (1001 going away, 1005 no status, 1006 abnormal, 1011 internal error, 1012
 *   service restart, 1013 try again later, 1014, other application codes): `transient`.
 * `custom` (the `reconnect.classifyClose` option) is asked first; undefined keeps this default.
 */
export function classifyClose(code: number, reason = '', custom?: (code: number, reason: string) => CloseKind | undefined): CloseKind {
  let chosen: CloseKind | undefined;
  try {
    chosen = custom?.(code, reason);
  } catch {
    chosen = undefined;
  } // a throwing classifier keeps the default
  if (chosen === 'normal' || chosen === 'transient' || chosen === 'permanent') return chosen;
  if (code === 1000) return 'normal';
  if (PERMANENT_CODES.has(code)) return 'permanent';
  return 'transient';
}

const PERMANENT_CODES = new Set([1002, 1003, 1007, 1008, 1009, 1010, 3000, 3003, 4401, 4403]);

/** The decision after a connection ended. */
export type ReconnectDecision = { reconnect: true; attempt: number; delayMs: number } | { reconnect: false; error?: ActorlogError };

/** How a connection ended: a close frame (or a drop, 1006), or an error before it opened. */
export type ConnectionEnd = { close: { code: number; reason: string } } | { error: ActorlogError };

/**
 * The reconnect policy, pure: after `end`, with `attempt` reconnects already made in a row (0 after
 * a connection that delivered a frame), either reconnect after `delayMs` (capped exponential backoff with jitter,
 * {@link backoffDelay}) or stop: a normal close completes (no error, unless `onNormalClose`);
 * a permanent close or error fails with it; attempts beyond `maxAttempts` fail with `TRANSIENT`
 * (`details.attempts`, and the last close code or error code).
 *
 * @example
 * ```ts
 * decideReconnect({ close: { code: 1006, reason: '' } }, 0, { maxAttempts: 3, random: () => 0 });
 * // { reconnect: true, attempt: 1, delayMs: 500 }
 * ```
 */
export function decideReconnect(end: ConnectionEnd, attempt: number, policy: ReconnectOptions = {}): ReconnectDecision {
  const { maxAttempts = 3, onNormalClose = false } = policy;
  if ('close' in end) {
    const kind = classifyClose(end.close.code, end.close.reason, policy.classifyClose);
    if (kind === 'normal' && !onNormalClose) return { reconnect: false };
    if (kind === 'permanent') {
      return {
        reconnect: false,
        error: new ActorlogError('PERMANENT', `WebSocket closed with code ${end.close.code}${end.close.reason ? ` (${end.close.reason})` : ''}`, {
          details: { closeCode: end.close.code, reason: end.close.reason },
        }),
      };
    }
  } else if (end.error.code !== 'TRANSIENT') {
    return { reconnect: false, error: end.error };
  }
  const next = attempt + 1;
  if (next > maxAttempts) {
    const last = 'close' in end ? { closeCode: end.close.code, reason: end.close.reason } : { cause: end.error.code, message: end.error.message };
    const why = 'close' in end ? `WebSocket closed with code ${end.close.code}${end.close.reason ? ` (${end.close.reason})` : ''}` : end.error.message;
    return {
      reconnect: false,
      error: new ActorlogError('TRANSIENT', maxAttempts > 0 ? `${why}; stopped after ${maxAttempts} reconnect attempts` : why, {
        cause: 'error' in end ? end.error : undefined,
        details: { attempts: maxAttempts, ...last },
      }),
    };
  }
  return { reconnect: true, attempt: next, delayMs: backoffDelay(next, policy, 'error' in end ? retryAfterMsOf(end.error) : undefined) };
}

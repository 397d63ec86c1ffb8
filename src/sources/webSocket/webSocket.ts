import { Observable, type Subscription } from 'rxjs';
import { ActorlogError, describeError, type ErrorInfo } from '../../errors.ts';
import { connectOnce } from './connection.ts';
import { resolveWebSocketOptions, type WebSocketSourceOptions } from './options.ts';
import { decideReconnect, type ConnectionEnd } from './retry.ts';

/** What {@link webSocket} emits. */
export type WebSocketEvent =
  /** A connection opened; `cursor` is the resume point it was opened with (undefined: from the start). */
  | { type: 'open'; attempt: number; cursor?: string }
  /** One message: `text` for a text frame (valid UTF-8), `bytes` otherwise; `cursor` as `cursorOf` read it. */
  | { type: 'message'; text?: string; bytes?: Buffer; cursor?: string }
  /**
   * The connection closed (1006 when it dropped or stalled). `reconnect` says whether the source
   * reconnects, as attempt `attempt`, after `delayMs`.
   */
  | { type: 'close'; code: number; reason: string; reconnect: boolean; attempt: number; delayMs?: number }
  /** A connect failed before opening and will be retried as attempt `attempt` after `delayMs`. */
  | { type: 'error'; error: ErrorInfo; attempt: number; delayMs: number };

/**
 * A WebSocket stream source over `ws`: connects, emits every message, keeps the connection alive
 * with pings (closing it when it stalls), and reconnects with capped exponential backoff and
 * jitter, resuming from the last cursor a frame carried (`cursorOf`), up to `reconnect.maxAttempts`
 * in a row. Close codes are surfaced as `close` events. The parts are apart: {@link connectOnce}
 * (one connection's lifecycle), {@link decideReconnect} (the retry policy, pure),
 * `decodeFrame`/`parseJsonFrame` (the parser, pure). Timers run on `options.scheduler`.
 *
 * Completes after a normal close (1000). Errors: `PERMANENT` (HTTP 4xx on the upgrade, or a close
 * code such as 1008; `details.status` / `details.closeCode`), `TRANSIENT` once the reconnect
 * attempts are used up (`details.attempts`).
 * Behaviour sources: seed 004 `observe_worker_events` (resume with `?cursor=`, bounded reconnects,
 * 500 ms delay) and seed 003 (exponential backoff capped at 60 s); RFC 6455 §5.5.2-3 (ping/pong), §7.4 (close codes).
 *
 * @throws ActorlogError `INVALID_OPTIONS` at once for a bad URL or option
 * @example
 * ```ts
 * webSocket('ws://127.0.0.1:8787/events/ws', { cursor: 'bo_0000000000000007', cursorOf: (t) => JSON.parse(t).cursor })
 *   .subscribe((e) => e.type === 'message' && console.log(e.cursor, e.text));
 * ```
 */
export function webSocket(url: string, options: WebSocketSourceOptions = {}): Observable<WebSocketEvent> {
  const o = resolveWebSocketOptions(url, options);
  return new Observable<WebSocketEvent>((subscriber) => {
    let cursor = o.cursor;
    let attempt = 0;
    let current: Subscription | undefined;
    let wait: Subscription | undefined;

    const readCursor = (text: string): string | undefined => {
      try {
        return o.cursorOf?.(text);
      } catch {
        return undefined;
      }
    };

    const end = (how: ConnectionEnd) => {
      const decision = decideReconnect(how, attempt, o.reconnect);
      if ('close' in how) {
        subscriber.next({
          type: 'close', code: how.close.code, reason: how.close.reason, reconnect: decision.reconnect,
          attempt: decision.reconnect ? decision.attempt : attempt, delayMs: decision.reconnect ? decision.delayMs : undefined,
        });
      } else if (decision.reconnect) {
        subscriber.next({ type: 'error', error: describeError(how.error), attempt: decision.attempt, delayMs: decision.delayMs });
      }
      if (!decision.reconnect) {
        if (decision.error) subscriber.error(decision.error);
        else subscriber.complete();
        return;
      }
      attempt = decision.attempt;
      wait = o.scheduler.schedule(() => {
        wait = undefined;
        connect();
      }, decision.delayMs);
    };

    const connect = () => {
      const opened = cursor;
      current = connectOnce(o.urlFor(cursor), o).subscribe({
        next: (event) => {
          if (event.type === 'open') {
            const made = attempt;
            attempt = 0;
            subscriber.next({ type: 'open', attempt: made, cursor: opened });
          } else if (event.type === 'message') {
            if (event.frame.kind === 'binary') {
              subscriber.next({ type: 'message', bytes: event.frame.bytes });
              return;
            }
            const text = event.frame.text;
            const next = readCursor(text);
            if (next !== undefined) cursor = next;
            subscriber.next({ type: 'message', text, cursor: next });
          } else {
            end({ close: { code: event.code, reason: event.reason } });
          }
        },
        error: (err: unknown) => {
          end({ error: err instanceof ActorlogError ? err : new ActorlogError('TRANSIENT', `WebSocket: ${(err as Error)?.message ?? err}`, { cause: err }) });
        },
      });
    };

    connect();
    return () => {
      current?.unsubscribe();
      wait?.unsubscribe();
    };
  });
}

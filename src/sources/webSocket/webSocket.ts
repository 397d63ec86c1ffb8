import { Observable, type Subscription } from 'rxjs';
import { ActorlogError, describeError, type ErrorInfo } from '../../errors.ts';
import { connectOnce } from './connection.ts';
import { resolveWebSocketOptions, type WebSocketOutgoing, type WebSocketSourceOptions } from './options.ts';
import { decideReconnect, type ConnectionEnd } from './retry.ts';

/** What {@link webSocket} emits. */
export type WebSocketEvent =
  /** A connection opened (its `onOpen` messages are sent); `cursor` is the resume point it was opened with (undefined: from the start). */
  | { type: 'open'; attempt: number; cursor?: string }
  /** One message: `text` for a text frame (valid UTF-8), `bytes` for a binary frame; `cursor` as `cursorOf` read it. */
  | { type: 'message'; text?: string; bytes?: Buffer; cursor?: string }
  /**
   * A message that could not be delivered as text or bytes, to be recorded raw as `*.invalid`:
   * `invalid-utf8`, a text frame whose `bytes` are not UTF-8 (the connection stays open);
   * `too-large`, a message over `maxPayloadBytes` that `ws` refused unread (a `close` follows).
   * `error` says why, for the record.
   */
  | { type: 'invalid'; reason: 'invalid-utf8' | 'too-large'; error: string; bytes?: Buffer; limitBytes?: number }
  /**
   * The connection closed (1006 when it dropped or stalled), after `delivered` messages (a
   * connection that delivered none counts as a failed attempt). `reconnect` says whether the
   * source reconnects, as attempt `attempt`, after `delayMs`.
   */
  | { type: 'close'; code: number; reason: string; delivered: number; reconnect: boolean; attempt: number; delayMs?: number }
  /** A connect failed before opening and will be retried as attempt `attempt` after `delayMs`. */
  | { type: 'error'; error: ErrorInfo; attempt: number; delayMs: number };

/**
 * A WebSocket stream source over `ws`: connects, emits every message, keeps the connection alive
 * with pings (closing it when it stalls), and reconnects with capped exponential backoff and
 * jitter, resuming from the last cursor a frame carried (`cursorOf`), up to `reconnect.maxAttempts`
 * in a row (a connection that closes before delivering a message counts as a failed attempt, so
 * a server that accepts the socket and then rejects the login cannot keep it reconnecting).
 *
 * Resuming: in URL mode (the default) the cursor goes into each connect's URL (`cursorParam`,
 * `urlFor`); in message mode `onOpen({ cursor, attempt })` returns the messages to send on each
 * open (a `connection_init`, a `subscribe` carrying the cursor when the protocol takes it at
 * once). Later messages (a `subscribe` after graphql-ws's `connection_ack`, commands) come from
 * the `outgoing` Observable, sent while open and queued between connections.
 *
 * Nothing from the wire vanishes: text frames are `message` with `text`, binary frames `message`
 * with `bytes`, text that is not UTF-8 and messages over `maxPayloadBytes` are `invalid` events,
 * and close codes are surfaced as `close` events. The parts are apart: {@link connectOnce} (one
 * connection's lifecycle), {@link decideReconnect} (the retry policy, pure; close codes classified
 * by `reconnect.classifyClose`, then the defaults), `decodeFrame`/`parseJsonFrame` (the parser,
 * pure). Timers run on `options.scheduler`.
 *
 * Completes after a normal close (1000). Errors: `PERMANENT` (HTTP 4xx on the upgrade, or a close
 * code such as 1008 or 4403; `details.status` / `details.closeCode`; a throwing `onOpen`; more
 * than `maxQueuedSends` messages waiting), `TRANSIENT` once the reconnect attempts are used up
 * (`details.attempts`).
 * Behaviour sources: seed 004 `observe_worker_events` (resume with `?cursor=`, bounded reconnects,
 * 500 ms delay) and seed 003 (exponential backoff capped at 60 s); RFC 6455 §5.5.2-3 (ping/pong),
 * §7.4 (close codes); the graphql-ws protocol (message-mode resume, 4401/4403).
 *
 * @throws ActorlogError `INVALID_OPTIONS` at once for a bad URL or option
 * @example
 * ```ts
 * // URL mode: seed 004's observation socket
 * webSocket('ws://127.0.0.1:8787/events/ws', { cursor: 'bo_0000000000000007', cursorOf: (t) => JSON.parse(t).cursor })
 *   .subscribe((e) => e.type === 'message' && console.log(e.cursor, e.text));
 * // message mode (graphql-ws): log in on every open; subscribe, from the last tick, once the server acks
 * const commands = new Subject<string>();
 * let after: number | null = lastLoggedSeq;
 * webSocket('ws://127.0.0.1:4000/graphql', {
 *   protocols: ['graphql-transport-ws'],
 *   onOpen: () => [JSON.stringify({ type: 'connection_init', payload: { token } })],
 *   outgoing: commands,
 * }).subscribe((e) => {
 *   const m = e.type === 'message' && e.text ? JSON.parse(e.text) : undefined;
 *   if (m?.type === 'connection_ack') commands.next(JSON.stringify({ type: 'subscribe', id: 's1', payload: { query, variables: { after } } }));
 *   if (m?.type === 'next') after = m.payload.data.ticks.seq;
 * });
 * ```
 */
export function webSocket(url: string, options: WebSocketSourceOptions = {}): Observable<WebSocketEvent> {
  const o = resolveWebSocketOptions(url, options);
  return new Observable<WebSocketEvent>((subscriber) => {
    let cursor = o.cursor;
    let attempt = 0;
    let current: Subscription | undefined;
    let wait: Subscription | undefined;
    let send: ((data: WebSocketOutgoing) => void) | undefined;
    let delivered = 0;
    const queue: WebSocketOutgoing[] = [];

    const readCursor = (text: string): string | undefined => {
      try {
        return o.cursorOf?.(text);
      } catch {
        return undefined;
      }
    };

    const end = (how: ConnectionEnd) => {
      send = undefined;
      const decision = decideReconnect(how, attempt, o.reconnect);
      if ('close' in how) {
        subscriber.next({
          type: 'close',
          code: how.close.code,
          reason: how.close.reason,
          delivered,
          reconnect: decision.reconnect,
          attempt: decision.reconnect ? decision.attempt : attempt,
          delayMs: decision.reconnect ? decision.delayMs : undefined,
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

    /** A message arrived: the connection delivered, so the next failure starts a new count. */
    const arrived = () => {
      delivered += 1;
      attempt = 0;
    };

    const opened = (write: (data: WebSocketOutgoing) => void, from: string | undefined, made: number) => {
      let first: WebSocketOutgoing[];
      try {
        first = [...(o.onOpen?.({ cursor: from, attempt: made }) ?? [])];
      } catch (err) {
        subscriber.error(new ActorlogError('PERMANENT', `webSocket: onOpen threw: ${(err as Error)?.message ?? err}`, { cause: err }));
        return;
      }
      for (const m of first) write(m);
      for (const m of queue.splice(0)) write(m);
      send = write;
      subscriber.next({ type: 'open', attempt: made, cursor: from });
    };

    const connect = () => {
      const from = cursor;
      delivered = 0;
      current = connectOnce(o.urlFor(cursor), o).subscribe({
        next: (event) => {
          if (event.type === 'open') opened(event.send, from, attempt);
          else if (event.type === 'message') {
            arrived();
            const frame = event.frame;
            if (frame.kind === 'binary') subscriber.next({ type: 'message', bytes: frame.bytes });
            else if (frame.kind === 'invalid-text')
              subscriber.next({
                type: 'invalid',
                reason: 'invalid-utf8',
                error: `a text frame that is not valid UTF-8 (${frame.bytes.length} bytes)`,
                bytes: frame.bytes,
              });
            else {
              const next = readCursor(frame.text);
              if (next !== undefined) cursor = next;
              subscriber.next({ type: 'message', text: frame.text, cursor: next });
            }
          } else if (event.type === 'oversize') {
            arrived();
            subscriber.next({
              type: 'invalid',
              reason: 'too-large',
              error: `a message over maxPayloadBytes (${event.limitBytes} bytes), not read; the connection was closed`,
              limitBytes: event.limitBytes,
            });
          } else {
            end({ close: { code: event.code, reason: event.reason } });
          }
        },
        error: (err: unknown) => {
          end({ error: err instanceof ActorlogError ? err : new ActorlogError('TRANSIENT', `WebSocket: ${(err as Error)?.message ?? err}`, { cause: err }) });
        },
      });
    };

    const commands = o.outgoing?.subscribe({
      next: (data) => {
        if (send) {
          send(data);
          return;
        }
        if (queue.length >= o.maxQueuedSends) {
          subscriber.error(
            new ActorlogError('PERMANENT', `webSocket: more than maxQueuedSends (${o.maxQueuedSends}) messages waiting for a connection`, {
              details: { maxQueuedSends: o.maxQueuedSends },
            }),
          );
          return;
        }
        queue.push(data);
      },
      error: (err: unknown) => subscriber.error(err),
    });

    connect();
    return () => {
      commands?.unsubscribe();
      current?.unsubscribe();
      wait?.unsubscribe();
    };
  });
}

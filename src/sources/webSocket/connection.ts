import { Observable, type Subscription } from 'rxjs';
import type WebSocket from 'ws';
import { ActorlogError } from '../../errors.ts';
import { httpStatusError, networkError } from '../../transport/classify.ts';
import type { ResolvedWebSocketOptions, WebSocketOutgoing } from './options.ts';
import { decodeFrame, type DecodedFrame } from './parser.ts';

/** What one WebSocket connection reports, in order: `open`, any number of `message`s, one `close`. */
export type ConnectionEvent =
  /** Open; `send` writes one message on this connection (a no-op once it is closing). */
  | { type: 'open'; protocol: string; send: (data: WebSocketOutgoing) => void }
  | { type: 'message'; frame: DecodedFrame }
  /** `ws` refused a message over `maxPayloadBytes` without reading it; a `close` (1006) follows. */
  | { type: 'oversize'; limitBytes: number }
  /** The connection ended: the peer's close code (1006 when it dropped or stalled) and reason. */
  | { type: 'close'; code: number; reason: string };

/** The close reason given when the stall timeout ends a connection. */
export const STALLED = 'stalled';

/**
 * One WebSocket connection as an Observable (the lifecycle, apart from parsing and retries): it
 * opens `url`, emits `open`, every message decoded ({@link decodeFrame}), and finally `close`
 * with its code, then completes. Text is checked for UTF-8 here (`decodeFrame`), not by `ws`,
 * so a bad frame is reported instead of closing the socket; a message over `maxPayloadBytes` is
 * reported as `oversize` before the close `ws` makes (1006, reason `message over maxPayloadBytes`). While open it sends a ping every `pingIntervalMs` and closes the
 * connection (code 1006, reason `stalled`) when nothing (frame, ping, pong) arrived for
 * `stallTimeoutMs`; both run on `options.scheduler`. Unsubscribing terminates the socket.
 *
 * Errors, only before `open`: `TRANSIENT` (refused, reset, handshake timeout, HTTP 5xx/429/408 on
 * the upgrade) or `PERMANENT` (HTTP 4xx on the upgrade, `details.status`).
 * @example
 * ```ts
 * connectOnce('ws://127.0.0.1:8787/events/ws', resolveWebSocketOptions('ws://127.0.0.1:8787/events/ws'))
 *   .subscribe((e) => e.type === 'close' && console.log('closed', e.code, e.reason));
 * ```
 */
export function connectOnce(url: string, options: ResolvedWebSocketOptions): Observable<ConnectionEvent> {
  return new Observable<ConnectionEvent>((subscriber) => {
    const { scheduler } = options;
    const ws: WebSocket = new options.WebSocket(url, options.protocols, {
      headers: options.headers,
      handshakeTimeout: options.handshakeTimeoutMs || undefined,
      maxPayload: options.maxPayloadBytes,
      perMessageDeflate: false,
      skipUTF8Validation: true, // decodeFrame checks it, and a bad frame becomes a record instead of a close (1007)
    });
    let opened = false;
    let failure: ActorlogError | undefined;
    let dropReason: string | undefined;
    let lastSeen = scheduler.now();
    let keepAlive: Subscription | undefined;
    const seen = () => {
      lastSeen = scheduler.now();
    };

    const startKeepAlive = () => {
      const { pingIntervalMs: ping, stallTimeoutMs: stall } = options;
      const period = ping > 0 ? ping : stall / 2;
      if (period <= 0) return;
      keepAlive = scheduler.schedule(function tick() {
        if (ws.readyState !== ws.OPEN) return;
        if (stall > 0 && scheduler.now() - lastSeen >= stall) {
          dropReason = STALLED;
          ws.terminate();
          return;
        }
        if (ping > 0) ws.ping();
        this.schedule(undefined, period);
      }, period);
    };

    ws.on('unexpected-response', (_req, res) => {
      failure = httpStatusError('WebSocket upgrade', res.statusCode ?? 0, {}, res.headers);
      res.resume();
      ws.terminate(); // aborts the handshake: ws then emits 'error' and 'close'
    });
    ws.on('open', () => {
      opened = true;
      seen();
      subscriber.next({
        type: 'open',
        protocol: ws.protocol,
        send: (data) => {
          if (ws.readyState === ws.OPEN) ws.send(data, { binary: typeof data !== 'string' });
        },
      });
      startKeepAlive();
    });
    ws.on('message', (data, isBinary) => {
      seen();
      subscriber.next({ type: 'message', frame: decodeFrame(data, isBinary) });
    });
    ws.on('ping', seen);
    ws.on('pong', seen);
    ws.on('error', (err) => {
      if (opened && (err as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        dropReason ??= `message over maxPayloadBytes (${options.maxPayloadBytes} bytes)`;
        subscriber.next({ type: 'oversize', limitBytes: options.maxPayloadBytes });
      }
      if (opened) dropReason ??= (err as Error).message;
      else failure ??= networkError('WebSocket connect', err);
    });
    ws.on('close', (code, reason) => {
      keepAlive?.unsubscribe();
      if (!opened) {
        subscriber.error(
          failure ?? new ActorlogError('TRANSIENT', `WebSocket connect: closed before it opened (code ${code})`, { details: { closeCode: code } }),
        );
        return;
      }
      const text = reason.toString('utf8');
      subscriber.next({ type: 'close', code, reason: dropReason === STALLED ? STALLED : text || dropReason || '' });
      subscriber.complete();
    });

    return () => {
      keepAlive?.unsubscribe();
      ws.removeAllListeners();
      ws.on('error', () => {}); // a late handshake error must not become an unhandled 'error' event
      if (ws.readyState !== ws.CLOSED) ws.terminate();
    };
  });
}

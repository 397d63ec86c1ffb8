import { asyncScheduler, Observable, type Subscription } from 'rxjs';
import { ActorlogError } from '../../errors.ts';
import { openSseConnection, type SseRequest } from './connection.ts';
import { validateSseOptions, type SseOptions } from './options.ts';
import type { SseMessage } from './parser.ts';
import { decideRetry } from './retryPolicy.ts';
import { SeenCursors } from './seenCursors.ts';

/** What the SSE source emits: lifecycle notices around the messages. */
export type SseItem =
  /** A connection is open (2xx `text/event-stream`); `attempt` 0 is the first. `headers`: the answer's, credential headers and `secretHeaders` redacted. */
  | { kind: 'open'; attempt: number; status: number; headers: Record<string, string> }
  /**
   * One event; `cursor` is its resume point (`id` by default), when it has one. `cursorReused`: an
   * earlier event of this subscription carried the same cursor with other content (a server that
   * reuses event ids): delivered all the same, never taken for a replay.
   */
  | (SseMessage & { kind: 'message'; cursor?: string; cursorReused?: true })
  /** The connection ended; the source reconnects after `delayMs`, resuming from `cursor`. */
  | { kind: 'retry'; attempt: number; delayMs: number; error: ActorlogError; cursor?: string }
  /** A 2xx answer that was not an event stream (JSON, say), read whole; the source then completes. */
  | { kind: 'body'; status: number; contentType: string; text: string; headers: Record<string, string> };

/**
 * A Server-Sent Events source as an RxJS Observable, over undici with eventsource-parser
 * (docs/architecture.md, "Stream source"). Parser (./parser.ts), one connection's lifecycle (./connection.ts),
 * retry policy (./retryPolicy.ts) and options (./options.ts) live apart; this file is the
 * reconnection loop.
 *
 * - Reconnects after a drop, a stall or a transient HTTP error, with capped exponential backoff and
 *   jitter whose base is the server's `retry:` value when it sent one; gives up after
 *   `retry.maxAttempts` consecutive failures with the last error (`TRANSIENT`). A permanent error
 *   (4xx other than 408/429) ends it at once (`PERMANENT`, `details.status`). HTTP 204 completes it.
 * - Resumes from the last cursor: `Last-Event-ID` (the message `id`, WHATWG HTML §9.2.4) or a
 *   protocol cursor put in the request by `request(resume)` (`resume: 'request'`, e.g. OpenCode's
 *   `?after=SEQ`). A message whose cursor was already delivered with the same `event` and `data`
 *   (a replay) is dropped (`isDuplicate`); one whose cursor was delivered with other content (a
 *   server that reuses ids) is delivered, marked `cursorReused`.
 * - Comments and `isHeartbeat` messages only reset the stall timer (`stallTimeoutMs`).
 * - Time is injected: backoff and stall timers run on `scheduler`.
 * Unsubscribing aborts the request and cancels any pending reconnection.
 *
 * @throws ActorlogError `INVALID_OPTIONS` (synchronously) for bad options
 * @example
 * ```ts
 * sse({ request: 'http://127.0.0.1:3000/mcp', headers: { 'mcp-session-id': id }, cursor: lastLoggedId })
 *   .subscribe((item) => { if (item.kind === 'message') handle(item.data, item.cursor); });
 * ```
 */
export function sse(options: SseOptions): Observable<SseItem> {
  validateSseOptions(options);
  const label = options.label ?? 'SSE';
  const scheduler = options.scheduler ?? asyncScheduler;
  const resumeByHeader = (options.resume ?? 'last-event-id') === 'last-event-id';
  const cursorOf = options.cursorOf ?? ((m: SseMessage) => m.id);
  const connect =
    options.connect ??
    ((req: SseRequest) =>
      openSseConnection(req, {
        label,
        scheduler,
        stallTimeoutMs: options.stallTimeoutMs,
        dispatcher: options.dispatcher,
        maxEventChars: options.maxEventChars,
        isHeartbeat: options.isHeartbeat,
        secretHeaders: options.secretHeaders,
      }));

  return new Observable<SseItem>((subscriber) => {
    let cursor = options.cursor;
    let attempt = 0;
    let serverRetryMs: number | undefined;
    let connection: Subscription | undefined;
    let pending: Subscription | undefined;
    const seen = new SeenCursors(cursor);
    const custom = options.isDuplicate;

    const buildRequest = (): SseRequest => {
      const r = options.request;
      const base: SseRequest = typeof r === 'string' ? { url: r, headers: { ...options.headers } } : r({ cursor, attempt });
      if (resumeByHeader && cursor !== undefined) base.headers = { ...base.headers, 'last-event-id': cursor };
      return base;
    };

    const reconnect = (error: ActorlogError | undefined) => {
      attempt += 1;
      const decision = decideRetry(error, attempt, serverRetryMs, options.retry);
      if (!decision.retry) {
        subscriber.error(decision.error);
        return;
      }
      const reason = error ?? new ActorlogError('TRANSIENT', `${label}: stream ended`, { details: { cause: 'end-of-stream' } });
      const notice: SseItem = { kind: 'retry', attempt, delayMs: decision.delayMs, error: reason };
      if (cursor !== undefined) notice.cursor = cursor;
      subscriber.next(notice);
      pending = scheduler.schedule(open, decision.delayMs);
    };

    const open = () => {
      if (subscriber.closed) return;
      let stop = false;
      let request: SseRequest;
      try {
        request = buildRequest();
      } catch (err) {
        subscriber.error(err);
        return;
      }
      connection = connect(request).subscribe({
        next: (item) => {
          switch (item.kind) {
            case 'open':
              subscriber.next({ kind: 'open', attempt, status: item.status, headers: item.headers });
              break;
            case 'retry':
              serverRetryMs = item.retryMs;
              break;
            case 'stop':
              stop = true;
              break;
            case 'heartbeat':
              break;
            case 'body':
              stop = true;
              subscriber.next(item);
              break;
            case 'message': {
              const m = item.message;
              const c = cursorOf(m);
              let reused = false;
              if (c !== undefined) {
                if (custom) {
                  if (custom(c, cursor, m)) break;
                  reused = seen.has(c);
                  seen.remember(c, m);
                } else {
                  const was = seen.deliver(c, m);
                  if (was === 'replay') break;
                  reused = was === 'reused';
                }
                cursor = c;
              }
              attempt = 0;
              const out: SseItem = c === undefined ? { kind: 'message', data: m.data } : { kind: 'message', data: m.data, cursor: c };
              if (m.id !== undefined) out.id = m.id;
              if (m.event !== undefined) out.event = m.event;
              if (reused) out.cursorReused = true;
              subscriber.next(out);
              break;
            }
          }
        },
        error: (err: unknown) =>
          reconnect(err instanceof ActorlogError ? err : new ActorlogError('TRANSIENT', `${label}: ${String((err as Error)?.message ?? err)}`, { cause: err })),
        complete: () => {
          if (stop || options.reconnectOnEnd === false) subscriber.complete();
          else reconnect(undefined);
        },
      });
    };

    open();
    return () => {
      pending?.unsubscribe();
      connection?.unsubscribe();
    };
  });
}

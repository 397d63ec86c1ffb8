import { asyncScheduler, Observable, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import { request, type Dispatcher } from 'undici';
import { ActorlogError } from '../../errors.ts';
import { httpStatusError, invalidPayload, keepRaw, networkError } from '../../transport/classify.ts';
import { redactHeaders } from '../../transport/credentialHeaders.ts';
import { readBodyText } from '../../transport/readBody.ts';
import { createSseDecoder, DEFAULT_MAX_EVENT_CHARS, type SseMessage } from './parser.ts';

/** One HTTP request that opens an event stream. Headers may hold secrets: they never reach an error or an item. */
export interface SseRequest {
  url: string;
  /** @default 'GET' */
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** A request body (POST), sent as is. */
  body?: string;
}

/**
 * What one connection yields, in order: `open`, then messages / retry hints, or one `body`. The
 * `headers` of `open` and `body` are the answer's, lower-cased, with credential headers redacted
 * (`set-cookie`, `authorization`…, and the `secretHeaders` option; see {@link redactHeaders}).
 */
export type SseConnectionItem =
  /** The server answered 2xx with `text/event-stream`. */
  | { kind: 'open'; status: number; headers: Record<string, string> }
  | { kind: 'message'; message: SseMessage }
  /** A heartbeat: a comment line, or a message the caller's `isHeartbeat` recognised. Resets the stall timer only. */
  | { kind: 'heartbeat' }
  /** A `retry:` field, ms. */
  | { kind: 'retry'; retryMs: number }
  /** A 2xx answer that is not an event stream (e.g. a JSON-RPC response in JSON), read whole. */
  | { kind: 'body'; status: number; contentType: string; text: string; headers: Record<string, string> }
  /** HTTP 204: the server asks the client not to reconnect (WHATWG HTML §9.2.3). */
  | { kind: 'stop' };

/** Options of {@link openSseConnection}. */
export interface SseConnectionOptions {
  /** What the connection is, for error messages (`OpenCode /event`); never a URL with credentials. */
  label: string;
  /**
   * Abort and fail `TRANSIENT` when nothing complete arrives for this long (ms): the headers, then
   * an event, a comment (keep-alive) or a `retry:` field, or a non-stream body read whole. Bytes that
   * drip without completing one do not re-arm it. 0 disables. @default 45000
   */
  stallTimeoutMs?: number;
  /** Scheduler of the stall timer. @default asyncScheduler */
  scheduler?: SchedulerLike;
  /** undici dispatcher (pool, agent); the global one when omitted. */
  dispatcher?: Dispatcher;
  /** Bound on one buffered event, chars. @default 4 MiB */
  maxEventChars?: number;
  /** Bound on a non-stream body read whole, bytes. @default 1 MiB */
  maxBodyBytes?: number;
  /** Messages that are keep-alives (e.g. OpenCode's `server.heartbeat`): reported as `heartbeat`. */
  isHeartbeat?: (message: SseMessage) => boolean;
  /** Response headers that carry secrets, besides the credential headers always redacted in `open` / `body` items (e.g. `['x-session-token']`). */
  secretHeaders?: readonly string[];
}

function flatHeaders(headers: Record<string, string | string[] | undefined>, secretHeaders: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return redactHeaders(out, secretHeaders);
}

/**
 * One connection of the SSE source (its lifecycle, no reconnection): undici streams the response
 * body into the parser ({@link createSseDecoder}); unsubscribing aborts the request. Completes when
 * the server ends the stream. Fails with an {@link ActorlogError}, classified once by
 * src/transport/classify.ts: network errors and a stall (no byte for `stallTimeoutMs`) `TRANSIENT`;
 * HTTP 5xx/429/408 `TRANSIENT`, other 4xx `PERMANENT` (`details.status`); an event larger than
 * `maxEventChars` `INVALID_PAYLOAD`.
 *
 * @example
 * ```ts
 * openSseConnection({ url: 'http://127.0.0.1:4096/event' }, { label: 'OpenCode /event', stallTimeoutMs: 30_000 })
 *   .subscribe((item) => item.kind === 'message' && console.log(item.message.data));
 * ```
 */
export function openSseConnection(req: SseRequest, options: SseConnectionOptions): Observable<SseConnectionItem> {
  const { label } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  const stallMs = options.stallTimeoutMs ?? 45_000;
  return new Observable<SseConnectionItem>((subscriber) => {
    const abort = new AbortController();
    let stalled = false;
    let stallTimer: Subscription | undefined;
    // One timer per connection, not one per event: progress only moves `lastProgress` (read once per
    // chunk: the events of one chunk arrive together); the timer, when due, looks at how long ago
    // that was and waits the rest, or aborts.
    let lastProgress = scheduler.now();
    let progressed = false;
    const progress = () => {
      progressed = true;
    };
    const armStall = () => {
      lastProgress = scheduler.now();
      if (stallMs <= 0 || stallTimer) return;
      stallTimer = scheduler.schedule(function check(this: SchedulerAction<unknown>) {
        const idle = scheduler.now() - lastProgress;
        if (idle < stallMs) {
          this.schedule(undefined, stallMs - idle);
          return;
        }
        stalled = true;
        abort.abort();
      }, stallMs);
    };
    const fail = (err: unknown) => {
      if (subscriber.closed) return;
      if (stalled) {
        subscriber.error(
          new ActorlogError('TRANSIENT', `${label}: no data for ${stallMs} ms (stalled)`, { cause: err, details: { cause: 'stall', stallTimeoutMs: stallMs } }),
        );
      } else subscriber.error(err instanceof ActorlogError ? err : networkError(label, err));
    };
    armStall();
    (async () => {
      const headers: Record<string, string> = { accept: 'text/event-stream', 'cache-control': 'no-cache', ...req.headers };
      if (req.body !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
      let res: Dispatcher.ResponseData;
      try {
        res = await request(req.url, { method: req.method ?? 'GET', headers, body: req.body, signal: abort.signal, dispatcher: options.dispatcher });
      } catch (err) {
        throw networkError(label, err);
      }
      armStall();
      if (res.statusCode >= 400) {
        let body = '';
        try {
          body = keepRaw(await res.body.text()).slice(0, 500);
        } catch {
          /* the status says enough */
        }
        throw httpStatusError(label, res.statusCode, body ? { body } : {}, res.headers);
      }
      if (res.statusCode === 204) {
        await res.body.dump();
        subscriber.next({ kind: 'stop' });
        return;
      }
      const contentType = String(res.headers['content-type'] ?? '');
      if (!contentType.toLowerCase().startsWith('text/event-stream')) {
        const text = await readBodyText(res.body, { label, maxBytes: options.maxBodyBytes ?? 1024 * 1024 });
        subscriber.next({ kind: 'body', status: res.statusCode, contentType, text, headers: flatHeaders(res.headers, options.secretHeaders) });
        return;
      }
      subscriber.next({ kind: 'open', status: res.statusCode, headers: flatHeaders(res.headers, options.secretHeaders) });
      let overflow: ActorlogError | undefined;
      const decoder = createSseDecoder(
        {
          onMessage: (message) => {
            progress(); // progress is a complete event, not a byte: a dripping body does not re-arm the stall timer
            if (subscriber.closed) return;
            subscriber.next(options.isHeartbeat?.(message) ? { kind: 'heartbeat' } : { kind: 'message', message });
          },
          onRetry: (retryMs) => {
            progress();
            subscriber.next({ kind: 'retry', retryMs });
          },
          onComment: () => {
            progress();
            subscriber.next({ kind: 'heartbeat' });
          },
          onOverflow: (e, head) => {
            overflow = invalidPayload(label, head, `${e.message} (an event over maxEventChars ${options.maxEventChars ?? DEFAULT_MAX_EVENT_CHARS})`);
          },
        },
        { maxBufferChars: options.maxEventChars },
      );
      try {
        for await (const chunk of res.body) {
          const at = scheduler.now();
          progressed = false;
          decoder.feed(chunk as Buffer);
          if (progressed) lastProgress = at;
          if (overflow) throw overflow;
          if (subscriber.closed) return;
        }
      } catch (err) {
        throw err instanceof ActorlogError ? err : networkError(label, err);
      }
    })().then(
      () => {
        stallTimer?.unsubscribe();
        if (!subscriber.closed) subscriber.complete();
      },
      (err: unknown) => {
        stallTimer?.unsubscribe();
        if (!abort.signal.aborted || stalled) fail(err);
      },
    );
    return () => {
      stallTimer?.unsubscribe();
      abort.abort();
    };
  });
}

import type { SchedulerLike } from 'rxjs';
import type { Dispatcher } from 'undici';
import { ActorlogError, textOf } from '../../errors.ts';
import type { SseConnectionItem, SseRequest } from './connection.ts';
import type { SseMessage } from './parser.ts';
import type { SseRetryOptions } from './retryPolicy.ts';
import type { Observable } from 'rxjs';

/** Where a connection attempt resumes from. */
export interface SseResumePoint {
  /** The last cursor delivered (or the initial `cursor` option); undefined before any. */
  cursor?: string;
  /** 0 for the first connection, then the reconnection attempt (1, 2…; reset after a delivered message). */
  attempt: number;
}

/** Options of {@link sse}. Durations in ms. */
export interface SseOptions {
  /** The stream's URL, or the request for each attempt (e.g. POST first, then GET with the cursor). */
  request: string | ((resume: SseResumePoint) => SseRequest);
  /** What the stream is, for error messages. @default 'SSE' */
  label?: string;
  /** Headers sent with a `request` given as a URL. May hold secrets: they stay in this closure. */
  headers?: Record<string, string>;
  /**
   * Response headers that carry secrets: redacted in the `open` and `body` items, besides the
   * credential headers (`authorization`, `proxy-authorization`, `cookie`, `set-cookie`) always are.
   */
  secretHeaders?: readonly string[];
  /** Resume point to start from (a logged cursor, after recovery). */
  cursor?: string;
  /**
   * How a cursor is sent back: `last-event-id` adds the `Last-Event-ID` header (WHATWG HTML §9.2.4);
   * `request` leaves it to the `request` function (a protocol cursor such as `?after=SEQ`).
   * @default 'last-event-id'
   */
  resume?: 'last-event-id' | 'request';
  /** The cursor a message carries. @default the message's `id` field */
  cursorOf?: (message: SseMessage) => string | undefined;
  /**
   * True when a message with cursor `next` was already delivered, given the last cursor and the
   * message. The default remembers the last 1024 cursors of this subscription that were increasing
   * integers and the last 1024 others (and the initial one), with a fingerprint of their `event` and
   * `data` (src/sources/sse/seenCursors.ts): a cursor seen with the same content is a replay
   * (dropped), one seen with other content is a reused id (delivered, `cursorReused`).
   */
  isDuplicate?: (next: string, last: string | undefined, message: SseMessage) => boolean;
  /** Keep-alive messages (reset the stall timer, are not delivered). Comment lines always are. */
  isHeartbeat?: (message: SseMessage) => boolean;
  /** Reconnect when the server ends the stream cleanly (EventSource behaviour). @default true */
  reconnectOnEnd?: boolean;
  /** No byte for this long fails the connection (TRANSIENT, reconnected); 0 disables. @default 45000 */
  stallTimeoutMs?: number;
  retry?: SseRetryOptions;
  /** Scheduler of the backoff and stall timers (tests pass a VirtualTimeScheduler). @default asyncScheduler */
  scheduler?: SchedulerLike;
  dispatcher?: Dispatcher;
  /** Bound on one event, chars. @default 4 MiB */
  maxEventChars?: number;
  /** Opens one connection: the undici lifecycle by default; tests inject fakes. */
  connect?: (request: SseRequest) => Observable<SseConnectionItem>;
}

const nonNegative = (name: string, v: unknown) => {
  if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
    throw new ActorlogError('INVALID_OPTIONS', `sse: ${name} must be a non-negative number of ms (got ${textOf(v)})`, { details: { option: name } });
  }
};

/**
 * Checks {@link SseOptions} before any I/O.
 * @throws ActorlogError `INVALID_OPTIONS` naming the option
 */
export function validateSseOptions(options: SseOptions): void {
  const r = options?.request;
  if (typeof r === 'string') {
    let url: URL;
    try {
      url = new URL(r);
    } catch {
      throw new ActorlogError('INVALID_OPTIONS', 'sse: request must be an absolute http(s) URL or a function', { details: { option: 'request' } });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ActorlogError('INVALID_OPTIONS', `sse: unsupported protocol ${url.protocol}`, { details: { option: 'request' } });
    }
  } else if (typeof r !== 'function') {
    throw new ActorlogError('INVALID_OPTIONS', 'sse: request must be an absolute http(s) URL or a function', { details: { option: 'request' } });
  }
  if (options.resume !== undefined && options.resume !== 'last-event-id' && options.resume !== 'request') {
    throw new ActorlogError('INVALID_OPTIONS', `sse: resume must be 'last-event-id' or 'request'`, { details: { option: 'resume' } });
  }
  nonNegative('stallTimeoutMs', options.stallTimeoutMs);
  nonNegative('retry.baseMs', options.retry?.baseMs);
  nonNegative('retry.capMs', options.retry?.capMs);
  const max = options.retry?.maxAttempts;
  if (max !== undefined && (!Number.isInteger(max) || max < 0)) {
    throw new ActorlogError('INVALID_OPTIONS', `sse: retry.maxAttempts must be a whole number (got ${String(max)})`, {
      details: { option: 'retry.maxAttempts' },
    });
  }
}

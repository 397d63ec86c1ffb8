import { asyncScheduler, type Observable, type SchedulerLike } from 'rxjs';
import WebSocket from 'ws';
import { ActorlogError } from '../../errors.ts';
import { resolveRetryOptions, type RetryOptions } from '../../transport/backoff.ts';
import { scrubCredentials } from '../../transport/scrubCredentials.ts';
import type { CloseKind } from './retry.ts';

/** A message the source sends: a string goes as a text frame, bytes as a binary frame. */
export type WebSocketOutgoing = string | Uint8Array;

/** Where a connection resumes from, as `onOpen` is told. */
export interface WebSocketResumePoint {
  /** The last cursor a frame carried (`cursorOf`), or the `cursor` option; undefined: from the start. */
  cursor?: string;
  /** 0 for the first connection, then the reconnect attempt (1, 2, …). */
  attempt: number;
}

/**
 * How {@link webSocket} reconnects after a transient close or error: the shared {@link RetryOptions}
 * (`baseMs` 500, seed 004 `RECONNECT_DELAY`; `capMs` 60000; `jitter` 0.2) and the rules below. Durations in ms.
 */
export interface ReconnectOptions extends RetryOptions {
  /**
   * Reconnects tried in a row before the source fails. The count starts again after a connection
   * that delivered a frame; a connection that opens and closes before delivering anything (a
   * rejected login) counts as a failed attempt, so the bound holds even when every connect succeeds.
   * 0: never reconnect (the caller, e.g. the connection machine, reconnects itself).
   * @default 3 (seed 004 `MAX_RECONNECT_ATTEMPTS`)
   */
  maxAttempts?: number;
  /** Reconnect also after a normal close (1000). @default false: a normal close completes the source */
  onNormalClose?: boolean;
  /**
   * Classifies a close code for the protocol spoken (e.g. a graphql-ws server's 4400 Bad Request
   * or 4409 duplicate subscriber as `permanent`); return undefined to keep the default
   * classification: 1000 `normal`; 1002, 1003, 1007-1010, 3000, 3003, 4401, 4403 `permanent`;
   * everything else, 1011-1013 included, `transient`.
   */
  classifyClose?: (code: number, reason: string) => CloseKind | undefined;
}

/** Options of {@link webSocket}. Durations in ms, sizes in bytes. */
export interface WebSocketSourceOptions {
  /**
   * Where to resume: sent as `?<cursorParam>=<cursor>` on the first connect (URL mode), and given
   * to `onOpen` (message mode).
   */
  cursor?: string;
  /**
   * The query parameter that carries the cursor. @default 'cursor'; with `onOpen` and without this
   * option, the URL carries no cursor (the messages do)
   */
  cursorParam?: string;
  /** Builds the URL of each (re)connect from the current cursor; replaces `cursorParam`. */
  urlFor?: (cursor: string | undefined) => string;
  /**
   * The cursor a text frame carries, if any (e.g. parse it and read `envelope.cursor`). A reconnect
   * resumes from the last one seen. Return undefined for frames without one. Must not throw.
   */
  cursorOf?: (text: string) => string | undefined;
  /**
   * Messages to send each time a connection opens, before anything from `outgoing`, built from the
   * resume point: a protocol that resumes by message rather than by URL (graphql-ws: a
   * `connection_init`, then a `subscribe` whose variables carry the cursor). May carry secrets
   * (a token in `connection_init`): they are sent, never emitted or logged. Must not throw (a
   * throw fails the source with `PERMANENT`).
   */
  onOpen?: (resume: WebSocketResumePoint) => Iterable<WebSocketOutgoing> | undefined;
  /**
   * Messages to send later (commands), e.g. an RxJS Subject the machine's callback actor feeds:
   * each is sent at once while a connection is open; between connections it waits, in order, and
   * goes after the next connection's `onOpen` messages. A message is sent at most once (one that
   * was sent as the connection dropped is not sent again). Subscribed for the life of the source;
   * its error fails the source.
   */
  outgoing?: Observable<WebSocketOutgoing>;
  /** Messages from `outgoing` kept while no connection is open; one more fails the source (`PERMANENT`). @default 1000 */
  maxQueuedSends?: number;
  /** Request headers of the handshake (may carry secrets: they stay in this closure). */
  headers?: Record<string, string>;
  /** Subprotocols to offer. */
  protocols?: string[];
  /** Send a ping this often once open; 0: no pings. @default 15000 */
  pingIntervalMs?: number;
  /**
   * Close (code 1006, reason `stalled`) when no frame, ping or pong arrived for this long; 0: never.
   * Checked every `pingIntervalMs` (or every stallTimeoutMs / 2 without pings). @default 45000
   */
  stallTimeoutMs?: number;
  /** The opening handshake must finish within this. @default 10000 */
  handshakeTimeoutMs?: number;
  /**
   * Largest message `ws` takes in, bytes. A larger one is not read: `ws` closes the connection
   * (the source then emits `invalid` with reason `too-large`, then `close` with code 1006, and
   * reconnects). Bound the payloads you parse lower, with `parseJsonFrame`'s limits, to record
   * them as `*.invalid` instead. @default 16777216 (16 MiB)
   */
  maxPayloadBytes?: number;
  reconnect?: ReconnectOptions;
  /** Timers (pings, stall checks, reconnect delays). Tests pass a VirtualTimeScheduler. @default asyncScheduler */
  scheduler?: SchedulerLike;
  /** The WebSocket class (the `ws` package's, or a subclass). @default ws's WebSocket */
  WebSocket?: typeof WebSocket;
}

/** {@link WebSocketSourceOptions} with every default applied. */
export interface ResolvedWebSocketOptions {
  cursor?: string;
  urlFor: (cursor: string | undefined) => string;
  cursorOf?: (text: string) => string | undefined;
  onOpen?: (resume: WebSocketResumePoint) => Iterable<WebSocketOutgoing> | undefined;
  outgoing?: Observable<WebSocketOutgoing>;
  maxQueuedSends: number;
  headers?: Record<string, string>;
  protocols?: string[];
  pingIntervalMs: number;
  stallTimeoutMs: number;
  handshakeTimeoutMs: number;
  maxPayloadBytes: number;
  reconnect: Required<Omit<ReconnectOptions, 'classifyClose'>> & Pick<ReconnectOptions, 'classifyClose'>;
  scheduler: SchedulerLike;
  WebSocket: typeof WebSocket;
}

const nonNegative = (name: string, value: number | undefined, fallback: number): number => {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0)
    throw new ActorlogError('INVALID_OPTIONS', `webSocket: ${name} must be a finite number >= 0 (got ${value})`, { details: { option: name } });
  return v;
};

/**
 * Checks the URL and options and applies the defaults.
 * @throws ActorlogError `INVALID_OPTIONS` for a URL that is not ws:// or wss://, or a negative duration
 */
export function resolveWebSocketOptions(url: string, options: WebSocketSourceOptions = {}): ResolvedWebSocketOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ActorlogError('INVALID_OPTIONS', `webSocket: not a URL: ${scrubCredentials(JSON.stringify(url))}`, { details: { option: 'url' } });
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new ActorlogError('INVALID_OPTIONS', `webSocket: the URL must start with ws:// or wss:// (got ${parsed.protocol}//)`, { details: { option: 'url' } });
  }
  const param = options.cursorParam ?? (options.onOpen ? undefined : 'cursor');
  const urlFor =
    options.urlFor ??
    ((cursor: string | undefined) => {
      if (cursor === undefined || param === undefined) return url;
      const u = new URL(url);
      u.searchParams.set(param, cursor);
      return u.toString();
    });
  const r = options.reconnect ?? {};
  const pingIntervalMs = nonNegative('pingIntervalMs', options.pingIntervalMs, 15_000);
  return {
    cursor: options.cursor,
    urlFor,
    cursorOf: options.cursorOf,
    onOpen: options.onOpen,
    outgoing: options.outgoing,
    maxQueuedSends: nonNegative('maxQueuedSends', options.maxQueuedSends, 1000),
    headers: options.headers,
    protocols: options.protocols,
    pingIntervalMs,
    stallTimeoutMs: nonNegative('stallTimeoutMs', options.stallTimeoutMs, 45_000),
    handshakeTimeoutMs: nonNegative('handshakeTimeoutMs', options.handshakeTimeoutMs, 10_000),
    maxPayloadBytes: nonNegative('maxPayloadBytes', options.maxPayloadBytes, 16 * 1024 * 1024),
    reconnect: {
      maxAttempts: nonNegative('reconnect.maxAttempts', r.maxAttempts, 3),
      ...resolveRetryOptions(r, 'webSocket reconnect'),
      onNormalClose: r.onNormalClose ?? false,
      classifyClose: r.classifyClose,
    },
    scheduler: options.scheduler ?? asyncScheduler,
    WebSocket: options.WebSocket ?? WebSocket,
  };
}

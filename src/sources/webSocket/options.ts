import { asyncScheduler, type SchedulerLike } from 'rxjs';
import WebSocket from 'ws';
import { ActorlogError } from '../../errors.ts';
import { scrubCredentials } from '../../transport/scrubCredentials.ts';

/** How {@link webSocket} reconnects after a transient close or error. Durations in ms. */
export interface ReconnectOptions {
  /**
   * Reconnects tried in a row (counted from the last successful open) before the source fails.
   * 0: never reconnect (the caller, e.g. the connection machine, reconnects itself).
   * @default 3 (seed 004 `MAX_RECONNECT_ATTEMPTS`)
   */
  maxAttempts?: number;
  /** The first delay. @default 500 (seed 004 `RECONNECT_DELAY`) */
  baseMs?: number;
  /** The largest delay. @default 60000 (seed 003: "exponential backoff (cap 60s)") */
  capMs?: number;
  /** Up to this fraction of a delay is added at random. @default 0.2 */
  jitter?: number;
  /** Random source in [0, 1) for the jitter. @default Math.random */
  random?: () => number;
  /** Reconnect also after a normal close (1000). @default false: a normal close completes the source */
  onNormalClose?: boolean;
}

/** Options of {@link webSocket}. Durations in ms, sizes in bytes. */
export interface WebSocketSourceOptions {
  /** Where to resume: sent as `?<cursorParam>=<cursor>` on the first connect. */
  cursor?: string;
  /** The query parameter that carries the cursor. @default 'cursor' */
  cursorParam?: string;
  /** Builds the URL of each (re)connect from the current cursor; replaces `cursorParam`. */
  urlFor?: (cursor: string | undefined) => string;
  /**
   * The cursor a text frame carries, if any (e.g. parse it and read `envelope.cursor`). A reconnect
   * resumes from the last one seen. Return undefined for frames without one. Must not throw.
   */
  cursorOf?: (text: string) => string | undefined;
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
  /** Largest accepted message. @default 16777216 (16 MiB) */
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
  headers?: Record<string, string>;
  protocols?: string[];
  pingIntervalMs: number;
  stallTimeoutMs: number;
  handshakeTimeoutMs: number;
  maxPayloadBytes: number;
  reconnect: Required<ReconnectOptions>;
  scheduler: SchedulerLike;
  WebSocket: typeof WebSocket;
}

const nonNegative = (name: string, value: number | undefined, fallback: number): number => {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0) throw new ActorlogError('INVALID_OPTIONS', `webSocket: ${name} must be a finite number >= 0 (got ${value})`, { details: { option: name } });
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
  const param = options.cursorParam ?? 'cursor';
  const urlFor = options.urlFor ?? ((cursor: string | undefined) => {
    if (cursor === undefined) return url;
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
    headers: options.headers,
    protocols: options.protocols,
    pingIntervalMs,
    stallTimeoutMs: nonNegative('stallTimeoutMs', options.stallTimeoutMs, 45_000),
    handshakeTimeoutMs: nonNegative('handshakeTimeoutMs', options.handshakeTimeoutMs, 10_000),
    maxPayloadBytes: nonNegative('maxPayloadBytes', options.maxPayloadBytes, 16 * 1024 * 1024),
    reconnect: {
      maxAttempts: nonNegative('reconnect.maxAttempts', r.maxAttempts, 3),
      baseMs: nonNegative('reconnect.baseMs', r.baseMs, 500),
      capMs: nonNegative('reconnect.capMs', r.capMs, 60_000),
      jitter: nonNegative('reconnect.jitter', r.jitter, 0.2),
      random: r.random ?? Math.random,
      onNormalClose: r.onNormalClose ?? false,
    },
    scheduler: options.scheduler ?? asyncScheduler,
    WebSocket: options.WebSocket ?? WebSocket,
  };
}

import type { Dispatcher } from 'undici';
import type { WebSocketSourceOptions } from '../../src/sources/webSocket/options.ts';
import type { JsonLimits } from '../../src/transport/boundedJson.ts';
import type { Backend } from '../connection/actors.ts';
import type { ConnectionInput, DeliverMode } from '../connection/context.ts';
import type { YoiEvent } from './schemas.ts';
import { SEQ_FLOOR } from './observation.ts';
import { displayLabel, validateYoiTarget, type YoiTarget } from './target.ts';

/** What an `onEvent` handler receives for each delivered event or diagnostic. */
export interface YoiDelivery {
  /** The envelope cursor (`transcript:<n>` for events seeded from the transcript, `diagnostic:<n>` for a diagnostic). */
  id: string;
  cursor?: string;
  /** The cursor's sequence, exact (a u64). */
  seq?: bigint;
  /** Set for a diagnostic (its code); `event` is then `{ type: 'error', code: 'internal', message }`, seed 004's `diagnostic_event`. */
  diagnostic?: string;
  event: YoiEvent;
}

/** Options of the yoi binding's actors (kept in a closure, never logged). */
export interface YoiBindingOptions {
  /** Request headers of every call and of the WebSocket handshake (may carry secrets). */
  headers?: Record<string, string>;
  dispatcher?: Dispatcher;
  /**
   * The observation WebSocket: pings, stall timeout, scheduler, WebSocket class. Reconnects are
   * made by the connection machine (so each one is in the log), not by the source.
   */
  webSocket?: Pick<WebSocketSourceOptions, 'pingIntervalMs' | 'stallTimeoutMs' | 'handshakeTimeoutMs' | 'maxPayloadBytes' | 'scheduler' | 'WebSocket'> & {
    /**
     * Which closes are permanent (the observation stops, no reconnect) or transient (reconnect):
     * return undefined to keep the source's classification (1008, 3000, 3003, 4401, 4403…: permanent).
     */
    classifyClose?: NonNullable<WebSocketSourceOptions['reconnect']>['classifyClose'];
  };
  /**
   * The overall deadline of a command, ms. @default none: as seed 004's client, a command waits for
   * its answer. One that outlasts a deadline has an unknown outcome (diagnostic `<op>.outcome_unknown`).
   */
  commandTimeoutMs?: number;
  /**
   * The backend honours `Idempotency-Key` (it runs a command once per key): a command whose answer
   * was lost is then sent again with the same key. @default false: seed 004's client sends no key,
   * so its backend need not read one, and a command whose outcome is unknown is never re-sent
   */
  idempotentCommands?: boolean;
  /** The overall deadline of the transcript GET, ms. @default 30000 (then the observation starts without it, as after a failed load) */
  transcriptTimeoutMs?: number;
  /** The largest HTTP answer read (the transcript, a command's result), bytes. @default 67108864 (64 MiB) */
  maxBodyBytes?: number;
  /** Bounds of an observation frame's JSON; a frame over them is recorded as `connection.invalid`. @default 1 MiB, 64 levels deep */
  json?: JsonLimits;
  /**
   * Each observed event and each diagnostic, in order, exactly once (connections with `deliver:
   * 'dispatch'`), as seed 004's event stream carries both: an async function or an XState actor
   * logic (input `{ message, idempotencyKey }`). A failure is retried with capped backoff, never skipped.
   */
  onEvent?: Backend<YoiDelivery, unknown>;
}

/** One observed worker: what goes into the connection's input (logged). Durations in ms. */
export interface YoiConnectionOptions extends YoiTarget {
  /** The stream id. @default `yoi-<runtimeId>-<workerId>` */
  connectionId?: string;
  /** `record` (default): events are logged and counted; `dispatch`: also handed to `onEvent`. */
  deliver?: DeliverMode;
  /** Reconnects in a row before the observation stops (commands go on). @default 3 (seed 004 `MAX_RECONNECT_ATTEMPTS`) */
  maxReconnects?: number;
  /** First reconnect delay; doubles per attempt, capped at 60 s. @default 500 (seed 004 `RECONNECT_DELAY`) */
  retryDelayMs?: number;
  /** Attempts of a command whose request certainly had no effect (refused connection, 503, 429, 408). @default 5 */
  maxCommandAttempts?: number;
}

/**
 * The connection machine's input for one observed worker, checked before any I/O (seed 004
 * `validate_target`): stream receive, no heartbeat (the WebSocket's pings keep it alive); losing
 * the observation stops only the observation (`onReceiveLost: 'stop'`, diagnostic "Backend
 * observation stream for r:w stopped after N reconnect attempts"); sequences must be above 0;
 * diagnostics are delivered to `onEvent` with the events.
 * @throws ActorlogError `INVALID_OPTIONS` with the seed's messages
 * @example
 * ```ts
 * system.spawn('yoi', { id: 'yoi-r1-w1', input: yoiConnectionInput({ baseUrl: 'http://127.0.0.1:8787', runtimeId: 'r1', workerId: 'w1' }) });
 * ```
 */
export function yoiConnectionInput(options: YoiConnectionOptions): ConnectionInput {
  const target = validateYoiTarget(options);
  return {
    connectionId: options.connectionId ?? `yoi-${target.runtimeId}-${target.workerId}`,
    target: { ...target },
    receiveMode: 'stream',
    deliver: options.deliver ?? 'record',
    heartbeatIntervalMs: 0,
    maxReconnects: options.maxReconnects ?? 3,
    retryDelayMs: options.retryDelayMs ?? 500,
    onReceiveLost: 'stop',
    receiveLabel: `Backend observation stream for ${displayLabel(target)}`,
    seqFloor: SEQ_FLOOR,
    // the ids of recent events, to tell an old frame re-sent from a stream that went back (seqOrder)
    dedupeWindow: 64,
    deliverDiagnostics: true,
    ...(options.maxCommandAttempts === undefined ? {} : { maxCommandAttempts: options.maxCommandAttempts }),
  };
}

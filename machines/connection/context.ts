import type { ErrorInfo } from '../../src/errors.ts';
import { backoffDelay } from '../../src/transport/backoff.ts';
import type { ConnectionMessage, ConnectionTarget, Diagnostic, Registration } from './events.ts';

/**
 * How the receive source delivers: `stream` runs until the connection drops (a WebSocket: its end
 * means reconnect); `batch` answers one batch and completes (a poll: the next poll starts once the
 * batch is dispatched).
 */
export type ReceiveMode = 'stream' | 'batch';
/** `dispatch`: each message goes to the `dispatch` actor, in order, exactly once; `record`: messages are only logged. */
export type DeliverMode = 'dispatch' | 'record';

/** Input of the connection machine. Durations in ms. */
export interface ConnectionInput {
  /** The connection's id: its stream id, and the root of its idempotency keys. */
  connectionId: string;
  /** The remote end, JSON, handed to every actor (no secrets: they stay in the binding's closure). */
  target?: ConnectionTarget;
  /** @default 'stream' */
  receiveMode?: ReceiveMode;
  /** @default 'dispatch' */
  deliver?: DeliverMode;
  /** Beat this often while online; 0: no heartbeat. @default 30000 (seed 003) */
  heartbeatIntervalMs?: number;
  /** First retry delay; doubles per attempt, capped at `maxRetryDelayMs`. @default 500 */
  retryDelayMs?: number;
  /** @default 60000 (seed 003: "exponential backoff (cap 60s)") */
  maxRetryDelayMs?: number;
  /** Register attempts before a transient failure fails the connection. @default 5 */
  maxRegisterAttempts?: number;
  /** Reconnects in a row (without a `connection.opened` or message between) before it fails. @default 3 (seed 004) */
  maxReconnects?: number;
  /** Dispatch attempts of one message before it is given up (recorded, cursor passes it). @default 3 */
  maxDispatchAttempts?: number;
  /** Reply attempts (transient failures) before a reply is given up. @default 5 */
  maxReplyAttempts?: number;
  /** Ids of recently delivered messages remembered to drop re-deliveries. @default 500 */
  dedupeWindow?: number;
}

/** Counters, for people and tests. */
export interface ConnectionCounts {
  received: number;
  dispatched: number;
  duplicates: number;
  skipped: number;
  invalid: number;
  replies: number;
  notReplied: number;
  dispatchFailures: number;
  replyFailures: number;
  heartbeats: number;
  commands: number;
  cursorResets: number;
  retries: number;
  diagnostics: number;
}

/** The connection machine's context, JSON-safe (it is replayed from the log). */
export interface ConnectionContext {
  connectionId: string;
  target: ConnectionTarget;
  receiveMode: ReceiveMode;
  deliver: DeliverMode;
  heartbeatIntervalMs: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  maxRegisterAttempts: number;
  maxReconnects: number;
  maxDispatchAttempts: number;
  maxReplyAttempts: number;
  dedupeWindow: number;
  registration?: Registration;
  /** The kind of message to skip once (from the registration). */
  skipKind?: string;
  /** Where the receive source resumes: the last dispatched message's cursor (batch + dispatch), else the last received. */
  cursor?: string;
  /** The highest sequence number received since the last cursor reset. */
  lastSeq?: number;
  /** Messages received and not yet dispatched, in order; the head is the one being dispatched. */
  queue: ConnectionMessage[];
  /** Ids of the last `dedupeWindow` messages delivered, oldest first. */
  seen: string[];
  /** The reply to send before the next dispatch. */
  pendingReply?: { messageId: string; to: string; body: unknown };
  /** Commands waiting for the `command` actor, in order. */
  commands: unknown[];
  registerAttempts: number;
  reconnects: number;
  heartbeatFailures: number;
  dispatchAttempts: number;
  replyAttempts: number;
  /** Set when the heartbeat failed permanently: it stays stopped, the rest goes on (seed 003). */
  heartbeatStopped?: ErrorInfo;
  lastClose?: { code: number; reason: string };
  /** The last 20 diagnostics, oldest first. */
  diagnostics: Diagnostic[];
  counts: ConnectionCounts;
  lastError?: ErrorInfo;
  /** Why the connection ended (`failed` or `offline`). */
  reason?: string;
}

const MAX_DIAGNOSTICS = 20;

/** The context for an input, with defaults applied. */
export function initialConnectionContext(input: ConnectionInput): ConnectionContext {
  return {
    connectionId: input.connectionId,
    target: input.target ?? {},
    receiveMode: input.receiveMode ?? 'stream',
    deliver: input.deliver ?? 'dispatch',
    heartbeatIntervalMs: input.heartbeatIntervalMs ?? 30_000,
    retryDelayMs: input.retryDelayMs ?? 500,
    maxRetryDelayMs: input.maxRetryDelayMs ?? 60_000,
    maxRegisterAttempts: input.maxRegisterAttempts ?? 5,
    maxReconnects: input.maxReconnects ?? 3,
    maxDispatchAttempts: input.maxDispatchAttempts ?? 3,
    maxReplyAttempts: input.maxReplyAttempts ?? 5,
    dedupeWindow: input.dedupeWindow ?? 500,
    queue: [],
    seen: [],
    commands: [],
    registerAttempts: 0,
    reconnects: 0,
    heartbeatFailures: 0,
    dispatchAttempts: 0,
    replyAttempts: 0,
    diagnostics: [],
    counts: {
      received: 0, dispatched: 0, duplicates: 0, skipped: 0, invalid: 0, replies: 0, notReplied: 0, dispatchFailures: 0,
      replyFailures: 0, heartbeats: 0, commands: 0, cursorResets: 0, retries: 0, diagnostics: 0,
    },
  };
}

/** Retry delay for attempt n (1-based): `retryDelayMs · 2^(n-1)` capped at `maxRetryDelayMs`, with a jitter derived from the connection id and n, so replay re-arms the same delay. */
export function backoffMs(context: Pick<ConnectionContext, 'connectionId' | 'retryDelayMs' | 'maxRetryDelayMs'>, attempt: number): number {
  let h = attempt;
  for (let i = 0; i < context.connectionId.length; i++) h = (h * 31 + context.connectionId.charCodeAt(i)) >>> 0;
  return backoffDelay(Math.max(1, attempt), { baseMs: context.retryDelayMs, capMs: context.maxRetryDelayMs, random: () => (h % 1000) / 1000 });
}

/** The cursor moves when a message is received (stream or record), or only when it is dispatched (batch + dispatch). */
export function advancesOnReceipt(context: Pick<ConnectionContext, 'receiveMode' | 'deliver'>): boolean {
  return context.receiveMode === 'stream' || context.deliver === 'record';
}

/** True when `message` was already received: its `seq` is not above the last one, or (without seq) its id was seen or is queued. */
export function isDuplicate(context: ConnectionContext, message: ConnectionMessage): boolean {
  if (message.seq !== undefined) return context.lastSeq !== undefined && message.seq <= context.lastSeq;
  return context.seen.includes(message.id) || context.queue.some((m) => m.id === message.id);
}

/** `list` with `id` appended, keeping the last `max` ids. */
export function remember(list: string[], id: string, max: number): string[] {
  const next = [...list, id];
  return next.length > max ? next.slice(next.length - max) : next;
}

/** Context changes for a new (not duplicate) message: counted, sequence and cursor kept, queued for dispatch or remembered. */
export function receive(context: ConnectionContext, message: ConnectionMessage, skip: boolean): Partial<ConnectionContext> {
  const out: Partial<ConnectionContext> = {
    counts: { ...context.counts, received: context.counts.received + 1, skipped: context.counts.skipped + (skip ? 1 : 0) },
    reconnects: 0,
  };
  if (message.seq !== undefined) out.lastSeq = message.seq;
  if (advancesOnReceipt(context) && message.cursor !== undefined) out.cursor = message.cursor;
  if (skip) out.skipKind = undefined;
  else if (context.deliver === 'dispatch') out.queue = [...context.queue, message];
  if (skip || (context.deliver === 'record' && message.seq === undefined)) out.seen = remember(context.seen, message.id, context.dedupeWindow);
  return out;
}

/**
 * Context changes when the head message is done with: dispatched (with the backend's reply), given
 * up after failures, or skipped as invalid. It leaves the queue, its id is remembered, and (batch +
 * dispatch) the cursor moves to it. A reply is kept for the `reply` actor when the message has a
 * `replyTo`; a reply for a message without one (seed 003: canvas origin) is not sent, and noted.
 */
export function completeHead(context: ConnectionContext, outcome: { dispatched: true; reply?: unknown } | { dispatched: false; error?: ErrorInfo }): Partial<ConnectionContext> {
  const head = context.queue[0];
  if (!head) return {};
  const counts = { ...context.counts };
  const out: Partial<ConnectionContext> = { queue: context.queue.slice(1), seen: remember(context.seen, head.id, context.dedupeWindow), dispatchAttempts: 0 };
  if (!advancesOnReceipt(context) && head.cursor !== undefined) out.cursor = head.cursor;
  let diagnostic: Diagnostic | undefined;
  if (outcome.dispatched) {
    counts.dispatched += 1;
    const hasReply = outcome.reply !== undefined && outcome.reply !== null;
    if (hasReply && head.replyTo !== undefined) out.pendingReply = { messageId: head.id, to: head.replyTo, body: outcome.reply };
    else if (hasReply) {
      counts.notReplied += 1;
      diagnostic = { code: 'reply.no_source', message: `message ${head.id} has no source to reply to (canvas origin): reply not sent` };
    }
  } else if (head.invalid) {
    counts.skipped += 1;
  } else {
    counts.dispatchFailures += 1;
    diagnostic = { code: 'dispatch.failed', message: `message ${head.id} given up after ${context.dispatchAttempts} attempts: ${outcome.error?.message ?? 'unknown error'}` };
  }
  out.counts = counts;
  return diagnostic ? { ...out, ...addDiagnostic({ ...context, counts }, diagnostic) } : out;
}

/** Context changes adding a diagnostic (the last 20 kept). */
export function addDiagnostic(context: Pick<ConnectionContext, 'diagnostics' | 'counts'>, diagnostic: Diagnostic): Pick<ConnectionContext, 'diagnostics' | 'counts'> {
  const diagnostics = [...context.diagnostics, { code: diagnostic.code, message: diagnostic.message }];
  return {
    diagnostics: diagnostics.length > MAX_DIAGNOSTICS ? diagnostics.slice(diagnostics.length - MAX_DIAGNOSTICS) : diagnostics,
    counts: { ...context.counts, diagnostics: context.counts.diagnostics + 1 },
  };
}

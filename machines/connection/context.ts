import type { ErrorInfo } from '../../src/errors.ts';
import { DEFAULT_RETRY, seededBackoffDelay } from '../../src/transport/backoff.ts';
import { retryAfterMsOf } from '../../src/transport/retryAfter.ts';
import type { ConnectionMessage, ConnectionTarget, Diagnostic, Registration } from './events.ts';

/**
 * How the receive source delivers: `stream` runs until the connection drops (a WebSocket: its end
 * means reconnect); `batch` answers one batch and completes (a poll: the next poll starts once the
 * batch is dispatched).
 */
export type ReceiveMode = 'stream' | 'batch';
/** `dispatch`: each message goes to the `dispatch` actor, in order, exactly once; `record`: messages are only logged. */
export type DeliverMode = 'dispatch' | 'record';

/**
 * What the machine does when the receive source is lost for good: `fail` (seed 003) ends the
 * connection `failed` on a permanent error or once the reconnects are used up; `stop` (seed 004)
 * stops only the receive region (diagnostic `receive.stopped`): heartbeat, dispatch and commands
 * go on. Either way a transient loss is retried up to `maxReconnects` in a row, and a permanent one
 * (the binding's classification: yoi takes a refused connect as transient, as seed 004 retries it,
 * and a close code such as 4403 as permanent) is never retried.
 */
export type ReceiveLossPolicy = 'fail' | 'stop';

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
  /** Register attempts before a transient failure fails the connection. @default 5 (seed 003: "register-with-bounded-retry") */
  maxRegisterAttempts?: number;
  /** Reconnects in a row (without a `connection.opened` or message between); `null`: no bound. @default 3 (seed 004) */
  maxReconnects?: number | null;
  /** @default 'fail' */
  onReceiveLost?: ReceiveLossPolicy;
  /** Names the receive source in the `receive.stopped` diagnostic. @default 'receive' */
  receiveLabel?: string;
  /**
   * Opt-in poison-message policy: after this many failed dispatch attempts of one message, it is
   * parked (a `message.parked` event is logged, the cursor passes it). Omitted: a failing message
   * stays at the cursor and is retried with capped backoff for ever (seed 003: never dropped).
   */
  parkAfterAttempts?: number;
  /**
   * Opt-in bound on reply attempts: after this many transient failures a reply is given up
   * (diagnostic `reply.failed`). Omitted or `null`: a reply is retried with capped backoff for as
   * long as the connection lives (seed 003's transient rule: network and 5xx are retried, only a
   * permanent 4xx ends it); the pending reply is context, so it survives a crash and is sent after
   * recovery. @default null (never given up)
   */
  maxReplyAttempts?: number | null;
  /** Command attempts (transient failures, same idempotency key) before the command is reported failed. @default 5 */
  maxCommandAttempts?: number;
  /** Ids of recently delivered messages remembered to drop re-deliveries. @default 500 */
  dedupeWindow?: number;
  /**
   * A sequence every message must be above (seed 004: `last_sequence` starts at 0, so a sequence-0
   * event is dropped); the floor again after a cursor reset. Omitted: no floor.
   */
  seqFloor?: Seq;
  /** Queue every diagnostic as a message for the `dispatch` actor too (seed 004: diagnostics are events of the consumer's stream). @default false */
  deliverDiagnostics?: boolean;
}

/** A sequence number: a number, or a non-negative integer in hex digits (compared exactly, any size). */
export type Seq = number | string;

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
  parked: number;
  replyFailures: number;
  heartbeats: number;
  commands: number;
  commandFailures: number;
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
  maxReconnects: number | null;
  onReceiveLost: ReceiveLossPolicy;
  receiveLabel: string;
  parkAfterAttempts: number | null;
  maxReplyAttempts: number | null;
  maxCommandAttempts: number;
  dedupeWindow: number;
  seqFloor: Seq | null;
  deliverDiagnostics: boolean;
  registration?: Registration;
  /** The kind of message to skip once (from the registration). */
  skipKind?: string;
  /** Where the receive source resumes: the last dispatched message's cursor (batch + dispatch), else the last received. */
  cursor?: string;
  /** The last sequence number taken (the highest, unless the stream went back: see {@link seqOrder}), since the last cursor reset. */
  lastSeq?: Seq;
  /**
   * The sequence taken last on the current connection of the receive source (cleared by
   * `connection.opened`): a message below it, on the same connection, shows the stream went back.
   */
  streamSeq?: Seq;
  /** Messages received and not yet dispatched, in order; the head is the one being dispatched. */
  queue: ConnectionMessage[];
  /** Ids (and `key:` dedupe keys) of the last `dedupeWindow` messages delivered, oldest first. */
  seen: string[];
  /** The reply to send before the next dispatch: state, so a crash never loses it (recovery sends it, the backend is not run again). */
  pendingReply?: { messageId: string; to: string; body: unknown };
  /** Commands waiting for the `command` actor, in order. */
  commands: unknown[];
  registerAttempts: number;
  reconnects: number;
  heartbeatFailures: number;
  dispatchAttempts: number;
  replyAttempts: number;
  commandAttempts: number;
  /** Set when the heartbeat failed permanently: it stays stopped, the rest goes on (seed 003). */
  heartbeatStopped?: ErrorInfo;
  /** Set when the receive region stopped (`onReceiveLost: 'stop'`): why. */
  receiveStopped?: string;
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
    retryDelayMs: input.retryDelayMs ?? DEFAULT_RETRY.baseMs,
    maxRetryDelayMs: input.maxRetryDelayMs ?? DEFAULT_RETRY.capMs,
    maxRegisterAttempts: input.maxRegisterAttempts ?? 5,
    maxReconnects: input.maxReconnects === undefined ? 3 : input.maxReconnects,
    onReceiveLost: input.onReceiveLost ?? 'fail',
    receiveLabel: input.receiveLabel ?? 'receive',
    parkAfterAttempts: input.parkAfterAttempts ?? null,
    maxReplyAttempts: input.maxReplyAttempts ?? null,
    maxCommandAttempts: input.maxCommandAttempts ?? 5,
    dedupeWindow: input.dedupeWindow ?? 500,
    seqFloor: input.seqFloor ?? null,
    deliverDiagnostics: input.deliverDiagnostics ?? false,
    queue: [],
    seen: [],
    commands: [],
    registerAttempts: 0,
    reconnects: 0,
    heartbeatFailures: 0,
    dispatchAttempts: 0,
    replyAttempts: 0,
    commandAttempts: 0,
    diagnostics: [],
    counts: {
      received: 0,
      dispatched: 0,
      duplicates: 0,
      skipped: 0,
      invalid: 0,
      replies: 0,
      notReplied: 0,
      dispatchFailures: 0,
      parked: 0,
      replyFailures: 0,
      heartbeats: 0,
      commands: 0,
      commandFailures: 0,
      cursorResets: 0,
      retries: 0,
      diagnostics: 0,
    },
  };
}

/**
 * Retry delay for attempt n (1-based): the shared seeded backoff (`seededBackoffDelay`:
 * `retryDelayMs · 2^(n-1)` capped at `maxRetryDelayMs`, a jitter derived from the connection id and
 * n, so replay re-arms the same delay), and at least the `Retry-After` of the last failure (a 429
 * or 503, logged with it as `lastError.retryAfterMs`), capped at `maxRetryDelayMs` too.
 */
export function backoffMs(context: Pick<ConnectionContext, 'connectionId' | 'retryDelayMs' | 'maxRetryDelayMs' | 'lastError'>, attempt: number): number {
  return seededBackoffDelay(
    context.connectionId,
    Math.max(1, attempt),
    { baseMs: context.retryDelayMs, capMs: context.maxRetryDelayMs },
    retryAfterMsOf(context.lastError),
  );
}

/** The cursor moves when a message is received (stream or record), or only when it is dispatched (batch + dispatch). */
export function advancesOnReceipt(context: Pick<ConnectionContext, 'receiveMode' | 'deliver'>): boolean {
  return context.receiveMode === 'stream' || context.deliver === 'record';
}

const hexOf = (seq: Seq): string => {
  const text = typeof seq === 'number' ? Math.trunc(seq).toString(16) : seq.toLowerCase();
  return text.replace(/^0+(?=.)/, '');
};

/**
 * Compares two sequence numbers exactly: numbers as numbers; hex digit strings (any length, e.g.
 * seed 004's 16 digits of a u64) by their digits, never through a double, so two sequences above
 * 2^53 that differ compare unequal. Negative, zero or positive, as `a - b` would be. Pure.
 * @example
 * ```ts
 * compareSeq('0020000000000001', '0020000000000000'); // 1 (Number() would give 0)
 * ```
 */
export function compareSeq(a: Seq, b: Seq): number {
  if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
  const x = hexOf(a);
  const y = hexOf(b);
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The sequence a message must be above: the last received, else the floor (seed 004: 0). */
export function seqBound(context: Pick<ConnectionContext, 'lastSeq' | 'seqFloor'>): Seq | undefined {
  return context.lastSeq ?? context.seqFloor ?? undefined;
}

/** Where a sequence stands: `new` (above the last), `stale` (not above it: a re-send), `backwards` (see {@link seqOrder}). */
export type SeqOrder = 'new' | 'stale' | 'backwards';

/**
 * Where sequence `seq` stands against `lastSeq` (or the floor) and `streamSeq`, the sequence taken
 * last on the current connection. Seed 004's rule: a sequence not above the last is a re-send,
 * `stale`. One exception: a sequence *below* the one taken last on the same connection (`streamSeq`)
 * is `backwards`. A live connection delivers in order, and a backend replays old events only at the
 * start of a connection, so a live stream that goes back shows that the last sequence came from a
 * frame out of line (e.g. one cursor `bo_ffffffffffffffff`); under the seed's rule alone every
 * later event would be dropped until a reconnect. Pure.
 * @example
 * ```ts
 * seqOrder('000000000000000c', 'ffffffffffffffff', 'ffffffffffffffff'); // 'backwards'
 * seqOrder('000000000000000c', 'ffffffffffffffff', undefined);          // 'stale' (a replay at the start of a connection)
 * ```
 */
export function seqOrder(seq: Seq, lastSeq: Seq | undefined, streamSeq: Seq | undefined): SeqOrder {
  if (lastSeq === undefined || compareSeq(seq, lastSeq) > 0) return 'new';
  return streamSeq !== undefined && compareSeq(seq, streamSeq) < 0 ? 'backwards' : 'stale';
}

/** True when a message with this id was delivered (remembered in `seen`) or is queued. */
const alreadyHas = (context: ConnectionContext, id: string) => context.seen.includes(id) || context.queue.some((m) => m.id === id && !m.diagnostic);

/**
 * Why `message` is a duplicate, or undefined when it is new. A message marked `unkeyed` never is.
 * With a `seq`: it is `stale` ({@link seqOrder}: not above the last one, or the floor), or it went
 * `backwards` but its id was already delivered (an old frame re-sent). Without seq: its id, or its
 * `dedupeKey`, was delivered or is queued.
 */
export function duplicateReason(context: ConnectionContext, message: ConnectionMessage): string | undefined {
  if (message.unkeyed) return undefined;
  if (message.seq !== undefined) {
    const bound = seqBound(context);
    const order = seqOrder(message.seq, bound, context.streamSeq);
    if (order === 'stale') return `sequence ${message.seq} is not above ${bound}`;
    return order === 'backwards' && alreadyHas(context, message.id) ? `sequence ${message.seq} went back to an event already received` : undefined;
  }
  if (alreadyHas(context, message.id)) return 'its id was already received';
  const key = message.dedupeKey;
  if (key !== undefined && (context.seen.includes(`key:${key}`) || context.queue.some((m) => m.dedupeKey === key)))
    return `its key ${key} was already received`;
  return undefined;
}

/** True when `message` was already received (see {@link duplicateReason}). */
export function isDuplicate(context: ConnectionContext, message: ConnectionMessage): boolean {
  return duplicateReason(context, message) !== undefined;
}

/** `list` with `ids` appended, keeping the last `max`. */
export function remember(list: string[], id: string | Array<string | undefined>, max: number): string[] {
  const add = (Array.isArray(id) ? id : [id]).filter((x): x is string => x !== undefined);
  const next = [...list, ...add];
  return next.length > max ? next.slice(next.length - max) : next;
}

const memo = (m: ConnectionMessage) => [m.id, m.dedupeKey === undefined ? undefined : `key:${m.dedupeKey}`];

/**
 * Context changes for a new (not duplicate) message: counted, sequence and cursor kept, queued for
 * dispatch or remembered. An `unkeyed` message gets the id `<id>#<n>`, n its receipt number, so
 * two of them never share an id (nor a dispatch idempotency key). A sequence that went `backwards`
 * ({@link seqOrder}) becomes the last one, with a `sequence.backwards` diagnostic.
 */
export function receive(context: ConnectionContext, message: ConnectionMessage, skip: boolean): Partial<ConnectionContext> {
  const n = context.counts.received + 1;
  const m = message.unkeyed ? { ...message, id: `${message.id}#${n}` } : message;
  let out: Partial<ConnectionContext> = {
    counts: { ...context.counts, received: n, skipped: context.counts.skipped + (skip ? 1 : 0) },
    reconnects: 0,
  };
  if (m.seq !== undefined) {
    const bound = seqBound(context);
    if (seqOrder(m.seq, bound, context.streamSeq) === 'backwards') {
      out = {
        ...out,
        ...addDiagnostic(
          { ...context, ...out },
          {
            code: 'sequence.backwards',
            message: `message ${m.id}: sequence ${m.seq} is below ${context.streamSeq}, taken last on this connection: the stream went back, so ${bound} is no longer the last sequence (seed 004 would drop every event up to it)`,
          },
        ),
      };
    }
    out.lastSeq = m.seq;
    out.streamSeq = m.seq;
  }
  if (advancesOnReceipt(context) && m.cursor !== undefined) out.cursor = m.cursor;
  const queue = out.queue ?? context.queue;
  if (skip) out.skipKind = undefined;
  else if (context.deliver === 'dispatch') out.queue = [...queue, m];
  if (skip || context.deliver === 'record') out.seen = remember(context.seen, memo(m), context.dedupeWindow);
  return out;
}

/**
 * Context changes for a message dropped as a duplicate: counted, and made visible with a
 * `duplicate.dropped` diagnostic (the running count in its text). In batch + dispatch mode a
 * duplicate that carries a cursor is queued as a skip marker, so the cursor passes it in order and
 * the next poll does not ask for it again.
 */
export function dropDuplicate(context: ConnectionContext, message: ConnectionMessage, why: string): Partial<ConnectionContext> {
  const counts = { ...context.counts, duplicates: context.counts.duplicates + 1 };
  const out: Partial<ConnectionContext> = { counts };
  if (!advancesOnReceipt(context) && context.deliver === 'dispatch' && message.cursor !== undefined && !context.queue.some((m) => m.id === message.id)) {
    out.queue = [...context.queue, { id: message.id, cursor: message.cursor, duplicate: true, body: null }];
  }
  return {
    ...out,
    ...addDiagnostic(
      { ...context, ...out },
      {
        code: 'duplicate.dropped',
        message: `message ${message.id} dropped as a duplicate (${why}); ${counts.duplicates} dropped so far`,
      },
    ),
  };
}

/** How the head message was done with. */
export type HeadOutcome = { dispatched: true; reply?: unknown } | { parked: true; error?: ErrorInfo } | { skipped: true };

/**
 * Context changes when the head message is done with: dispatched (with the backend's reply),
 * parked by the opt-in poison policy, or skipped (invalid, duplicate marker, delivered diagnostic).
 * It leaves the queue, its id is remembered, and (batch + dispatch) the cursor moves to it. A reply
 * is kept for the `reply` actor when the message has a `replyTo`; a reply for a message without
 * one (seed 003: canvas origin) is not sent, and noted.
 */
export function completeHead(context: ConnectionContext, outcome: HeadOutcome): Partial<ConnectionContext> {
  const head = context.queue[0];
  if (!head) return {};
  const counts = { ...context.counts };
  const out: Partial<ConnectionContext> = { queue: context.queue.slice(1), dispatchAttempts: 0 };
  if (!head.diagnostic) out.seen = remember(context.seen, memo(head), context.dedupeWindow);
  if (!advancesOnReceipt(context) && head.cursor !== undefined) out.cursor = head.cursor;
  let diagnostic: Diagnostic | undefined;
  if ('dispatched' in outcome) {
    if (!head.diagnostic) counts.dispatched += 1;
    const hasReply = outcome.reply !== undefined && outcome.reply !== null;
    if (hasReply && head.replyTo !== undefined) out.pendingReply = { messageId: head.id, to: head.replyTo, body: outcome.reply };
    else if (hasReply) {
      counts.notReplied += 1;
      diagnostic = { code: 'reply.no_source', message: `message ${head.id} has no source to reply to (canvas origin): reply not sent` };
    }
  } else if ('parked' in outcome) {
    counts.parked += 1;
    diagnostic = {
      code: 'message.parked',
      message: `message ${head.id} parked after ${context.dispatchAttempts} failed attempts: ${outcome.error?.message ?? 'unknown error'}`,
    };
  } else if (head.invalid !== undefined) {
    counts.skipped += 1;
  }
  out.counts = counts;
  return diagnostic ? { ...out, ...addDiagnostic({ ...context, ...out }, diagnostic) } : out;
}

/**
 * Context changes adding a diagnostic (the last 20 kept). With `deliverDiagnostics` and
 * `deliver: 'dispatch'`, the diagnostic is also queued as a message (`diagnostic` = its code,
 * body `{ code, message }`, id `diagnostic:<n>`) so the consumer's callback sees it in order.
 */
export function addDiagnostic(
  context: ConnectionContext,
  diagnostic: Diagnostic,
): Pick<ConnectionContext, 'diagnostics' | 'counts'> & { queue?: ConnectionMessage[] } {
  const diagnostics = [...context.diagnostics, { code: diagnostic.code, message: diagnostic.message }];
  const n = context.counts.diagnostics + 1;
  const out = {
    diagnostics: diagnostics.length > MAX_DIAGNOSTICS ? diagnostics.slice(diagnostics.length - MAX_DIAGNOSTICS) : diagnostics,
    counts: { ...context.counts, diagnostics: n },
  };
  if (!context.deliverDiagnostics || context.deliver !== 'dispatch') return out;
  const message: ConnectionMessage = {
    id: `diagnostic:${n}`,
    kind: 'diagnostic',
    diagnostic: diagnostic.code,
    body: { code: diagnostic.code, message: diagnostic.message },
  };
  return { ...out, queue: [...context.queue, message] };
}

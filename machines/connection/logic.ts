import { describeError, type ErrorInfo } from '../../src/errors.ts';
import { addDiagnostic, advancesOnReceipt, completeHead, dropDuplicate, duplicateReason, receive, remember, type ConnectionContext } from './context.ts';
import type { ConnectionCommandEvent, ConnectionWireEvent } from './events.ts';

/** Every event the connection machine takes (plus XState's done/error events, seen through `error`). */
type Args = { context: ConnectionContext; event: ConnectionWireEvent | ConnectionCommandEvent | { type: string; error?: unknown } };
type Update = Partial<ConnectionContext>;

/** The error of an `xstate.error.actor.*` event, JSON-safe. */
export const errorOf = (event: unknown): ErrorInfo => describeError((event as { error?: unknown }).error);

const messageOf = (event: Args['event']) => (event.type === 'connection.message' && 'message' in event ? event.message : undefined);
const exhausted = (context: ConnectionContext) => context.maxReconnects !== null && context.reconnects > context.maxReconnects;

/** The connection machine's guards (pure). */
export const connectionGuards = {
  transient: ({ event }: Args) => errorOf(event).code === 'TRANSIENT',
  registerRetryable: ({ context, event }: Args) => errorOf(event).code === 'TRANSIENT' && context.registerAttempts < context.maxRegisterAttempts,
  /** A reply is retried on every transient failure for as long as the connection lives, unless the opt-in `maxReplyAttempts` bounds it. */
  replyRetryable: ({ context, event }: Args) =>
    errorOf(event).code === 'TRANSIENT' && (context.maxReplyAttempts === null || context.replyAttempts < context.maxReplyAttempts),
  commandRetryable: ({ context, event }: Args) => errorOf(event).code === 'TRANSIENT' && context.commandAttempts < context.maxCommandAttempts,
  /** A lost receive source is retried when the loss is transient; a permanent one is never retried (the source says reconnecting would get the same answer). */
  receiveRetryable: ({ event }: Args) => errorOf(event).code === 'TRANSIENT',
  /** `onReceiveLost: 'stop'`: a permanent loss stops only the receive region, at once. */
  stopReceiveOnRefusal: ({ context }: Args) => context.onReceiveLost === 'stop',
  /** The opt-in poison policy says park (never without `parkAfterAttempts`). */
  parkDispatch: ({ context }: Args) => context.parkAfterAttempts !== null && context.dispatchAttempts >= context.parkAfterAttempts,
  heartbeatOff: ({ context }: Args) => context.heartbeatIntervalMs <= 0,
  heartbeatStopped: ({ context }: Args) => context.heartbeatStopped !== undefined,
  batchMode: ({ context }: Args) => context.receiveMode === 'batch',
  drained: ({ context }: Args) => context.queue.length === 0 && context.pendingReply === undefined,
  stopReceiveOnLoss: ({ context }: Args) => exhausted(context) && context.onReceiveLost === 'stop',
  reconnectsExhausted: ({ context }: Args) => exhausted(context),
  duplicate: ({ context, event }: Args) => {
    const message = messageOf(event);
    return message !== undefined && duplicateReason(context, message) !== undefined;
  },
  skipOnce: ({ context, event }: Args) => context.skipKind !== undefined && messageOf(event)?.kind === context.skipKind,
  hasPendingReply: ({ context }: Args) => context.pendingReply !== undefined,
  headSkip: ({ context }: Args) => context.queue[0] !== undefined && (context.queue[0].invalid !== undefined || context.queue[0].duplicate === true),
  hasQueue: ({ context }: Args) => context.queue.length > 0,
  dispatchedHead: ({ context, event }: Args) => event.type === 'message.dispatched' && 'messageId' in event && context.queue[0]?.id === event.messageId,
  parkedHead: ({ context, event }: Args) => event.type === 'message.parked' && 'messageId' in event && context.queue[0]?.id === event.messageId,
  hasCommand: ({ context }: Args) => context.commands.length > 0,
};

const count = (context: ConnectionContext, key: keyof ConnectionContext['counts']) => ({ ...context.counts, [key]: context.counts[key] + 1 });

/** The connection machine's context updates (pure), each the body of an `assign` action of the same name. */
export const connectionUpdates = {
  countRegister: ({ context }: Args): Update => ({ registerAttempts: context.registerAttempts + 1 }),
  /** A registration may name where the receive source starts (`resumeCursor`, e.g. yoi's transcript position) and a kind to skip once. */
  registered: ({ context, event }: Args): Update => {
    const registration = event.type === 'connection.registered' && 'registration' in event ? event.registration : undefined;
    const out: Update = { registration, skipKind: registration?.skipKind, registerAttempts: 0 };
    if (typeof registration?.resumeCursor === 'string' && context.cursor === undefined) out.cursor = registration.resumeCursor;
    if (registration?.resumeSeq !== undefined && context.lastSeq === undefined) out.lastSeq = registration.resumeSeq as string | number;
    return out;
  },
  recordError: ({ event }: Args): Update => ({ lastError: errorOf(event) }),
  failRegister: ({ context, event }: Args): Update => {
    const error = errorOf(event);
    const why = error.code === 'TRANSIENT' ? `register failed after ${context.registerAttempts} attempts` : 'register failed permanently';
    return { lastError: error, reason: `${why}: ${error.message}` };
  },
  failReceive: ({ event }: Args): Update => ({ lastError: errorOf(event), reason: `receive failed permanently: ${errorOf(event).message}` }),
  /** `onReceiveLost: 'stop'` and a permanent loss (e.g. close code 4403): only the receive region stops, with a `receive.stopped` diagnostic; it is not reconnected. */
  refuseReceive: ({ context, event }: Args): Update => {
    const error = errorOf(event);
    const why = `${context.receiveLabel} stopped: ${error.message} (permanent: not reconnected)`;
    return { lastError: error, receiveStopped: why, ...addDiagnostic(context, { code: 'receive.stopped', message: why }) };
  },
  failReconnects: ({ context }: Args): Update => ({ reason: `receive stopped after ${context.maxReconnects} reconnect attempts (${lastLoss(context)})` }),
  /** `onReceiveLost: 'stop'`: only the receive region stops, with the seed 004 diagnostic "… stopped after N reconnect attempts". */
  stopReceive: ({ context }: Args): Update => {
    const why = `${context.receiveLabel} stopped after ${context.maxReconnects} reconnect attempts`;
    return { receiveStopped: `${why} (${lastLoss(context)})`, ...addDiagnostic(context, { code: 'receive.stopped', message: why }) };
  },
  closeOffline: ({ event }: Args): Update => ({
    reason: event.type === 'connection.close' && 'reason' in event ? (event.reason ?? 'closed by the application') : 'closed by the application',
  }),
  beat: ({ context }: Args): Update => ({ heartbeatFailures: 0, counts: count(context, 'heartbeats') }),
  heartbeatFailed: ({ context, event }: Args): Update => ({ heartbeatFailures: context.heartbeatFailures + 1, lastError: errorOf(event) }),
  stopHeartbeat: ({ context, event }: Args): Update => {
    const error = errorOf(event);
    return {
      heartbeatStopped: error,
      lastError: error,
      ...addDiagnostic(context, { code: 'heartbeat.stopped', message: `heartbeat stopped: ${error.message}` }),
    };
  },
  accept: ({ context, event }: Args): Update => {
    const message = messageOf(event);
    return message ? receive(context, message, false) : {};
  },
  skip: ({ context, event }: Args): Update => {
    const message = messageOf(event);
    return message ? receive(context, message, true) : {};
  },
  countDuplicate: ({ context, event }: Args): Update => {
    const message = messageOf(event);
    return message ? dropDuplicate(context, message, duplicateReason(context, message) ?? 'already received') : {};
  },
  /** The source connected: the reconnect count and the connection's own sequence start afresh. */
  opened: (): Update => ({ reconnects: 0, streamSeq: undefined }),
  closed: ({ event }: Args): Update => (event.type === 'connection.closed' && 'code' in event ? { lastClose: { code: event.code, reason: event.reason } } : {}),
  resetCursor: ({ context, event }: Args): Update => ({
    cursor: undefined,
    lastSeq: undefined,
    streamSeq: undefined,
    ...addDiagnostic(
      { ...context, counts: count(context, 'cursorResets') },
      {
        code: 'cursor.reset',
        message: `cursor ${context.cursor ?? '(none)'} reset: ${event.type === 'connection.cursorReset' && 'reason' in event ? event.reason : ''}`,
      },
    ),
  }),
  retrying: ({ context, event }: Args): Update =>
    event.type === 'connection.retry' && 'attempt' in event ? { lastError: event.error, counts: count(context, 'retries') } : {},
  recordDiagnostic: ({ context, event }: Args): Update => (event.type === 'connection.diagnostic' && 'code' in event ? addDiagnostic(context, event) : {}),
  /** An invalid payload is counted; an invalid item with an id is queued as a skip marker (dispatch) or remembered (record), so the cursor passes it in order. */
  recordInvalid: ({ context, event }: Args): Update => {
    if (event.type !== 'connection.invalid' || !('raw' in event)) return {};
    const out: Update = { counts: count(context, 'invalid'), lastError: { name: 'InvalidPayload', code: 'INVALID_PAYLOAD', message: event.error } };
    if (event.messageId === undefined) return out;
    if (context.deliver === 'dispatch') out.queue = [...context.queue, { id: event.messageId, cursor: event.cursor, invalid: event.error, body: null }];
    else out.seen = remember(context.seen, event.messageId, context.dedupeWindow);
    if (advancesOnReceipt(context) && event.cursor !== undefined) out.cursor = event.cursor;
    return out;
  },
  countDispatch: ({ context }: Args): Update => ({ dispatchAttempts: context.dispatchAttempts + 1 }),
  markDispatched: ({ context, event }: Args): Update =>
    completeHead(context, { dispatched: true, reply: event.type === 'message.dispatched' && 'reply' in event ? event.reply : undefined }),
  /** A failed dispatch: the message stays at the head (and the cursor before it), retried after a capped backoff (seed 003: never dropped). */
  dispatchFailed: ({ context, event }: Args): Update => ({ lastError: errorOf(event), counts: count(context, 'dispatchFailures') }),
  park: ({ context, event }: Args): Update =>
    completeHead(context, { parked: true, error: event.type === 'message.parked' && 'error' in event ? (event.error as ErrorInfo) : undefined }),
  skipHead: ({ context }: Args): Update => completeHead(context, { skipped: true }),
  countReply: ({ context }: Args): Update => ({ replyAttempts: context.replyAttempts + 1 }),
  replied: ({ context }: Args): Update => ({ pendingReply: undefined, replyAttempts: 0, counts: count(context, 'replies') }),
  /** A reply that failed permanently (4xx), or used up the opt-in `maxReplyAttempts`: recorded (`reply.failed`, `counts.replyFailures`), and the next message goes on. */
  giveUpReply: ({ context, event }: Args): Update => {
    const error = errorOf(event);
    const why = error.code === 'TRANSIENT' ? `given up after ${context.replyAttempts} attempts` : 'failed permanently';
    return {
      pendingReply: undefined,
      replyAttempts: 0,
      lastError: error,
      ...addDiagnostic(
        { ...context, counts: count(context, 'replyFailures') },
        {
          code: 'reply.failed',
          message: `reply to ${context.pendingReply?.to} for message ${context.pendingReply?.messageId} ${why}: ${error.message}`,
        },
      ),
    };
  },
  enqueueCommand: ({ context, event }: Args): Update =>
    event.type === 'connection.command' && 'command' in event ? { commands: [...context.commands, event.command] } : {},
  countCommand: ({ context }: Args): Update => ({ commandAttempts: context.commandAttempts + 1 }),
  commandDone: ({ context }: Args): Update => ({ commands: context.commands.slice(1), commandAttempts: 0, counts: count(context, 'commands') }),
  commandFailed: ({ context, event }: Args): Update => ({
    commands: context.commands.slice(1),
    commandAttempts: 0,
    lastError: errorOf(event),
    ...addDiagnostic(
      { ...context, counts: { ...count(context, 'commands'), commandFailures: context.counts.commandFailures + 1 } },
      {
        code: 'command.failed',
        message: `command ${context.counts.commands + 1} failed after ${context.commandAttempts} attempts: ${errorOf(event).message}`,
      },
    ),
  }),
  countReconnect: ({ context }: Args): Update => ({ reconnects: context.reconnects + 1 }),
};

function lastLoss(context: ConnectionContext): string {
  return context.lastError?.message ?? (context.lastClose ? `last close code ${context.lastClose.code}` : 'no error');
}

import { describeError, type ErrorInfo } from '../../src/errors.ts';
import { addDiagnostic, advancesOnReceipt, completeHead, isDuplicate, receive, remember, type ConnectionContext } from './context.ts';
import type { ConnectionCommandEvent, ConnectionWireEvent } from './events.ts';

/** Every event the connection machine takes (plus XState's done/error events, seen through `error`). */
type Args = { context: ConnectionContext; event: ConnectionWireEvent | ConnectionCommandEvent | { type: string; error?: unknown } };
type Update = Partial<ConnectionContext>;

/** The error of an `xstate.error.actor.*` event, JSON-safe. */
export const errorOf = (event: unknown): ErrorInfo => describeError((event as { error?: unknown }).error);

/** The connection machine's guards (pure). */
export const connectionGuards = {
  transient: ({ event }: Args) => errorOf(event).code === 'TRANSIENT',
  registerRetryable: ({ context, event }: Args) => errorOf(event).code === 'TRANSIENT' && context.registerAttempts < context.maxRegisterAttempts,
  replyRetryable: ({ context, event }: Args) => errorOf(event).code === 'TRANSIENT' && context.replyAttempts < context.maxReplyAttempts,
  dispatchRetryable: ({ context }: Args) => context.dispatchAttempts < context.maxDispatchAttempts,
  heartbeatOff: ({ context }: Args) => context.heartbeatIntervalMs <= 0,
  heartbeatStopped: ({ context }: Args) => context.heartbeatStopped !== undefined,
  batchMode: ({ context }: Args) => context.receiveMode === 'batch',
  drained: ({ context }: Args) => context.queue.length === 0 && context.pendingReply === undefined,
  reconnectsExhausted: ({ context }: Args) => context.reconnects > context.maxReconnects,
  duplicate: ({ context, event }: Args) => event.type === 'connection.message' && 'message' in event && isDuplicate(context, event.message),
  skipOnce: ({ context, event }: Args) => event.type === 'connection.message' && 'message' in event && context.skipKind !== undefined && event.message.kind === context.skipKind,
  hasPendingReply: ({ context }: Args) => context.pendingReply !== undefined,
  headInvalid: ({ context }: Args) => context.queue[0]?.invalid !== undefined,
  hasQueue: ({ context }: Args) => context.queue.length > 0,
  dispatchedHead: ({ context, event }: Args) => event.type === 'message.dispatched' && 'messageId' in event && context.queue[0]?.id === event.messageId,
  hasCommand: ({ context }: Args) => context.commands.length > 0,
};

const count = (context: ConnectionContext, key: keyof ConnectionContext['counts']) => ({ ...context.counts, [key]: context.counts[key] + 1 });

/** The connection machine's context updates (pure), each the body of an `assign` action of the same name. */
export const connectionUpdates = {
  countRegister: ({ context }: Args): Update => ({ registerAttempts: context.registerAttempts + 1 }),
  registered: ({ event }: Args): Update => {
    const registration = event.type === 'connection.registered' && 'registration' in event ? event.registration : undefined;
    return { registration, skipKind: registration?.skipKind, registerAttempts: 0 };
  },
  recordError: ({ event }: Args): Update => ({ lastError: errorOf(event) }),
  failRegister: ({ context, event }: Args): Update => {
    const error = errorOf(event);
    const why = error.code === 'TRANSIENT' ? `register failed after ${context.registerAttempts} attempts` : 'register failed permanently';
    return { lastError: error, reason: `${why}: ${error.message}` };
  },
  failReceive: ({ event }: Args): Update => ({ lastError: errorOf(event), reason: `receive failed permanently: ${errorOf(event).message}` }),
  failReconnects: ({ context }: Args): Update => {
    const last = context.lastError?.message ?? (context.lastClose ? `last close code ${context.lastClose.code}` : 'no error');
    return { reason: `receive stopped after ${context.maxReconnects} reconnect attempts (${last})` };
  },
  closeOffline: ({ event }: Args): Update => ({ reason: event.type === 'connection.close' && 'reason' in event ? event.reason ?? 'closed by the application' : 'closed by the application' }),
  beat: ({ context }: Args): Update => ({ heartbeatFailures: 0, counts: count(context, 'heartbeats') }),
  heartbeatFailed: ({ context, event }: Args): Update => ({ heartbeatFailures: context.heartbeatFailures + 1, lastError: errorOf(event) }),
  stopHeartbeat: ({ context, event }: Args): Update => {
    const error = errorOf(event);
    return { heartbeatStopped: error, lastError: error, ...addDiagnostic(context, { code: 'heartbeat.stopped', message: `heartbeat stopped: ${error.message}` }) };
  },
  accept: ({ context, event }: Args): Update => (event.type === 'connection.message' && 'message' in event ? receive(context, event.message, false) : {}),
  skip: ({ context, event }: Args): Update => (event.type === 'connection.message' && 'message' in event ? receive(context, event.message, true) : {}),
  countDuplicate: ({ context }: Args): Update => ({ counts: count(context, 'duplicates') }),
  opened: (): Update => ({ reconnects: 0 }),
  closed: ({ event }: Args): Update => (event.type === 'connection.closed' && 'code' in event ? { lastClose: { code: event.code, reason: event.reason } } : {}),
  resetCursor: ({ context, event }: Args): Update => ({
    cursor: undefined,
    lastSeq: undefined,
    ...addDiagnostic({ ...context, counts: count(context, 'cursorResets') }, {
      code: 'cursor.reset', message: `cursor ${context.cursor ?? '(none)'} reset: ${event.type === 'connection.cursorReset' && 'reason' in event ? event.reason : ''}`,
    }),
  }),
  retrying: ({ context, event }: Args): Update => (event.type === 'connection.retry' && 'attempt' in event ? { lastError: event.error, counts: count(context, 'retries') } : {}),
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
  markDispatched: ({ context, event }: Args): Update => completeHead(context, { dispatched: true, reply: event.type === 'message.dispatched' && 'reply' in event ? event.reply : undefined }),
  giveUpDispatch: ({ context, event }: Args): Update => ({ lastError: errorOf(event), ...completeHead(context, { dispatched: false, error: errorOf(event) }) }),
  skipInvalid: ({ context }: Args): Update => completeHead(context, { dispatched: false }),
  countReply: ({ context }: Args): Update => ({ replyAttempts: context.replyAttempts + 1 }),
  replied: ({ context }: Args): Update => ({ pendingReply: undefined, replyAttempts: 0, counts: count(context, 'replies') }),
  giveUpReply: ({ context, event }: Args): Update => ({
    pendingReply: undefined, replyAttempts: 0, lastError: errorOf(event),
    ...addDiagnostic({ ...context, counts: count(context, 'replyFailures') }, {
      code: 'reply.failed', message: `reply to ${context.pendingReply?.to} for message ${context.pendingReply?.messageId} given up: ${errorOf(event).message}`,
    }),
  }),
  enqueueCommand: ({ context, event }: Args): Update => (event.type === 'connection.command' && 'command' in event ? { commands: [...context.commands, event.command] } : {}),
  commandDone: ({ context }: Args): Update => ({ commands: context.commands.slice(1), counts: count(context, 'commands') }),
  countReconnect: ({ context }: Args): Update => ({ reconnects: context.reconnects + 1 }),
};

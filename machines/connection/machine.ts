import { assign, fromEventObservable, setup, type ObservableActorLogic } from 'xstate';
import { of } from 'rxjs';
import type { ErrorInfo } from '../../src/errors.ts';
import { unboundActor } from '../../src/binding/index.ts';
import { backoffMs, initialConnectionContext, type ConnectionContext, type ConnectionInput } from './context.ts';
import { connectionGuards, connectionUpdates as u } from './logic.ts';
import type { MessageParkedEvent } from './events.ts';
import type {
  CommandInput,
  ConnectionCommandEvent,
  ConnectionWireEvent,
  DispatchInput,
  HeartbeatInput,
  ReceiveInput,
  RegisterInput,
  ReplyInput,
} from './events.ts';

/** An actor a binding provides: it sends {@link ConnectionWireEvent}s to the machine, then completes (or fails). */
export type ConnectionLogic<TInput> = ObservableActorLogic<ConnectionWireEvent, TInput>;

/** The actors a binding provides with `connectionMachine.provide({ actors })`. */
export interface ConnectionActors {
  /** Registers or attaches; emits `connection.registered` (and may emit messages, e.g. a transcript). */
  register: ConnectionLogic<RegisterInput>;
  /** One heartbeat request. */
  heartbeat: ConnectionLogic<HeartbeatInput>;
  /** The receive source from `input.cursor`: messages, diagnostics, cursor resets, close codes. */
  receive: ConnectionLogic<ReceiveInput>;
  /** Hands one message to the backend, keyed by `input.idempotencyKey`; emits `message.dispatched`. */
  dispatch: ConnectionLogic<DispatchInput>;
  /** Sends one reply, keyed by `input.idempotencyKey`. */
  reply: ConnectionLogic<ReplyInput>;
  /**
   * Sends one application command; reports outcomes as `connection.diagnostic`s. A `TRANSIENT`
   * rejection is retried with the same idempotency key after a capped backoff, up to
   * `maxCommandAttempts` (`input.lastAttempt` tells the actor to report rather than throw).
   */
  command: ConnectionLogic<CommandInput>;
}

/** What a finished connection actor outputs. */
export interface ConnectionOutput {
  reason?: string;
  lastError?: ErrorInfo;
  cursor?: string;
  counts: ConnectionContext['counts'];
}

/**
 * The generic connection machine: the long-lived link between a service and a platform. It
 * registers (bounded retries of transient failures), then stays `online` with four parallel
 * regions: `heartbeat` (a beat every `heartbeatIntervalMs`; transient failures back off, a
 * permanent one stops the heartbeat only, seed 003), `receive` (the binding's source: a stream
 * that runs until it drops, or a poll that answers one batch at a time), `dispatch` (each message
 * to the backend in order, then its reply; a slow dispatch never holds up the heartbeat) and
 * `commands` (application requests, in order; transient failures retried). A dropped source goes
 * `receive.reconnecting` (capped backoff, at most `maxReconnects` in a row) and back to
 * `listening` from the logged cursor while the other regions go on; a cursor the remote no longer
 * knows is reset. Once the reconnects are used up, or the source fails permanently (a close code
 * such as 4403: reconnecting would get the same answer), the connection fails (`onReceiveLost:
 * 'fail'`) or only the receive region stops (`'stop'`, seed 004). A failing dispatch keeps its message at
 * the cursor and retries it for ever with capped backoff, unless the opt-in `parkAfterAttempts`
 * parks it (`message.parked`). Ends `offline` (`connection.close`) or `failed` with `reason` and `lastError`.
 *
 * Exactly-once dispatch (docs/architecture.md invariant 5): `message.dispatched` is the event that moves the
 * cursor and marks a message done; it is appended to the log before the machine acts on it. After
 * a crash, recovery folds the queue back from the log, messages already marked are skipped as
 * duplicates when re-delivered, and an in-flight dispatch re-runs with the same idempotency key.
 *
 * Bindings provide the actors ({@link ConnectionActors}): machines/molecule, machines/yoi.
 * @example
 * ```ts
 * const machine = connectionMachine.provide({ actors: moleculeConnectionActors({ apiUrl, token, backend }) });
 * const system = createActorSystem({ store, machines: { molecule: machine } });
 * system.spawn('molecule', { id: 'molecule-ws-1', input: { connectionId: 'molecule-ws-1', receiveMode: 'batch' } });
 * ```
 */
export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    input: {} as ConnectionInput,
    events: {} as ConnectionWireEvent | ConnectionCommandEvent,
    output: {} as ConnectionOutput,
  },
  actors: {
    register: unboundActor<ConnectionWireEvent, RegisterInput>('connection', 'register'),
    heartbeat: unboundActor<ConnectionWireEvent, HeartbeatInput>('connection', 'heartbeat'),
    receive: unboundActor<ConnectionWireEvent, ReceiveInput>('connection', 'receive'),
    dispatch: unboundActor<ConnectionWireEvent, DispatchInput>('connection', 'dispatch'),
    reply: unboundActor<ConnectionWireEvent, ReplyInput>('connection', 'reply'),
    command: unboundActor<ConnectionWireEvent, CommandInput>('connection', 'command'),
    /** The poison policy's record: emits `message.parked` once, so the decision is an event in the log (not a binding's actor). */
    park: fromEventObservable<MessageParkedEvent, MessageParkedEvent>(({ input }) => of(input)),
  },
  delays: {
    registerBackoff: ({ context }) => backoffMs(context, context.registerAttempts),
    heartbeatInterval: ({ context }) => context.heartbeatIntervalMs,
    heartbeatBackoff: ({ context }) => backoffMs(context, context.heartbeatFailures),
    reconnectBackoff: ({ context }) => backoffMs(context, context.reconnects),
    dispatchBackoff: ({ context }) => backoffMs(context, context.dispatchAttempts),
    replyBackoff: ({ context }) => backoffMs(context, context.replyAttempts),
    commandBackoff: ({ context }) => backoffMs(context, context.commandAttempts),
  },
  guards: connectionGuards,
  actions: {
    countRegister: assign(u.countRegister),
    registered: assign(u.registered),
    recordError: assign(u.recordError),
    failRegister: assign(u.failRegister),
    failReceive: assign(u.failReceive),
    refuseReceive: assign(u.refuseReceive),
    failReconnects: assign(u.failReconnects),
    stopReceive: assign(u.stopReceive),
    closeOffline: assign(u.closeOffline),
    beat: assign(u.beat),
    heartbeatFailed: assign(u.heartbeatFailed),
    stopHeartbeat: assign(u.stopHeartbeat),
    accept: assign(u.accept),
    skip: assign(u.skip),
    countDuplicate: assign(u.countDuplicate),
    opened: assign(u.opened),
    closed: assign(u.closed),
    resetCursor: assign(u.resetCursor),
    retrying: assign(u.retrying),
    recordDiagnostic: assign(u.recordDiagnostic),
    recordInvalid: assign(u.recordInvalid),
    countDispatch: assign(u.countDispatch),
    markDispatched: assign(u.markDispatched),
    dispatchFailed: assign(u.dispatchFailed),
    park: assign(u.park),
    skipHead: assign(u.skipHead),
    countReply: assign(u.countReply),
    replied: assign(u.replied),
    giveUpReply: assign(u.giveUpReply),
    enqueueCommand: assign(u.enqueueCommand),
    countCommand: assign(u.countCommand),
    commandDone: assign(u.commandDone),
    commandFailed: assign(u.commandFailed),
    countReconnect: assign(u.countReconnect),
  },
}).createMachine({
  id: 'connection',
  context: ({ input }) => initialConnectionContext(input),
  initial: 'registering',
  output: ({ context }) => ({ reason: context.reason, lastError: context.lastError, cursor: context.cursor, counts: context.counts }),
  on: {
    'connection.close': { target: '.offline', actions: 'closeOffline' },
    'connection.command': { actions: 'enqueueCommand' },
    'connection.message': [{ guard: 'duplicate', actions: 'countDuplicate' }, { guard: 'skipOnce', actions: 'skip' }, { actions: 'accept' }],
    'connection.invalid': { actions: 'recordInvalid' },
    'connection.diagnostic': { actions: 'recordDiagnostic' },
    'connection.cursorReset': { actions: 'resetCursor' },
    'connection.opened': { actions: 'opened' },
    'connection.closed': { actions: 'closed' },
    'connection.retry': { actions: 'retrying' },
  },
  states: {
    registering: {
      initial: 'attempting',
      states: {
        attempting: {
          entry: 'countRegister',
          on: { 'connection.registered': { target: '#connection.online', actions: 'registered' } },
          invoke: {
            id: 'register',
            src: 'register',
            input: ({ context }) => ({ connectionId: context.connectionId, target: context.target, attempt: context.registerAttempts }),
            onDone: { target: '#connection.online', actions: 'registered' },
            onError: [
              { guard: 'registerRetryable', target: 'backoff', actions: 'recordError' },
              { target: '#connection.failed', actions: 'failRegister' },
            ],
          },
        },
        backoff: { after: { registerBackoff: 'attempting' } },
      },
    },
    online: {
      type: 'parallel',
      states: {
        heartbeat: {
          initial: 'check',
          states: {
            check: { always: [{ guard: 'heartbeatOff', target: 'off' }, { guard: 'heartbeatStopped', target: 'stopped' }, { target: 'beating' }] },
            beating: {
              invoke: {
                id: 'heartbeat',
                src: 'heartbeat',
                input: ({ context }) => ({ connectionId: context.connectionId, target: context.target, beat: context.counts.heartbeats + 1 }),
                onDone: { target: 'waiting', actions: 'beat' },
                onError: [
                  { guard: 'transient', target: 'backoff', actions: 'heartbeatFailed' },
                  { target: 'stopped', actions: 'stopHeartbeat' },
                ],
              },
            },
            waiting: { after: { heartbeatInterval: 'beating' } },
            backoff: { after: { heartbeatBackoff: 'beating' } },
            stopped: {},
            off: {},
          },
        },
        receive: {
          initial: 'listening',
          states: {
            listening: {
              invoke: {
                id: 'receive',
                src: 'receive',
                input: ({ context }) => ({
                  connectionId: context.connectionId,
                  target: context.target,
                  cursor: context.cursor,
                  registration: context.registration,
                  reconnects: context.reconnects,
                }),
                onDone: [{ guard: 'batchMode', target: 'draining' }, { target: 'reconnecting' }],
                onError: [
                  { guard: 'receiveRetryable', target: 'reconnecting', actions: 'recordError' },
                  { guard: 'stopReceiveOnRefusal', target: 'stopped', actions: 'refuseReceive' },
                  { target: '#connection.failed', actions: 'failReceive' },
                ],
              },
            },
            draining: { always: { guard: 'drained', target: 'listening' } },
            reconnecting: {
              entry: 'countReconnect',
              always: [
                { guard: 'stopReceiveOnLoss', target: 'stopped', actions: 'stopReceive' },
                { guard: 'reconnectsExhausted', target: '#connection.failed', actions: 'failReconnects' },
              ],
              after: { reconnectBackoff: 'listening' },
            },
            stopped: {},
          },
        },
        dispatch: {
          initial: 'idle',
          states: {
            idle: {
              always: [
                { guard: 'hasPendingReply', target: 'replying' },
                { guard: 'headSkip', target: 'skipping' },
                { guard: 'hasQueue', target: 'dispatching' },
              ],
            },
            skipping: { entry: 'skipHead', always: 'idle' },
            dispatching: {
              entry: 'countDispatch',
              on: { 'message.dispatched': { guard: 'dispatchedHead', target: 'idle', actions: 'markDispatched' } },
              invoke: {
                id: 'dispatch',
                src: 'dispatch',
                input: ({ context }) => ({
                  connectionId: context.connectionId,
                  target: context.target,
                  message: context.queue[0],
                  idempotencyKey: `${context.connectionId}:${context.queue[0].id}`,
                  attempt: context.dispatchAttempts,
                }),
                onDone: { target: 'idle', actions: 'markDispatched' },
                onError: [
                  { guard: 'parkDispatch', target: 'parking', actions: 'dispatchFailed' },
                  { target: 'backoff', actions: 'dispatchFailed' },
                ],
              },
            },
            backoff: { after: { dispatchBackoff: 'dispatching' } },
            parking: {
              on: { 'message.parked': { guard: 'parkedHead', target: 'idle', actions: 'park' } },
              invoke: {
                id: 'park',
                src: 'park',
                input: ({ context }) => ({
                  type: 'message.parked' as const,
                  messageId: context.queue[0]?.id ?? '',
                  attempts: context.dispatchAttempts,
                  error: context.lastError ?? { name: 'Error', message: 'unknown error' },
                }),
              },
            },
            replying: {
              entry: 'countReply',
              invoke: {
                id: 'reply',
                src: 'reply',
                input: ({ context }) => ({
                  connectionId: context.connectionId,
                  target: context.target,
                  messageId: context.pendingReply!.messageId,
                  to: context.pendingReply!.to,
                  body: context.pendingReply!.body,
                  idempotencyKey: `${context.connectionId}:${context.pendingReply!.messageId}:reply`,
                  attempt: context.replyAttempts,
                }),
                onDone: { target: 'idle', actions: 'replied' },
                onError: [
                  { guard: 'replyRetryable', target: 'replyBackoff', actions: 'recordError' },
                  { target: 'idle', actions: 'giveUpReply' },
                ],
              },
            },
            replyBackoff: { after: { replyBackoff: 'replying' } },
          },
        },
        commands: {
          initial: 'idle',
          states: {
            idle: { always: { guard: 'hasCommand', target: 'sending' } },
            sending: {
              entry: 'countCommand',
              invoke: {
                id: 'command',
                src: 'command',
                input: ({ context }) => ({
                  connectionId: context.connectionId,
                  target: context.target,
                  command: context.commands[0],
                  idempotencyKey: `${context.connectionId}:c${context.counts.commands + 1}`,
                  attempt: context.commandAttempts,
                  lastAttempt: context.commandAttempts >= context.maxCommandAttempts,
                }),
                onDone: { target: 'idle', actions: 'commandDone' },
                onError: [
                  { guard: 'commandRetryable', target: 'backoff', actions: 'recordError' },
                  { target: 'idle', actions: 'commandFailed' },
                ],
              },
            },
            backoff: { after: { commandBackoff: 'sending' } },
          },
        },
      },
    },
    offline: { type: 'final' },
    failed: { type: 'final' },
  },
});

/** The connection machine's type, with any binding provided. */
export type ConnectionMachine = typeof connectionMachine;

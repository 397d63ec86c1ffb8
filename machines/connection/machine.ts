import { assign, fromEventObservable, setup, type ObservableActorLogic } from 'xstate';
import { throwError } from 'rxjs';
import { ActorlogError, type ErrorInfo } from '../../src/errors.ts';
import { backoffMs, initialConnectionContext, type ConnectionContext, type ConnectionInput } from './context.ts';
import { connectionGuards, connectionUpdates as u } from './logic.ts';
import type {
  CommandInput, ConnectionCommandEvent, ConnectionWireEvent, DispatchInput, HeartbeatInput, ReceiveInput, RegisterInput, ReplyInput,
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
  /** Sends one application command; reports outcomes as `connection.diagnostic`s. */
  command: ConnectionLogic<CommandInput>;
}

/** What a finished connection actor outputs. */
export interface ConnectionOutput {
  reason?: string;
  lastError?: ErrorInfo;
  cursor?: string;
  counts: ConnectionContext['counts'];
}

const unbound = <TInput>(name: string): ConnectionLogic<TInput> =>
  fromEventObservable<ConnectionWireEvent, TInput>(() =>
    throwError(() => new ActorlogError('INVALID_OPTIONS', `the connection machine has no "${name}" actor: give it a binding with .provide({ actors })`)),
  );

/**
 * The generic connection machine: the long-lived link between a service and a platform. It
 * registers (bounded retries of transient failures), then stays `online` with four parallel
 * regions: `heartbeat` (a beat every `heartbeatIntervalMs`; transient failures back off, a
 * permanent one stops the heartbeat only, seed 003), `receive` (the binding's source: a stream
 * that runs until it drops, or a poll that answers one batch at a time), `dispatch` (each message
 * to the backend in order, then its reply; a slow dispatch never holds up the heartbeat) and
 * `commands` (application requests, in order). A dropped source goes `reconnecting` (capped
 * backoff, at most `maxReconnects` in a row) and back `online` from the logged cursor; a cursor
 * the remote no longer knows is reset. Ends `offline` (`connection.close`) or `failed`
 * (a permanent error, or retries used up) with `reason` and `lastError`.
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
    register: unbound<RegisterInput>('register'),
    heartbeat: unbound<HeartbeatInput>('heartbeat'),
    receive: unbound<ReceiveInput>('receive'),
    dispatch: unbound<DispatchInput>('dispatch'),
    reply: unbound<ReplyInput>('reply'),
    command: unbound<CommandInput>('command'),
  },
  delays: {
    registerBackoff: ({ context }) => backoffMs(context, context.registerAttempts),
    heartbeatInterval: ({ context }) => context.heartbeatIntervalMs,
    heartbeatBackoff: ({ context }) => backoffMs(context, context.heartbeatFailures),
    reconnectBackoff: ({ context }) => backoffMs(context, context.reconnects),
    dispatchBackoff: ({ context }) => backoffMs(context, context.dispatchAttempts),
    replyBackoff: ({ context }) => backoffMs(context, context.replyAttempts),
  },
  guards: connectionGuards,
  actions: {
    countRegister: assign(u.countRegister), registered: assign(u.registered), recordError: assign(u.recordError), failRegister: assign(u.failRegister),
    failReceive: assign(u.failReceive), failReconnects: assign(u.failReconnects), closeOffline: assign(u.closeOffline),
    beat: assign(u.beat), heartbeatFailed: assign(u.heartbeatFailed), stopHeartbeat: assign(u.stopHeartbeat), accept: assign(u.accept),
    skip: assign(u.skip), countDuplicate: assign(u.countDuplicate), opened: assign(u.opened), closed: assign(u.closed),
    resetCursor: assign(u.resetCursor), retrying: assign(u.retrying), recordDiagnostic: assign(u.recordDiagnostic), recordInvalid: assign(u.recordInvalid),
    countDispatch: assign(u.countDispatch), markDispatched: assign(u.markDispatched), giveUpDispatch: assign(u.giveUpDispatch),
    skipInvalid: assign(u.skipInvalid), countReply: assign(u.countReply), replied: assign(u.replied), giveUpReply: assign(u.giveUpReply),
    enqueueCommand: assign(u.enqueueCommand), commandDone: assign(u.commandDone), countReconnect: assign(u.countReconnect),
  },
}).createMachine({
  id: 'connection',
  context: ({ input }) => initialConnectionContext(input),
  initial: 'registering',
  output: ({ context }) => ({ reason: context.reason, lastError: context.lastError, cursor: context.cursor, counts: context.counts }),
  on: {
    'connection.close': { target: '.offline', actions: 'closeOffline' },
    'connection.command': { actions: 'enqueueCommand' },
    'connection.message': [
      { guard: 'duplicate', actions: 'countDuplicate' },
      { guard: 'skipOnce', actions: 'skip' },
      { actions: 'accept' },
    ],
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
                onError: [{ guard: 'transient', target: 'backoff', actions: 'heartbeatFailed' }, { target: 'stopped', actions: 'stopHeartbeat' }],
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
                  connectionId: context.connectionId, target: context.target, cursor: context.cursor, registration: context.registration, reconnects: context.reconnects,
                }),
                onDone: [{ guard: 'batchMode', target: 'draining' }, { target: '#connection.reconnecting' }],
                onError: [
                  { guard: 'transient', target: '#connection.reconnecting', actions: 'recordError' },
                  { target: '#connection.failed', actions: 'failReceive' },
                ],
              },
            },
            draining: { always: { guard: 'drained', target: 'listening' } },
          },
        },
        dispatch: {
          initial: 'idle',
          states: {
            idle: {
              always: [
                { guard: 'hasPendingReply', target: 'replying' },
                { guard: 'headInvalid', target: 'skipping' },
                { guard: 'hasQueue', target: 'dispatching' },
              ],
            },
            skipping: { entry: 'skipInvalid', always: 'idle' },
            dispatching: {
              entry: 'countDispatch',
              on: { 'message.dispatched': { guard: 'dispatchedHead', target: 'idle', actions: 'markDispatched' } },
              invoke: {
                id: 'dispatch',
                src: 'dispatch',
                input: ({ context }) => ({
                  connectionId: context.connectionId, target: context.target, message: context.queue[0],
                  idempotencyKey: `${context.connectionId}:${context.queue[0].id}`, attempt: context.dispatchAttempts,
                }),
                onDone: { target: 'idle', actions: 'markDispatched' },
                onError: [{ guard: 'dispatchRetryable', target: 'backoff', actions: 'recordError' }, { target: 'idle', actions: 'giveUpDispatch' }],
              },
            },
            backoff: { after: { dispatchBackoff: 'dispatching' } },
            replying: {
              entry: 'countReply',
              invoke: {
                id: 'reply',
                src: 'reply',
                input: ({ context }) => ({
                  connectionId: context.connectionId, target: context.target, messageId: context.pendingReply!.messageId, to: context.pendingReply!.to,
                  body: context.pendingReply!.body, idempotencyKey: `${context.connectionId}:${context.pendingReply!.messageId}:reply`, attempt: context.replyAttempts,
                }),
                onDone: { target: 'idle', actions: 'replied' },
                onError: [{ guard: 'replyRetryable', target: 'replyBackoff', actions: 'recordError' }, { target: 'idle', actions: 'giveUpReply' }],
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
              invoke: {
                id: 'command',
                src: 'command',
                input: ({ context }) => ({
                  connectionId: context.connectionId, target: context.target, command: context.commands[0], idempotencyKey: `${context.connectionId}:c${context.counts.commands + 1}`,
                }),
                onDone: { target: 'idle', actions: 'commandDone' },
                onError: { target: 'idle', actions: ['recordError', 'commandDone'] },
              },
            },
          },
        },
      },
    },
    reconnecting: {
      entry: 'countReconnect',
      always: { guard: 'reconnectsExhausted', target: 'failed', actions: 'failReconnects' },
      after: { reconnectBackoff: 'online' },
    },
    offline: { type: 'final' },
    failed: { type: 'final' },
  },
});

/** The connection machine's type, with any binding provided. */
export type ConnectionMachine = typeof connectionMachine;

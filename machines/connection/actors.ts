import { Observable } from 'rxjs';
import { createActor, fromEventObservable, type AnyActorLogic } from 'xstate';
import type { ConnectionMessage, ConnectionWireEvent, DispatchInput } from './events.ts';
import type { ConnectionLogic } from './machine.ts';

/**
 * An async request as a connection actor: runs `run(input, signal)`, sends the events it returns
 * to the machine, then completes; a rejection fails the actor (the machine sees
 * `xstate.error.actor.<id>` and classifies the error by its `code`). Stopping the actor aborts `signal`.
 *
 * @example
 * ```ts
 * heartbeat: fromRequest(async (input, signal) => { await client.heartbeat({ signal }); }),
 * ```
 */
export function fromRequest<TInput>(run: (input: TInput, signal: AbortSignal) => Promise<ConnectionWireEvent[] | void>): ConnectionLogic<TInput> {
  return fromEventObservable<ConnectionWireEvent, TInput>(
    ({ input }) =>
      new Observable<ConnectionWireEvent>((subscriber) => {
        const abort = new AbortController();
        run(input, abort.signal).then(
          (events) => {
            for (const event of events ?? []) subscriber.next(event);
            subscriber.complete();
          },
          (err: unknown) => {
            if (!abort.signal.aborted) subscriber.error(err);
          },
        );
        return () => abort.abort();
      }),
  );
}

/** What a backend gets with each message: its idempotency key (stable across re-runs after a crash) and an AbortSignal. */
export interface DispatchContext {
  idempotencyKey: string;
  /** 1 for the first attempt of this message in this run, 2 after a failure… */
  attempt: number;
  signal: AbortSignal;
}

/** A backend as an async function: the reply (JSON) to send back, or undefined for none. */
export type BackendFunction<TMessage, TReply> = (message: TMessage, context: DispatchContext) => Promise<TReply | undefined | void>;

/**
 * A backend: an async function, or any XState actor logic (`fromPromise`, a machine…) started with
 * input `{ message, idempotencyKey }` whose output is the reply.
 */
export type Backend<TMessage, TReply> = BackendFunction<TMessage, TReply> | AnyActorLogic;

const isActorLogic = (value: unknown): value is AnyActorLogic =>
  typeof value === 'object' && value !== null && typeof (value as { transition?: unknown }).transition === 'function';

/**
 * The `dispatch` actor for a backend: hands `input.message` (mapped by `toMessage`) to it with the
 * idempotency key, and when it answers, sends `message.dispatched { messageId, reply }` whose
 * `meta.cursor` is the message's cursor: the event that moves the connection's cursor. A backend
 * failure fails the actor (retried by the machine, then given up and recorded).
 *
 * @example
 * ```ts
 * dispatch: backendDispatch(async (msg, { idempotencyKey }) => ({ text: `pong to ${msg.text}` }), { toMessage: (m) => m.body }),
 * ```
 */
export function backendDispatch<TMessage, TReply>(
  backend: Backend<TMessage, TReply>,
  options: { toMessage: (message: ConnectionMessage) => TMessage; toReply?: (reply: TReply, input: DispatchInput) => unknown },
): ConnectionLogic<DispatchInput> {
  return fromEventObservable<ConnectionWireEvent, DispatchInput>(
    ({ input }) =>
      new Observable<ConnectionWireEvent>((subscriber) => {
        const abort = new AbortController();
        const message = options.toMessage(input.message);
        const done = (reply: TReply | undefined | void) => {
          const body = reply === undefined || reply === null ? undefined : options.toReply ? options.toReply(reply as TReply, input) : reply;
          const cursor = input.message.cursor;
          const event: ConnectionWireEvent = {
            type: 'message.dispatched',
            messageId: input.message.id,
            meta: cursor === undefined ? { source: 'child' } : { source: 'child', cursor },
          };
          subscriber.next(body === undefined ? event : { ...event, reply: body });
          subscriber.complete();
        };
        if (isActorLogic(backend)) {
          const actor = createActor(backend, { input: { message, idempotencyKey: input.idempotencyKey } });
          const sub = actor.subscribe({
            next: (snapshot) => {
              if (snapshot.status === 'done') done(snapshot.output as TReply);
            },
            error: (err) => subscriber.error(err),
          });
          actor.start();
          return () => {
            sub.unsubscribe();
            actor.stop();
          };
        }
        backend(message, { idempotencyKey: input.idempotencyKey, attempt: input.attempt, signal: abort.signal }).then(done, (err: unknown) => {
          if (!abort.signal.aborted) subscriber.error(err);
        });
        return () => abort.abort();
      }),
  );
}

import { Observable } from 'rxjs';
import { fromEventObservable } from 'xstate';
import { describeError, isActorlogError, textOf } from '../../src/errors.ts';
import { poll } from '../../src/sources/poll/poll.ts';
import { backendDispatch, fromRequest } from '../connection/actors.ts';
import type { ConnectionActors } from '../connection/machine.ts';
import type { ConnectionWireEvent, ReceiveInput, WireMeta } from '../connection/events.ts';
import { createMoleculeClient, type MoleculeClient } from './client.ts';
import { validateMoleculeBinding, type MoleculeBindingOptions, type MoleculeTarget } from './options.ts';
import { replyEnvelope, rowToConnectionMessage, rowToMoleculeMessage, type ActivityItem, type MoleculeReply } from './schemas.ts';

const POLL: WireMeta = { source: 'poll' };
const target = (t: Record<string, unknown>) => t as unknown as MoleculeTarget;

/** The events of one activity answer: each row a message (or an invalid item), in order. No cursor in meta: the cursor moves at dispatch. */
function rowEvents(items: ActivityItem[]): ConnectionWireEvent[] {
  return items.map((item): ConnectionWireEvent =>
    item.ok
      ? { type: 'connection.message', message: rowToConnectionMessage(item.row), meta: POLL }
      : { type: 'connection.invalid', raw: item.raw, error: item.error, ...(item.id ? { messageId: item.id, cursor: item.id } : {}), meta: POLL },
  );
}

/**
 * The receive actor: polls activity since `input.cursor` every `pollIntervalMs` until an answer
 * has rows, sends them, and completes (the machine dispatches them, then polls again from the new
 * cursor). Transient failures (network, 5xx) are retried for ever by default, backing off up to
 * `maxRetryDelayMs` (60 s, seed 003), each sent as `connection.retry`;
 * HTTP 410 (the cursor was pruned) sends `connection.cursorReset` and completes, so the next poll
 * starts with no cursor (seed 003: "410 on cursor lookup -> reset to "" and re-fetch"); a body that
 * is not an activity array is sent as `connection.invalid` and the poll goes on.
 */
function receive(client: MoleculeClient, options: MoleculeBindingOptions) {
  return fromEventObservable<ConnectionWireEvent, ReceiveInput>(
    ({ input }) =>
      new Observable<ConnectionWireEvent>((subscriber) => {
        const t = target(input.target);
        let opened = input.reconnects === 0;
        const sub = poll(
          async ({ signal }) => {
            try {
              return { items: await client.activity(t.workspaceId, input.cursor, t.limit, { signal }) };
            } catch (err) {
              if (isActorlogError(err, 'INVALID_PAYLOAD'))
                return { invalid: { raw: textOf(err.details?.raw ?? ''), error: textOf(err.details?.error ?? err.message) } };
              throw err;
            }
          },
          {
            intervalMs: t.pollIntervalMs,
            until: (answer) => answer.items !== undefined && answer.items.length > 0,
            maxAttempts: t.maxPollFailures ?? Infinity,
            baseMs: t.retryDelayMs,
            capMs: t.maxRetryDelayMs ?? 60_000,
            scheduler: options.scheduler,
            onRetry: ({ error, attempt, delayMs }) => subscriber.next({ type: 'connection.retry', error: describeError(error), attempt, delayMs, meta: POLL }),
          },
        ).subscribe({
          next: (answer) => {
            if (!opened) {
              opened = true;
              subscriber.next({ type: 'connection.opened', meta: POLL });
            }
            if (answer.invalid) subscriber.next({ type: 'connection.invalid', ...answer.invalid, meta: POLL });
            else for (const event of rowEvents(answer.items)) subscriber.next(event);
          },
          error: (err: unknown) => {
            if (input.cursor && isActorlogError(err, 'PERMANENT') && err.details?.status === 410) {
              subscriber.next({ type: 'connection.cursorReset', reason: `since_id ${input.cursor} was pruned (HTTP 410)`, meta: POLL });
              subscriber.complete();
            } else {
              subscriber.error(err);
            }
          },
          complete: () => subscriber.complete(),
        });
        return () => sub.unsubscribe();
      }),
  );
}

/**
 * The molecule binding's actors for the generic connection machine (seed 003 `molecule connect`):
 * - `register`: POST /registry/register (poll delivery mode);
 * - `heartbeat`: POST /registry/heartbeat;
 * - `receive`: the activity poll with `since_id` (see above);
 * - `dispatch`: the backend, one message at a time, with the idempotency key `<connectionId>:<rowId>`;
 *   its reply becomes an A2A `message/send` envelope;
 * - `reply`: POST the envelope to /workspaces/<source>/a2a;
 * - `command`: none in this protocol (fails `PERMANENT`).
 * Failures are ActorlogErrors (`TRANSIENT`, `PERMANENT` with `details.status`) the machine retries or fails on.
 *
 * @throws ActorlogError `INVALID_OPTIONS` at once (before any I/O) for a bad URL, no token or no backend
 * @example
 * ```ts
 * const machine = connectionMachine.provide({ actors: moleculeConnectionActors({ apiUrl, token, backend }) });
 * ```
 */
export function moleculeConnectionActors(options: MoleculeBindingOptions): ConnectionActors {
  validateMoleculeBinding(options);
  const client = createMoleculeClient({
    apiUrl: options.apiUrl,
    token: options.token,
    dispatcher: options.dispatcher,
    timeoutMs: options.timeoutMs,
    maxBodyBytes: options.maxBodyBytes,
    scheduler: options.scheduler,
  });
  return {
    register: fromRequest(async (input, signal) => {
      await client.register(target(input.target).workspaceId, target(input.target).agentName, { signal });
      return [{ type: 'connection.registered' }];
    }),
    heartbeat: fromRequest(async (input, signal) => {
      await client.heartbeat(target(input.target).workspaceId, { signal });
    }),
    receive: receive(client, options),
    dispatch: backendDispatch<ReturnType<typeof rowToMoleculeMessage>, MoleculeReply>(options.backend, {
      toMessage: rowToMoleculeMessage,
      toReply: (reply, input) =>
        replyEnvelope(reply, { idempotencyKey: input.idempotencyKey, inReplyTo: input.message.id, fromWorkspaceId: target(input.target).workspaceId }),
    }),
    reply: fromRequest(async (input, signal) => {
      await client.replyA2A(input.to, input.body, { signal });
    }),
    command: fromRequest(async () => {
      throw Object.assign(new Error('molecule connections take no commands'), { code: 'PERMANENT' });
    }),
  };
}

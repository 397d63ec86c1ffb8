import { catchError, concat, defer, map, Observable, of, takeWhile, throwError } from 'rxjs';
import { fromEventObservable } from 'xstate';
import { ActorlogError, isActorlogError, textOf } from '../../src/errors.ts';
import { fromCall } from '../../src/transport/fromCall.ts';
import { notDelivered } from '../../src/transport/outcome.ts';
import type { CancelInput, FollowInput, JobInvalidEvent, JobUpdate, JobWireEvent, PollInput, ReplyInput, SubmitInput, WireMeta } from '../job/events.ts';
import { createA2AClient, type A2AClient, type A2AClientOptions, type SendMessageArgs } from './client.ts';
import { messageToJobUpdate, streamResultToJobUpdate, taskToJobUpdate, TERMINAL_JOB_STATES, type A2ASendResult } from './schemas.ts';
import { invalidRecord, recordInvalidThenFail, type WireLogic } from '../../src/binding/index.ts';
import { notOurTask, notOurTaskError } from './ownTask.ts';

/** An XState actor logic that sends {@link JobWireEvent}s to its parent, then completes. */
export type JobWireLogic<TInput> = WireLogic<JobWireEvent, TInput>;

/** The five actor logics a job machine invokes for an A2A agent. */
export interface A2AJobActors {
  submit: JobWireLogic<SubmitInput>;
  follow: JobWireLogic<FollowInput>;
  poll: JobWireLogic<PollInput>;
  reply: JobWireLogic<ReplyInput>;
  cancel: JobWireLogic<CancelInput>;
}

/** A2A v0.3 §8.2 UnsupportedOperationError: tasks/resubscribe answers it for a task already terminal. */
const UNSUPPORTED_OPERATION = -32004;

/** The `job.invalid` event for an INVALID_PAYLOAD error: raw text (<= 4 KiB) and the reason (binding kit). */
const invalidEvent = (err: unknown, meta?: WireMeta): JobInvalidEvent | undefined =>
  isActorlogError(err, 'INVALID_PAYLOAD') ? (invalidRecord('job.invalid', err, meta) as JobInvalidEvent) : undefined;

/** On INVALID_PAYLOAD: emit `job.invalid`, then fail with the same error. Other errors pass through (binding kit). */
const invalidThenFail = recordInvalidThenFail<JobWireEvent>('job.invalid');
/** Records an OUTCOME_UNKNOWN error that kept the raw answer (`details.raw`) as `job.invalid`, then fails with it. */
const invalidThenFailAlways = recordInvalidThenFail<JobWireEvent>('job.invalid', { source: 'child' });

/** Re-sends of the same messageId after an unreadable message/send answer, before the outcome is called unknown. */
export const SEND_LOOKUPS = 2;

/** Options of {@link a2aJobActors}: the client's, and whether the agent takes `messageId` as an idempotency key. */
export interface A2ABindingOptions extends A2AClientOptions {
  /**
   * The agent answers a `message/send` whose `messageId` it has seen with the task it made for it,
   * creating nothing (A2A v0.3 lets agents use `messageId` so; the `@a2a-js/sdk` request handler
   * does not). When true, a message/send whose answer was lost or unreadable is sent again with the
   * same `messageId` to find its task. When false, such a send ends the job `OUTCOME_UNKNOWN` at
   * once, never sent twice. @default false
   */
  dedupesMessageId?: boolean;
}

/**
 * message/send, and when its answer cannot be read (INVALID_PAYLOAD: cut short, not JSON, off
 * schema) although the agent may have made the task: record `job.invalid`, then send the same
 * `messageId` again, up to {@link SEND_LOOKUPS} times. A2A v0.3 has no lookup by messageId; the
 * messageId is the agent's idempotency key (the example agent answers a known one with the existing
 * task, creating nothing), so the re-send finds the task and the job follows it. A TRANSIENT
 * failure passes through (the job machine re-sends the same messageId after its backoff: the same
 * lookup). When no re-send gives a readable answer: `OUTCOME_UNKNOWN`, naming the messageId, and
 * nothing more is sent.
 */
function sendFindingTask(
  client: A2AClient,
  args: SendMessageArgs,
  toEvent: (result: A2ASendResult) => JobWireEvent,
  dedupes: boolean,
): Observable<JobWireEvent> {
  const attempt = (lookups: number, first?: ActorlogError): Observable<JobWireEvent> =>
    fromCall((o) => client.sendMessage(args, o)).pipe(
      map(toEvent),
      catchError((err: unknown): Observable<JobWireEvent> => {
        const invalid = invalidEvent(err);
        if (!dedupes) {
          // An agent that does not take messageId as a key would make a second task: a lost or unreadable answer is an unknown outcome.
          const lost = isActorlogError(err, 'TRANSIENT') && !notDelivered(err);
          if (!invalid && !lost) return throwError(() => err);
          const unknown = outcomeUnknown(args, err as ActorlogError, err, 0);
          return invalid
            ? concat(
                of(invalid),
                throwError(() => unknown),
              )
            : throwError(() => unknown);
        }
        if (first === undefined && !invalid) return throwError(() => err);
        const firstError = first ?? (err as ActorlogError);
        const unreadable = isActorlogError(err, 'INVALID_PAYLOAD');
        if (!unreadable && (isActorlogError(err, 'TRANSIENT') || isActorlogError(err, 'ABORTED'))) return throwError(() => err);
        const next = unreadable && lookups < SEND_LOOKUPS ? attempt(lookups + 1, firstError) : throwError(() => outcomeUnknown(args, firstError, err, lookups));
        return invalid ? concat(of(invalid), next) : next;
      }),
    );
  return attempt(0);
}

function outcomeUnknown(args: SendMessageArgs, first: ActorlogError, last: unknown, lookups: number): ActorlogError {
  const what = args.taskId ? `the reply to task "${args.taskId}"` : 'a task for this message';
  const lastReason = isActorlogError(last) ? last.message : String(last);
  return new ActorlogError(
    'OUTCOME_UNKNOWN',
    `A2A message/send: the answer for messageId "${args.messageId}" could not be read (${textOf(first.details?.error ?? first.message).slice(0, 200)}), ` +
      `and ${lookups} re-send(s) of the same messageId did not give a readable answer (last: ${lastReason.slice(0, 200)}): the agent may hold ${what}; not sent again` +
      (lookups === 0 ? ' (the agent is not declared to take messageId as an idempotency key: dedupesMessageId)' : ''),
    {
      cause: last,
      details: { method: 'message/send', messageId: args.messageId, ...(args.taskId ? { taskId: args.taskId } : {}), lookups, raw: first.details?.raw },
    },
  );
}

/** The frame number after `cursor` (`<taskId>:<n>`), so cursors keep increasing across resubscriptions. */
function nextFrameIndex(remoteId: string, cursor?: string): number {
  const n = cursor?.startsWith(`${remoteId}:`) ? Number(cursor.slice(remoteId.length + 1)) : NaN;
  return Number.isInteger(n) && n >= 0 ? n + 1 : 0;
}

function follow(client: A2AClient, input: FollowInput): Observable<JobWireEvent> {
  return defer(() => {
    let index = nextFrameIndex(input.remoteId, input.cursor);
    let frames = 0;
    let last: JobUpdate | undefined;
    const stream = client.resubscribe(input.remoteId).pipe(
      map((frame): JobWireEvent => {
        frames += 1;
        const meta: WireMeta = { source: 'sse', cursor: `${input.remoteId}:${index++}` };
        if (!frame.ok) return { type: 'job.invalid', raw: frame.raw, error: frame.error, meta };
        last = streamResultToJobUpdate(frame.value, last);
        return { type: 'job.update', update: last, meta };
      }),
      takeWhile((event) => !(event.type === 'job.update' && event.update.final), true),
    );
    return stream.pipe(
      catchError((err: unknown) => {
        // The task ended before we (re)subscribed: report its final state from one tasks/get.
        const refused = frames === 0 && isActorlogError(err, 'PERMANENT') && err.details?.rpcCode === UNSUPPORTED_OPERATION;
        if (!refused) return throwError(() => err);
        return fromCall((o) => client.getTask(input.remoteId, o)).pipe(
          map((task): JobWireEvent => {
            const update = taskToJobUpdate(task);
            if (!TERMINAL_JOB_STATES.has(update.state)) throw err;
            return { type: 'job.update', update, meta: { source: 'poll', cursor: input.remoteId } };
          }),
        );
      }),
      // an answer the client could not read (an event over the parser's bound, a tasks/get over maxBodyBytes): recorded raw, then the follower fails
      catchError(recordInvalidThenFail<JobWireEvent>('job.invalid', { source: 'sse' })),
    );
  });
}

/**
 * The A2A binding's actors for the generic job machine, each made with XState's `fromEventObservable`:
 * it sends JSON-safe {@link JobWireEvent}s to its parent, then completes. A failure is an observable
 * error, so the parent receives `xstate.error.actor.<id>` with an {@link ActorlogError}
 * (`TRANSIENT`, `PERMANENT`, `INVALID_PAYLOAD`, `OUTCOME_UNKNOWN`, `ABORTED`; record it with `describeError`).
 * Stopping an actor aborts its request. Secrets in `options.headers` stay in this closure, never in
 * inputs, events or errors.
 *
 * - `submit`: message/send (§7.1, blocking false, `messageId` = `input.messageId`, the agent's
 *   idempotency key) -> `job.accepted { remoteId: task.id, update }`. A direct Message answer is
 *   accepted as completed (remoteId = its taskId, else the messageId). An unreadable answer (the
 *   task may exist) -> `job.invalid`; with `dedupesMessageId`, the same messageId is sent again to
 *   find the task (up to {@link SEND_LOOKUPS} times), and a lost answer is re-sent by the job
 *   machine; without it (the default), either is `OUTCOME_UNKNOWN` naming the messageId, never sent twice.
 * - `follow`: tasks/resubscribe (§7.9) -> one `job.update` per frame, `meta { source: 'sse', cursor:
 *   '<taskId>:<n>' }`, n continuing after `input.cursor`; the first frame of every subscription is a
 *   full Task snapshot (artifacts replace, not append). Malformed frames -> `job.invalid` and the
 *   stream goes on. Completes after a `final` frame or when the server closes the stream (it closes
 *   at input-required without `final`). A task already terminal -> one `job.update` from tasks/get
 *   (`source: 'poll'`).
 * - `poll`: tasks/get (§7.3) -> one `job.update` (or `job.invalid`), `meta { source: 'poll', cursor: taskId }`.
 * - `reply`: message/send on `input.remoteId` with `input.messageId` -> `job.update` (an unreadable
 *   answer: re-sent with the same messageId, as for `submit`).
 * - `cancel`: tasks/cancel (§7.4) -> `job.update` (normally `canceled`); a terminal task -> PERMANENT.
 * `cancel` emits `job.invalid` before failing with INVALID_PAYLOAD. Calls and the stream fail
 * TRANSIENT after `stallTimeoutMs` (45 s) without a byte (the job machine retries, resubscribes or polls).
 *
 * @example
 * ```ts
 * const jobMachine = setup({ actors: a2aJobActors({ url, headers }) }).createMachine({ ... });
 * // invoke: { id: 'follow', src: 'follow', input: ({ context }) => ({ jobId, remoteId, cursor }) }
 * ```
 */
export function a2aJobActors(options: A2ABindingOptions): A2AJobActors {
  const client = createA2AClient(options);
  const dedupes = options.dedupesMessageId === true;
  return {
    submit: fromEventObservable<JobWireEvent, SubmitInput>(({ input }) => {
      const args = { messageId: input.messageId, text: input.request.text, data: input.request.data };
      return sendFindingTask(
        client,
        args,
        (result) => {
          if (result.kind !== 'task') return { type: 'job.accepted', remoteId: result.taskId ?? input.messageId, update: messageToJobUpdate(result) };
          const foreign = notOurTask(result, args);
          if (foreign) throw notOurTaskError(foreign, result, input.messageId);
          return { type: 'job.accepted', remoteId: result.id, update: taskToJobUpdate(result) };
        },
        dedupes,
      ).pipe(
        // another's task: recorded raw as job.invalid, then the job ends OUTCOME_UNKNOWN
        catchError((err: unknown) => (isActorlogError(err) && err.details?.notOurTask === true ? invalidThenFailAlways(err) : throwError(() => err))),
      );
    }),
    follow: fromEventObservable<JobWireEvent, FollowInput>(({ input }) => follow(client, input)),
    poll: fromEventObservable<JobWireEvent, PollInput>(({ input }) => {
      const meta: WireMeta = { source: 'poll', cursor: input.remoteId };
      return fromCall((o) => client.getTask(input.remoteId, o)).pipe(
        map((task): JobWireEvent => ({ type: 'job.update', update: taskToJobUpdate(task), meta })),
        catchError((err: unknown) => {
          const e = invalidEvent(err, meta);
          if (!e) return throwError(() => err);
          // An answer over maxBodyBytes will be as large at every poll: recorded once, then the job ends with the error (never a silent wait).
          const tooLarge = isActorlogError(err) && err.details?.reason === 'too-large';
          return tooLarge
            ? concat(
                of(e),
                throwError(() => err),
              )
            : of(e);
        }),
      );
    }),
    reply: fromEventObservable<JobWireEvent, ReplyInput>(({ input }) =>
      sendFindingTask(
        client,
        { messageId: input.messageId, text: input.text, taskId: input.remoteId },
        (result) => ({
          type: 'job.update',
          update: result.kind === 'task' ? taskToJobUpdate(result) : messageToJobUpdate(result),
        }),
        dedupes,
      ),
    ),
    cancel: fromEventObservable<JobWireEvent, CancelInput>(({ input }) =>
      fromCall((o) => client.cancelTask(input.remoteId, o)).pipe(
        map((task): JobWireEvent => ({ type: 'job.update', update: taskToJobUpdate(task) })),
        catchError(invalidThenFail),
      ),
    ),
  };
}

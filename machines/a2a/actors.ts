import { catchError, concat, defer, map, Observable, of, takeWhile, throwError } from 'rxjs';
import { fromEventObservable, type ObservableActorLogic } from 'xstate';
import { isActorlogError } from '../../src/errors.ts';
import { fromCall } from '../../src/transport/fromCall.ts';
import type {
  CancelInput, FollowInput, JobInvalidEvent, JobUpdate, JobWireEvent, PollInput, ReplyInput, SubmitInput, WireMeta,
} from '../job/events.ts';
import { createA2AClient, type A2AClient, type A2AClientOptions, type CallOptions } from './client.ts';
import { messageToJobUpdate, streamResultToJobUpdate, taskToJobUpdate, TERMINAL_JOB_STATES } from './schemas.ts';

/** An XState actor logic that sends {@link JobWireEvent}s to its parent, then completes. */
export type JobWireLogic<TInput> = ObservableActorLogic<JobWireEvent, TInput>;

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

/** The `job.invalid` event for an INVALID_PAYLOAD error: raw text (<= 4 KiB) and the reason, plain JSON. */
function invalidEvent(err: unknown, meta?: WireMeta): JobInvalidEvent | undefined {
  if (!isActorlogError(err, 'INVALID_PAYLOAD')) return undefined;
  const event: JobInvalidEvent = { type: 'job.invalid', raw: String(err.details?.raw ?? ''), error: err.message };
  return meta ? { ...event, meta } : event;
}

/** On INVALID_PAYLOAD: emit `job.invalid`, then fail with the same error. Other errors pass through. */
function invalidThenFail(err: unknown): Observable<JobWireEvent> {
  const event = invalidEvent(err);
  return event ? concat(of(event), throwError(() => err)) : throwError(() => err);
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
    return stream.pipe(catchError((err: unknown) => {
      // The task ended before we (re)subscribed: report its final state from one tasks/get.
      const refused = frames === 0 && isActorlogError(err, 'PERMANENT') && err.details?.rpcCode === UNSUPPORTED_OPERATION;
      if (!refused) return throwError(() => err);
      return fromCall((o) => client.getTask(input.remoteId, o)).pipe(map((task): JobWireEvent => {
        const update = taskToJobUpdate(task);
        if (!TERMINAL_JOB_STATES.has(update.state)) throw err;
        return { type: 'job.update', update, meta: { source: 'poll', cursor: input.remoteId } };
      }));
    }));
  });
}

/**
 * The A2A binding's actors for the generic job machine, each made with XState's `fromEventObservable`:
 * it sends JSON-safe {@link JobWireEvent}s to its parent, then completes. A failure is an observable
 * error, so the parent receives `xstate.error.actor.<id>` with an {@link ActorlogError}
 * (`TRANSIENT`, `PERMANENT`, `INVALID_PAYLOAD`, `ABORTED`; record it with `describeError`).
 * Stopping an actor aborts its request. Secrets in `options.headers` stay in this closure, never in
 * inputs, events or errors.
 *
 * - `submit`: message/send (§7.1, blocking false, `messageId` = `input.messageId`, the agent's
 *   idempotency key) -> `job.accepted { remoteId: task.id, update }`. A direct Message answer is
 *   accepted as completed (remoteId = its taskId, else the messageId).
 * - `follow`: tasks/resubscribe (§7.9) -> one `job.update` per frame, `meta { source: 'sse', cursor:
 *   '<taskId>:<n>' }`, n continuing after `input.cursor`; the first frame of every subscription is a
 *   full Task snapshot (artifacts replace, not append). Malformed frames -> `job.invalid` and the
 *   stream goes on. Completes after a `final` frame or when the server closes the stream (it closes
 *   at input-required without `final`). A task already terminal -> one `job.update` from tasks/get
 *   (`source: 'poll'`).
 * - `poll`: tasks/get (§7.3) -> one `job.update` (or `job.invalid`), `meta { source: 'poll', cursor: taskId }`.
 * - `reply`: message/send on `input.remoteId` with `input.messageId` -> `job.update`.
 * - `cancel`: tasks/cancel (§7.4) -> `job.update` (normally `canceled`); a terminal task -> PERMANENT.
 * `submit`, `reply` and `cancel` emit `job.invalid` before failing with INVALID_PAYLOAD.
 *
 * @example
 * ```ts
 * const jobMachine = setup({ actors: a2aJobActors({ url, headers }) }).createMachine({ ... });
 * // invoke: { id: 'follow', src: 'follow', input: ({ context }) => ({ jobId, remoteId, cursor }) }
 * ```
 */
export function a2aJobActors(options: A2AClientOptions): A2AJobActors {
  const client = createA2AClient(options);
  return {
    submit: fromEventObservable<JobWireEvent, SubmitInput>(({ input }) =>
      fromCall((o) => client.sendMessage({ messageId: input.messageId, text: input.request.text, data: input.request.data }, o)).pipe(
        map((result): JobWireEvent => result.kind === 'task'
          ? { type: 'job.accepted', remoteId: result.id, update: taskToJobUpdate(result) }
          : { type: 'job.accepted', remoteId: result.taskId ?? input.messageId, update: messageToJobUpdate(result) }),
        catchError(invalidThenFail),
      )),
    follow: fromEventObservable<JobWireEvent, FollowInput>(({ input }) => follow(client, input)),
    poll: fromEventObservable<JobWireEvent, PollInput>(({ input }) => {
      const meta: WireMeta = { source: 'poll', cursor: input.remoteId };
      return fromCall((o) => client.getTask(input.remoteId, o)).pipe(
        map((task): JobWireEvent => ({ type: 'job.update', update: taskToJobUpdate(task), meta })),
        catchError((err: unknown) => { const e = invalidEvent(err, meta); return e ? of(e) : throwError(() => err); }),
      );
    }),
    reply: fromEventObservable<JobWireEvent, ReplyInput>(({ input }) =>
      fromCall((o) => client.sendMessage({ messageId: input.messageId, text: input.text, taskId: input.remoteId }, o)).pipe(
        map((result): JobWireEvent => ({
          type: 'job.update', update: result.kind === 'task' ? taskToJobUpdate(result) : messageToJobUpdate(result),
        })),
        catchError(invalidThenFail),
      )),
    cancel: fromEventObservable<JobWireEvent, CancelInput>(({ input }) =>
      fromCall((o) => client.cancelTask(input.remoteId, o)).pipe(
        map((task): JobWireEvent => ({ type: 'job.update', update: taskToJobUpdate(task) })),
        catchError(invalidThenFail),
      )),
  };
}

import { catchError, defer, map, of, throwError } from 'rxjs';
import { fromEventObservable } from 'xstate';
import { ActorlogError, isActorlogError } from '../../src/errors.ts';
import type { WebhookReceiver } from '../../src/sources/webhook/index.ts';
import type { CancelInput, FollowInput, JobRequest, JobWireEvent, PollInput, ReplyInput, SubmitInput, WireMeta } from '../job/events.ts';
import { createForemanClient, FOREMAN_MAX_BODY_BYTES, type ForemanClient, type ForemanClientOptions, type ForemanJobSubmission } from './client.ts';
import { fromCall } from '../../src/transport/fromCall.ts';
import { followForemanJob, type ForemanDiagnostic, type ForemanFollowOptions } from './follow.ts';
import { recordInvalidThenFail, type WireLogic } from '../../src/binding/index.ts';
import { statusToJobUpdate, type ForemanSubmitRequest } from './schemas.ts';
import { createdAtOf, otherJobReason } from './identity.ts';
import { keepRaw } from '../../src/transport/classify.ts';

/** An XState actor logic that sends {@link JobWireEvent}s to its parent, then completes. */
export type ForemanWireLogic<TInput> = WireLogic<JobWireEvent, TInput>;

/** The five actor logics the job machine invokes, for a foreman daemon. */
export interface ForemanJobActors {
  submit: ForemanWireLogic<SubmitInput>;
  follow: ForemanWireLogic<FollowInput>;
  poll: ForemanWireLogic<PollInput>;
  reply: ForemanWireLogic<ReplyInput>;
  cancel: ForemanWireLogic<CancelInput>;
}

/** Options of {@link foremanJobActors}: the client's, plus how jobs are followed. */
export interface ForemanBindingOptions extends ForemanClientOptions, Pick<ForemanFollowOptions, 'safetyPollIntervalMs'> {
  /**
   * The system's webhook receiver (`createWebhookReceiver`, already `listen()`ed). Jobs submitted
   * while it listens get `state_webhook_url = receiver.urlFor(jobId)` and are followed by webhook;
   * without one, or when it could not bind, they are followed by polling. Its body bound is raised
   * to `maxBodyBytes` (128 MiB), so a webhook carrying a big result is read, not refused 413.
   */
  receiver?: WebhookReceiver;
  /** Never give the daemon a webhook URL; poll every job (seed 000 `WithPollingMode`: behind NAT or a firewall). @default false */
  polling?: boolean;
  /** Told about webhooks dropped as duplicates or stale (not logged: they change nothing). */
  onDiagnostic?: (d: ForemanDiagnostic) => void;
  /**
   * Time between two GET /jobs/{id} of a polled job, ms (seed 000 `WithPollInterval`, default 2 s).
   * A job's own `pollIntervalMs` input takes precedence. @default 2000
   */
  pollIntervalMs?: number;
  /**
   * The header the daemon signs webhooks in (`sha256=<hex>`); it must be the receiver's
   * (`createWebhookReceiver({ signature: { header } })`), or the binding refuses the receiver.
   * @default {@link FOREMAN_SIGNATURE_HEADER}
   */
  signatureHeader?: string;
}

/**
 * The header foreman daemons sign state webhooks in (`x-foreman-signature: sha256=<hex>`), also
 * the webhook receiver's default (`DEFAULT_SIGNATURE_SCHEME`; a unit test holds them equal). Seed 000 verifies "HMAC-SHA256 on received events" but does
 * not show the header's name; this is the one the foreman test daemon (test/servers/foreman.ts) uses.
 */
export const FOREMAN_SIGNATURE_HEADER = 'x-foreman-signature';

/** Default of {@link ForemanBindingOptions.pollIntervalMs}: 2 s (seed 000 `New`: `pollInterval: 2 * time.Second`). */
export const FOREMAN_POLL_INTERVAL_MS = 2000;

/**
 * A foreman submit request as the job machine's {@link JobRequest}: `text` is the last message's
 * `content` (for people), `data` the whole request (what is POSTed).
 * @example
 * ```ts
 * system.spawn('job', { id, input: { jobId: id, request: foremanJobRequest({ model: 'llama3', messages: [{ role: 'user', content: 'hi' }] }) } });
 * ```
 */
export function foremanJobRequest(req: ForemanSubmitRequest): JobRequest {
  const lastMessage = req.messages.at(-1) as { content?: unknown } | undefined;
  return { text: typeof lastMessage?.content === 'string' ? lastMessage.content : '', data: { ...req } };
}

/**
 * The POST /jobs body of a job request (pure). `model` is required (seed 000 `Submit`: "model is
 * required", checked before any I/O); without `messages`, the request's text is one user message.
 * @throws ActorlogError `INVALID_OPTIONS` when `model` is missing
 */
export function foremanSubmitBody(request: JobRequest): ForemanSubmitRequest {
  const data = (request.data ?? {}) as Partial<ForemanSubmitRequest>;
  if (typeof data.model !== 'string' || data.model.length === 0)
    throw new ActorlogError('INVALID_OPTIONS', 'foreman: model is required', { details: { field: 'model' } });
  const body: ForemanSubmitRequest = { model: data.model, messages: Array.isArray(data.messages) ? data.messages : [{ role: 'user', content: request.text }] };
  for (const key of ['stream', 'tools', 'options', 'think'] as const)
    if (data[key] !== undefined) (body as unknown as Record<string, unknown>)[key] = data[key];
  return body;
}

/**
 * A 202 to POST /jobs whose body cannot be read: the daemon accepted a job whose id we never learnt,
 * and foreman has no way to look a job up by anything else (seed 000 `postJob` reads only `job_id`).
 * The job ends with `OUTCOME_UNKNOWN`, naming what is known, and is not submitted again. The error keeps
 * the payload's `details` (`raw`), so `job.invalid` still records the answer.
 */
function acceptedButUnreadable(err: unknown, messageId: string): unknown {
  if (!isActorlogError(err, 'INVALID_PAYLOAD')) return err;
  return new ActorlogError(
    'OUTCOME_UNKNOWN',
    `foreman accepted the job (202) but its answer could not be read, so its job_id is unknown: the daemon may hold a job for it (Idempotency-Key ${messageId}); it is not submitted again. ${err.message}`,
    {
      cause: err,
      details: { ...err.details, status: 202, idempotencyKey: messageId, remoteMayHoldJob: true },
    },
  );
}

/** Records an unreadable answer as `job.invalid` (with `meta`), then fails with the same error (binding kit). */
const invalidThenFail = (meta: WireMeta) => recordInvalidThenFail<JobWireEvent>('job.invalid', meta);

/**
 * Checks the binding's options before any job runs.
 * @throws ActorlogError `INVALID_OPTIONS` for a poll interval that is not a positive integer, or a
 *   receiver that reads signatures from another header than the daemon signs in (every signed
 *   webhook would be answered 401)
 */
function checkBindingOptions(options: ForemanBindingOptions): void {
  const interval = options.pollIntervalMs;
  if (interval !== undefined && (!Number.isInteger(interval) || interval < 1)) {
    throw new ActorlogError('INVALID_OPTIONS', `foreman: pollIntervalMs must be an integer >= 1 (got ${interval})`, { details: { option: 'pollIntervalMs' } });
  }
  const safety = options.safetyPollIntervalMs;
  if (safety !== undefined && safety !== Infinity && (!Number.isInteger(safety) || safety < 1)) {
    throw new ActorlogError('INVALID_OPTIONS', `foreman: safetyPollIntervalMs must be an integer >= 1 or Infinity (got ${safety})`, {
      details: { option: 'safetyPollIntervalMs' },
    });
  }
  const maxBody = options.maxBodyBytes;
  if (maxBody !== undefined && (!Number.isInteger(maxBody) || maxBody < 1)) {
    throw new ActorlogError('INVALID_OPTIONS', `foreman: maxBodyBytes must be an integer >= 1 (got ${maxBody})`, { details: { option: 'maxBodyBytes' } });
  }
  const header = (options.signatureHeader ?? FOREMAN_SIGNATURE_HEADER).toLowerCase();
  const theirs = options.receiver?.signature.header;
  if (!options.polling && theirs !== undefined && theirs !== header) {
    throw new ActorlogError(
      'INVALID_OPTIONS',
      `foreman: the webhook receiver reads signatures from "${theirs}" but the daemon signs in "${header}": every signed webhook would be rejected`,
      {
        details: { option: 'signatureHeader', receiverHeader: theirs, header },
      },
    );
  }
}

/**
 * The foreman binding's actors for the generic job machine (machines/job), each made with XState's
 * `fromEventObservable`. Failures are observable errors with an {@link ActorlogError} (`TRANSIENT`,
 * `PERMANENT`, `INVALID_PAYLOAD`, `INVALID_OPTIONS`, `ABORTED`). The token and webhook secret stay
 * in closures, never in inputs, events or errors.
 *
 * @throws ActorlogError `INVALID_OPTIONS` when `pollIntervalMs` is not a positive integer, or the
 *   receiver reads signatures from another header than `signatureHeader`
 *
 * - `submit`: POST /jobs with `Idempotency-Key: input.messageId` (logged before the send) and, when
 *   the job is followed by push and the receiver listens, `state_webhook_url` -> `job.accepted
 *   { remoteId: job_id, pushUrl, update: submitted }` (seed 000 `postJob`, `submitWithWebhook`).
 *   A 202 that cannot be read, or an answer lost after the request was written (reset, timeout,
 *   500/502/504), ends the job `OUTCOME_UNKNOWN`: the daemon may hold the job, and seed 000's
 *   ignores `Idempotency-Key`, so it is not submitted again (unless `honoursIdempotencyKey`).
 * - `follow`: the job's webhooks plus a catch-up GET and a safety GET every
 *   `safetyPollIntervalMs` ({@link followForemanJob}); the first terminal answer wins, once.
 * - `poll`: GET /jobs/{id} -> one `job.update`, `meta { source: 'poll', cursor: job_id }` (seed 000
 *   `pollUntilDone`); a 200 that does not decode is recorded as `job.invalid` and fails the poll
 *   `INVALID_PAYLOAD`, which ends the job `failed` with that error, as the seed ends the call. A 200
 *   about another job (its `created_at` is not ours: the daemon reused the `job_id`) is recorded and
 *   ends the job `OUTCOME_UNKNOWN`: ours can no longer be read.
 * - `reply`: fails `PERMANENT`: foreman jobs never ask for input.
 * - `cancel`: foreman has no cancel endpoint (seed 000 cancels by the caller's context only): it
 *   answers `job.update { state: 'canceled' }` at once, so the job stops following; the daemon may still run it.
 *
 * @example
 * ```ts
 * const machine = jobMachine.provide({ actors: foremanJobActors({ url, token, receiver }) });
 * ```
 */
export function foremanJobActors(options: ForemanBindingOptions): ForemanJobActors {
  checkBindingOptions(options);
  const client: ForemanClient = createForemanClient(options);
  const { receiver, polling = false } = options;
  const maxBodyBytes = options.maxBodyBytes ?? FOREMAN_MAX_BODY_BYTES;
  if (!polling) receiver?.acceptBodiesUpTo(maxBodyBytes); // the receiver's body bound follows the binding's
  const followOptions: ForemanFollowOptions = {
    onDiagnostic: options.onDiagnostic,
    maxBodyBytes,
    safetyPollIntervalMs: options.safetyPollIntervalMs,
    scheduler: options.scheduler,
  };
  return {
    submit: fromEventObservable<JobWireEvent, SubmitInput>(({ input }) =>
      defer(() => {
        const job: ForemanJobSubmission = foremanSubmitBody(input.request);
        const pushUrl = !polling && input.follow !== 'poll' && receiver?.listening ? receiver.urlFor(input.jobId) : undefined;
        if (pushUrl) job.state_webhook_url = pushUrl;
        return fromCall((o) => client.submitJob(job, { ...o, idempotencyKey: input.messageId })).pipe(
          map((jobId): JobWireEvent => ({
            type: 'job.accepted',
            remoteId: jobId,
            update: { state: 'submitted', remoteState: 'queued' },
            ...(pushUrl ? { pushUrl } : {}),
          })),
          catchError((err: unknown) => invalidThenFail({ source: 'child' })(acceptedButUnreadable(err, input.messageId))),
        );
      }),
    ),
    follow: fromEventObservable<JobWireEvent, FollowInput>(({ input }) => followForemanJob(client, polling ? undefined : receiver, input, followOptions)),
    poll: fromEventObservable<JobWireEvent, PollInput>(({ input }) => {
      const meta: WireMeta = { source: 'poll', cursor: input.remoteId };
      return fromCall((o) => client.getJob(input.remoteId, o)).pipe(
        map((status): JobWireEvent => {
          // The id now names another job: ours can no longer be read, by polling or at all.
          const other = otherJobReason(createdAtOf(input.details), status);
          if (other)
            throw new ActorlogError('OUTCOME_UNKNOWN', `foreman poll: ${other}; this job can no longer be read`, {
              details: { jobId: input.jobId, remoteId: input.remoteId, raw: keepRaw(JSON.stringify(status)), reusedJobId: true },
            });
          return { type: 'job.update', update: statusToJobUpdate(status), meta };
        }),
        // Seed 000 `pollUntilDone`: a 200 that does not decode ends the call with that error.
        catchError(invalidThenFail(meta)),
      );
    }),
    reply: fromEventObservable<JobWireEvent, ReplyInput>(({ input }) =>
      throwError(() => new ActorlogError('PERMANENT', 'foreman jobs take no input', { details: { jobId: input.jobId } })),
    ),
    cancel: fromEventObservable<JobWireEvent, CancelInput>(() =>
      of<JobWireEvent>({
        type: 'job.update',
        update: {
          state: 'canceled',
          remoteState: 'abandoned',
          message: 'canceled by the caller; foreman has no cancel endpoint, so the daemon may still run the job',
        },
      }),
    ),
  };
}

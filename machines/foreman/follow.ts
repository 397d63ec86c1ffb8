import { asyncScheduler, catchError, defer, exhaustMap, filter, map, merge, type Observable, type SchedulerLike, takeWhile, throwError, timer } from 'rxjs';
import { ActorlogError } from '../../src/errors.ts';
import type { WebhookDelivery, WebhookReceiver } from '../../src/sources/webhook/index.ts';
import { keepRaw } from '../../src/transport/classify.ts';
import { fromCall } from '../../src/transport/fromCall.ts';
import { recordInvalidThenFail } from '../../src/binding/index.ts';
import type { FollowInput, JobInvalidEvent, JobWireEvent, WireMeta } from '../job/events.ts';
import type { ForemanClient } from './client.ts';
import { formatOrder, isNewer, orderOf, parseOrder, type StatusOrder } from './order.ts';
import { FOREMAN_TERMINAL, ForemanJobStatusSchema, statusToJobUpdate, type ForemanJobStatus } from './schemas.ts';
import { decodeJson } from '../../src/transport/boundedJson.ts';
import { createdAtOf, otherJobReason } from './identity.ts';

/** Something the follower dropped without telling the job (it would change nothing), for people and tests. */
export interface ForemanDiagnostic {
  kind: 'duplicate' | 'stale';
  jobId: string;
  source: 'webhook' | 'poll';
  /** The dropped update's order (`a1.running`) and the last applied one. */
  order: string;
  last?: string;
}

const permanent = (message: string, details: Record<string, unknown>) => new ActorlogError('PERMANENT', `foreman follow: ${message}`, { details });

/** A webhook body as a job status, or the `job.invalid` event that records why not. */
function parseDelivery(d: WebhookDelivery, remoteId: string, maxBytes: number): ForemanJobStatus | JobInvalidEvent {
  const meta: WireMeta = { source: 'webhook' };
  const invalid = (error: string): JobInvalidEvent => ({ type: 'job.invalid', raw: keepRaw(d.body), error, meta });
  if (d.refused)
    return invalid(
      `webhook body of ${d.refused.bytes} bytes is over the receiver's maxBodyBytes ${d.refused.maxBodyBytes}: answered 413, not read (the safety poll reads the job)`,
    );
  if (d.signature !== 'verified' && d.signature !== 'unsigned') return invalid(`webhook rejected (${d.signature}): answered 401, not acted on`);
  const body = decodeJson(d.body, ForemanJobStatusSchema, { maxBytes }); // bounded JSON, then the schema (binding kit)
  if (!body.ok) return invalid(`webhook body refused: ${body.error}`);
  if (body.value.job_id !== remoteId) return invalid(`webhook for job ${body.value.job_id} arrived at the URL of job ${remoteId}`);
  return body.value;
}

/** How {@link followForemanJob} reads and double-checks webhooks. Durations in ms. */
export interface ForemanFollowOptions {
  /** Told about webhooks dropped as duplicates or stale. */
  onDiagnostic?: (d: ForemanDiagnostic) => void;
  /** The largest webhook body decoded, bytes. @default 128 MiB (`FOREMAN_MAX_BODY_BYTES`) */
  maxBodyBytes?: number;
  /**
   * While waiting for webhooks, GET /jobs/{id} this often too (after the catch-up GET): a terminal
   * webhook that never arrives (413, a 401 after a secret mismatch, a receiver the daemon cannot
   * reach) does not leave the job waiting for ever. The first terminal answer, webhook or GET, wins,
   * once. `Infinity`: no safety poll. @default 10000
   */
  safetyPollIntervalMs?: number;
  /** The scheduler of the safety poll. @default asyncScheduler */
  scheduler?: SchedulerLike;
}

/** Default of {@link ForemanFollowOptions.safetyPollIntervalMs}: 10 s, five times seed 000's 2 s poll interval. */
export const FOREMAN_SAFETY_POLL_INTERVAL_MS = 10_000;

/**
 * The foreman follower: the job's state webhooks from the system's receiver (source `webhook`),
 * plus a catch-up GET /jobs/{id} (source `poll`) made after subscribing, which covers webhooks
 * sent while this process was down, and a safety GET every `safetyPollIntervalMs` (10 s), which
 * covers a terminal webhook that never arrives (413, 401, unreachable receiver).
 * A webhook over the receiver's body bound (answered 413) is recorded as `job.invalid`. Updates are de-duplicated and ordered by {@link isNewer}
 * (cursor `a<attempt>.<state>`, resumed from `input.cursor`); bad signatures and malformed bodies
 * become `job.invalid` events, as does a status whose `created_at` is not the job's (the daemon gave
 * its `job_id` to another job: {@link otherJobReason}); none of them is applied. Completes after a
 * terminal state (`done`, `failed`).
 *
 * The catch-up GET is what finds a job that ended while the process was down (its webhooks are
 * gone): when it fails, with `TRANSIENT` or with `INVALID_PAYLOAD` (after a `job.invalid` event), the
 * follower fails with that error, so the job machine follows again with a new catch-up GET instead
 * of waiting for webhooks that will never come.
 *
 * Fails `PERMANENT` (the job machine then polls) when the receiver does not listen, when the job
 * was submitted without a webhook URL, or when the URL it was given is not this receiver's (the
 * process restarted on another port): seed 000 `Submit` falls back to polling when the listener
 * cannot bind.
 *
 * @example
 * ```ts
 * followForemanJob(client, receiver, { jobId: 'job-7', remoteId: 'f1c…', pushUrl: receiver.urlFor('job-7') })
 *   .subscribe((e) => console.log(e.type, e.meta?.source, e.meta?.cursor));   // job.update webhook a1.running …
 * ```
 */
export function followForemanJob(
  client: ForemanClient,
  receiver: WebhookReceiver | undefined,
  input: FollowInput,
  options: ForemanFollowOptions = {},
): Observable<JobWireEvent> {
  const { onDiagnostic, maxBodyBytes = 128 * 1024 * 1024, safetyPollIntervalMs = FOREMAN_SAFETY_POLL_INTERVAL_MS, scheduler = asyncScheduler } = options;
  return defer(() => {
    const details = { jobId: input.jobId, remoteId: input.remoteId };
    if (!receiver?.listening) return throwError(() => permanent('no webhook receiver is listening', details));
    if (input.pushUrl === undefined) return throwError(() => permanent('the job was submitted without a state_webhook_url', details));
    const here = receiver.urlFor(input.jobId);
    if (input.pushUrl !== here)
      return throwError(() =>
        permanent(`the job's webhook URL (${input.pushUrl}) is not this receiver's (${here})`, { ...details, pushUrl: input.pushUrl, receiverUrl: here }),
      );

    let last: StatusOrder | undefined = parseOrder(input.cursor);
    let createdAt = createdAtOf(input.details); // the job's birth: a status born otherwise is another job's (a reused job_id)
    const accept = (status: ForemanJobStatus, source: 'webhook' | 'poll'): JobWireEvent | undefined => {
      const other = otherJobReason(createdAt, status);
      if (other) return { type: 'job.invalid', raw: keepRaw(JSON.stringify(status)), error: other, meta: { source } };
      createdAt ??= status.created_at ?? undefined;
      const order = orderOf(status);
      if (!isNewer(order, last)) {
        const same = last !== undefined && formatOrder(order) === formatOrder(last);
        onDiagnostic?.({ kind: same ? 'duplicate' : 'stale', jobId: input.jobId, source, order: formatOrder(order), last: last && formatOrder(last) });
        return undefined;
      }
      last = order;
      return { type: 'job.update', update: statusToJobUpdate(status), meta: { source, cursor: formatOrder(order) } };
    };

    const hooks = receiver.deliveries(input.jobId).pipe(
      map((d) => {
        const status = parseDelivery(d, input.remoteId, maxBodyBytes);
        return 'type' in status ? status : accept(status, 'webhook');
      }),
    );
    // The catch-up GET at once, then a safety GET every safetyPollIntervalMs (never two at a time).
    // One that fails (network, 5xx, or a 200 that does not decode) fails the follower: the job
    // machine subscribes again after a backoff, with a new catch-up GET, and polls once its retries
    // are spent. Webhooks that arrive meanwhile wait in the receiver's buffer.
    const ticks = Number.isFinite(safetyPollIntervalMs) ? timer(0, safetyPollIntervalMs, scheduler) : timer(0, scheduler);
    const polls = ticks.pipe(
      exhaustMap(() => fromCall((o) => client.getJob(input.remoteId, o))),
      map((status) => accept(status, 'poll')),
      catchError(recordInvalidThenFail<JobWireEvent>('job.invalid', { source: 'poll' })),
    );
    return merge(hooks, polls).pipe(
      filter((e): e is JobWireEvent => e !== undefined),
      takeWhile((e) => !(e.type === 'job.update' && FOREMAN_TERMINAL.has(e.update.remoteState ?? '')), true),
    );
  });
}

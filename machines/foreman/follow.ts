import { catchError, defer, filter, map, merge, type Observable, takeWhile, throwError } from 'rxjs';
import { z } from 'zod';
import { ActorlogError } from '../../src/errors.ts';
import type { WebhookDelivery, WebhookReceiver } from '../../src/sources/webhook/index.ts';
import { keepRaw } from '../../src/transport/classify.ts';
import { fromCall } from '../../src/transport/fromCall.ts';
import { recordInvalidThenFail } from '../../src/binding/index.ts';
import type { FollowInput, JobInvalidEvent, JobWireEvent, WireMeta } from '../job/events.ts';
import type { ForemanClient } from './client.ts';
import { formatOrder, isNewer, orderOf, parseOrder, type StatusOrder } from './order.ts';
import { FOREMAN_TERMINAL, ForemanJobStatusSchema, statusToJobUpdate, type ForemanJobStatus } from './schemas.ts';
import { parseJson } from '../../src/transport/boundedJson.ts';

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
function parseDelivery(d: WebhookDelivery, remoteId: string): ForemanJobStatus | JobInvalidEvent {
  const meta: WireMeta = { source: 'webhook' };
  const invalid = (error: string): JobInvalidEvent => ({ type: 'job.invalid', raw: keepRaw(d.body), error, meta });
  if (d.signature !== 'verified' && d.signature !== 'unsigned') return invalid(`webhook rejected (${d.signature}): answered 401, not acted on`);
  let json: unknown;
  const body = parseJson(d.body); // bounded: depth and size (binding kit)
  if (!body.ok) return invalid(`webhook body refused: ${body.error}`);
  json = body.value;
  const parsed = ForemanJobStatusSchema.safeParse(json);
  if (!parsed.success) return invalid(`webhook body fails its schema: ${z.prettifyError(parsed.error).slice(0, 1000)}`);
  if (parsed.data.job_id !== remoteId) return invalid(`webhook for job ${parsed.data.job_id} arrived at the URL of job ${remoteId}`);
  return parsed.data;
}

/**
 * The foreman follower: the job's state webhooks from the system's receiver (source `webhook`),
 * plus one catch-up GET /jobs/{id} (source `poll`) made after subscribing, which covers webhooks
 * sent while this process was down. Updates are de-duplicated and ordered by {@link isNewer}
 * (cursor `a<attempt>.<state>`, resumed from `input.cursor`); bad signatures and malformed bodies
 * become `job.invalid` events. Completes after a terminal state (`done`, `failed`).
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
  onDiagnostic?: (d: ForemanDiagnostic) => void,
): Observable<JobWireEvent> {
  return defer(() => {
    const details = { jobId: input.jobId, remoteId: input.remoteId };
    if (!receiver?.listening) return throwError(() => permanent('no webhook receiver is listening', details));
    if (input.pushUrl === undefined) return throwError(() => permanent('the job was submitted without a state_webhook_url', details));
    const here = receiver.urlFor(input.jobId);
    if (input.pushUrl !== here) return throwError(() => permanent(`the job's webhook URL (${input.pushUrl}) is not this receiver's (${here})`, { ...details, pushUrl: input.pushUrl, receiverUrl: here }));

    let last: StatusOrder | undefined = parseOrder(input.cursor);
    const accept = (status: ForemanJobStatus, source: 'webhook' | 'poll'): JobWireEvent | undefined => {
      const order = orderOf(status);
      if (!isNewer(order, last)) {
        const same = last !== undefined && formatOrder(order) === formatOrder(last);
        onDiagnostic?.({ kind: same ? 'duplicate' : 'stale', jobId: input.jobId, source, order: formatOrder(order), last: last && formatOrder(last) });
        return undefined;
      }
      last = order;
      return { type: 'job.update', update: statusToJobUpdate(status), meta: { source, cursor: formatOrder(order) } };
    };

    const hooks = receiver.deliveries(input.jobId).pipe(map((d) => {
      const status = parseDelivery(d, input.remoteId);
      return 'type' in status ? status : accept(status, 'webhook');
    }));
    // A catch-up GET that fails (network, 5xx, or a 200 that does not decode) fails the follower:
    // the job machine subscribes again after a backoff, with a new catch-up GET, and polls once its
    // retries are spent. Webhooks that arrive meanwhile wait in the receiver's buffer.
    const catchUp = fromCall((o) => client.getJob(input.remoteId, o)).pipe(
      map((status) => accept(status, 'poll')),
      catchError(recordInvalidThenFail<JobWireEvent>('job.invalid', { source: 'poll' })),
    );
    return merge(hooks, catchUp).pipe(
      filter((e): e is JobWireEvent => e !== undefined),
      takeWhile((e) => !(e.type === 'job.update' && FOREMAN_TERMINAL.has(e.update.remoteState ?? '')), true),
    );
  });
}

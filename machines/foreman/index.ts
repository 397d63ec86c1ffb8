import { jobMachine } from '../job/machine.ts';
import { foremanJobActors, type ForemanBindingOptions } from './actors.ts';

/**
 * The generic job machine bound to a foreman daemon (seed 000): submit by POST /jobs (idempotency
 * key logged before the send), follow by state webhooks to the system's receiver (HMAC-SHA256
 * verified) with a catch-up GET, fall back to polling GET /jobs/{id} when the receiver cannot bind,
 * is told to poll, or moved since the submit. Same states and transitions as the A2A-bound job
 * machine: only the actors differ (they count in `machineHash`; `actorlog replay` knows both bindings).
 *
 * @example
 * ```ts
 * const receiver = createWebhookReceiver({ secret: process.env.FOREMAN_WEBHOOK_SECRET });
 * await receiver.listen().catch(() => undefined);   // cannot bind: jobs are polled
 * const system = createActorSystem({ store, machines: { job: foremanJobMachine({ url, token, receiver }) } });
 * ```
 */
export function foremanJobMachine(options: ForemanBindingOptions) {
  return jobMachine.provide({ actors: foremanJobActors(options) });
}

export { foremanJobActors, foremanJobRequest, foremanSubmitBody, type ForemanBindingOptions, type ForemanJobActors } from './actors.ts';
export { createForemanClient, type ForemanClient, type ForemanClientOptions, type ForemanCallOptions, type ForemanJobSubmission } from './client.ts';
export { followForemanJob, type ForemanDiagnostic } from './follow.ts';
export { formatOrder, isNewer, orderOf, parseOrder, type StatusOrder } from './order.ts';
export { submitAndWait, waitForForemanJob, foremanOutcome, type ForemanResult, type SubmitAndWaitOptions } from './submitAndWait.ts';
export * from './schemas.ts';

import { jobMachine } from '../job/machine.ts';
import { FOREMAN_POLL_INTERVAL_MS, foremanJobActors, type ForemanBindingOptions } from './actors.ts';

/**
 * The generic job machine bound to a foreman daemon (seed 000): submit by POST /jobs (idempotency
 * key logged before the send), follow by state webhooks to the system's receiver (HMAC-SHA256
 * verified) with a catch-up GET, fall back to polling GET /jobs/{id} when the receiver cannot bind,
 * is told to poll, or moved since the submit. Same states and transitions as the A2A-bound job
 * machine: only the actors and the poll interval differ (they count in `machineHash`; `actorlog
 * replay` knows both bindings).
 *
 * Defaults as seed 000 has them: no overall timeout (a job waits until it ends or is canceled; give
 * `timeoutMs` per job to bound it) and a poll interval of 2 s (`pollIntervalMs` here for every job
 * of this binding, or per job in its input).
 *
 * @throws ActorlogError `INVALID_OPTIONS` (see {@link foremanJobActors}): a bad `pollIntervalMs`, or a
 *   receiver that reads signatures from another header than the daemon signs in
 * @example
 * ```ts
 * // The receiver reads `x-foreman-signature: sha256=<hex>` by default, the header foreman signs in;
 * // the secret is the daemon's webhook secret.
 * const receiver = createWebhookReceiver({ secret: process.env.FOREMAN_WEBHOOK_SECRET, signature: { header: FOREMAN_SIGNATURE_HEADER } });
 * await receiver.listen().catch(() => undefined);   // cannot bind: jobs are polled
 * const system = createActorSystem({ store, machines: { job: foremanJobMachine({ url, token, receiver }) } });
 * ```
 */
export function foremanJobMachine(options: ForemanBindingOptions) {
  const actors = foremanJobActors(options);
  const pollIntervalMs = options.pollIntervalMs ?? FOREMAN_POLL_INTERVAL_MS;
  return jobMachine.provide({
    actors,
    delays: { pollInterval: ({ context }) => context.pollIntervalMs ?? pollIntervalMs },
  });
}

export {
  foremanJobActors,
  foremanJobRequest,
  FOREMAN_POLL_INTERVAL_MS,
  FOREMAN_SIGNATURE_HEADER,
  type ForemanBindingOptions,
  type ForemanJobActors,
} from './actors.ts';
export {
  createForemanClient,
  FOREMAN_MAX_BODY_BYTES,
  type ForemanClient,
  type ForemanClientOptions,
  type ForemanCallOptions,
  type ForemanJobSubmission,
} from './client.ts';
export { FOREMAN_SAFETY_POLL_INTERVAL_MS, type ForemanDiagnostic, type ForemanFollowOptions } from './follow.ts';
export { submitAndWait, waitForForemanJob, foremanOutcome, type ForemanResult, type SubmitAndWaitOptions } from './submitAndWait.ts';
// The wire types, by name; the zod schemas that check them stay internal (machines/foreman/schemas.ts).
export {
  FOREMAN_TERMINAL,
  type ForemanArtifact,
  type ForemanEmbedRequest,
  type ForemanEmbedResponse,
  type ForemanJobStatus,
  type ForemanModelInfo,
  type ForemanSubmitRequest,
} from './schemas.ts';

import { a2aJobActors, type A2ABindingOptions } from './actors.ts';
import { jobMachine } from '../job/machine.ts';

/**
 * The job machine bound to an A2A v0.3 agent (JSON-RPC over HTTP): submit by `message/send`
 * (non-blocking, the job's `messageId` as idempotency key), follow by `tasks/resubscribe` SSE with
 * `tasks/get` polling as fallback, answer input-required with a follow-up message, cancel by
 * `tasks/cancel`. Same states and transitions as {@link jobMachine}: only the actors differ
 * (they count in `machineHash`, which is the same for every `url`).
 *
 * @example
 * ```ts
 * const job = a2aJobMachine({ url: 'http://127.0.0.1:41241' });
 * const system = createActorSystem({ store, machines: { job } });
 * system.spawn('job', { id: 'job-1', input: { jobId: 'job-1', request: { text: 'summarise' } } });
 * ```
 */
export function a2aJobMachine(options: A2ABindingOptions) {
  return jobMachine.provide({ actors: a2aJobActors(options) });
}

export { a2aJobActors, type A2ABindingOptions, type A2AJobActors } from './actors.ts';
export { createA2AClient, type A2AClient, type A2AClientOptions } from './client.ts';

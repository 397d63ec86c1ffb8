import type { SnapshotFrom } from 'xstate';
import { ActorlogError } from '../../src/errors.ts';
import type { ActorSystem } from '../../src/runtime/actorSystem.ts';
import type { JournaledActor } from '../../src/runtime/journaledActor.ts';
import type { JobInput } from '../job/context.ts';
import type { JobMachine } from '../job/machine.ts';
import { foremanJobRequest } from './actors.ts';
import { toForemanArtifact, type ForemanArtifact, type ForemanSubmitRequest } from './schemas.ts';

/** The final outcome of a foreman job (seed 000 `Result`). Times are RFC 3339 strings as the daemon wrote them. */
export interface ForemanResult {
  /** foreman's `job_id`. */
  jobId: string;
  state: 'done' | 'failed';
  model: string;
  attempt: number;
  result?: unknown;
  /** The daemon's `error` text when its last status had one (seed 000 `Result.Error`: kept whatever the state); `''` for a failed job without one. */
  error?: string;
  /** Never undefined: `[]` when the job made none (seed 000 `statusToResult`). */
  artifacts: ForemanArtifact[];
  createdAt?: string;
  completedAt?: string;
}

/** Options of {@link submitAndWait}. Durations in ms. */
export interface SubmitAndWaitOptions extends Omit<Partial<JobInput>, 'jobId' | 'request' | 'timeoutMs'> {
  /** The job's id: its stream id in the log (stable, yours). A recovered or finished job with this id is awaited, never submitted again. */
  id: string;
  request: ForemanSubmitRequest;
  /** The name the foreman-bound job machine is registered under. @default 'job' */
  machine?: string;
  /**
   * Overall time before the job ends `timed-out` (a logged timer) and this rejects `TIMEOUT`, ms.
   * Omitted: no overall timeout, the call waits until the job ends or `signal` aborts (seed 000
   * `Submit` waits until the caller's context is canceled).
   */
  timeoutMs?: number;
  /** Aborting cancels the job (it ends `canceled`) and rejects `ABORTED` (seed 000: the caller's context). */
  signal?: AbortSignal;
}

type JobSnapshot = SnapshotFrom<JobMachine>;

/** The result, or the error, a finished job snapshot stands for. */
export function foremanOutcome(snapshot: Pick<JobSnapshot, 'value' | 'context'>): ForemanResult | ActorlogError {
  const c = snapshot.context;
  const details = { jobId: c.jobId, remoteId: c.remoteId };
  if (snapshot.value === 'timed-out') return new ActorlogError('TIMEOUT', `foreman job ${c.jobId} did not finish within ${c.timeoutMs} ms`, { details });
  if (snapshot.value === 'canceled') return new ActorlogError('ABORTED', `foreman job ${c.jobId} was canceled`, { details });
  const remoteEnded = c.remoteState === 'completed' || c.remoteState === 'failed';
  if (!remoteEnded || c.remoteId === undefined) {
    const e = c.lastError;
    return new ActorlogError((e?.code as ActorlogError['code']) ?? 'PERMANENT', `foreman job ${c.jobId} failed: ${e?.message ?? 'no result'}`, {
      details: { ...details, ...(e?.status ? { status: e.status } : {}) },
    });
  }
  const d = c.details ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    jobId: c.remoteId,
    state: c.remoteState === 'completed' ? 'done' : 'failed',
    model: str(d.model) ?? str((c.request.data as { model?: unknown } | undefined)?.model) ?? '',
    attempt: c.attempt ?? 0,
    ...(c.result !== undefined ? { result: c.result } : {}),
    ...(c.statusMessage ? { error: c.statusMessage } : c.remoteState === 'failed' ? { error: '' } : {}),
    artifacts: c.artifacts.map(toForemanArtifact),
    ...(str(d.created_at) ? { createdAt: str(d.created_at) } : {}),
    ...(str(d.completed_at) ? { completedAt: str(d.completed_at) } : {}),
  };
}

/**
 * Waits for a foreman job actor (new or recovered) to end and returns its {@link ForemanResult}.
 * A job that failed on the daemon resolves with `state: 'failed'` and `error`, as seed 000 returns it.
 * @throws ActorlogError `TIMEOUT` (ended timed-out), `ABORTED` (signal, or canceled), the job's
 *   `lastError` code when it failed on our side (`PERMANENT` 401, `TRANSIENT` after bounded retries,
 *   `INVALID_PAYLOAD` when a poll answered 200 with a body that does not decode), `APPEND_FAILED`,
 *   `ACTOR_STOPPED` (the system was closed first: the job goes on after `recover()`)
 * @example
 * ```ts
 * for (const actor of system.recover().recovered) console.log(await waitForForemanJob(actor as JournaledActor<JobMachine>));
 * ```
 */
export async function waitForForemanJob(actor: JournaledActor<JobMachine>, options: { signal?: AbortSignal } = {}): Promise<ForemanResult> {
  const { signal } = options;
  const onAbort = () => {
    if (actor.getSnapshot().status === 'active') actor.send({ type: 'job.cancel' });
  };
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const final = await new Promise<JobSnapshot>((resolve, reject) => {
      const check = (s: JobSnapshot) => {
        if (actor.error) reject(actor.error);
        else if ((s.status as string) === 'stopped') {
          reject(
            new ActorlogError('ACTOR_STOPPED', `foreman job ${actor.id} was stopped before it ended (system closed): recover it to go on`, {
              details: { streamId: actor.id },
            }),
          );
        } else if (s.status !== 'active') resolve(s);
      };
      const sub = actor.ref.subscribe({
        next: (s) => check(s as JobSnapshot),
        error: (err) => reject(actor.error ?? err),
        complete: () => check(actor.getSnapshot()),
      });
      check(actor.getSnapshot());
      if (actor.getSnapshot().status !== 'active' || actor.error) sub.unsubscribe();
    });
    const outcome = foremanOutcome(final);
    if (outcome instanceof ActorlogError)
      throw signal?.aborted ? new ActorlogError('ABORTED', `foreman job ${actor.id}: aborted by the caller`, { cause: signal.reason }) : outcome;
    return outcome;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Submits a chat job to a foreman daemon and waits for it: the blocking-feeling call over the
 * async job API (seed 000 `Client.Submit`). The job runs as a journaled job-machine actor, so a
 * crash loses nothing: after `system.recover()`, calling this again with the same `id` awaits the
 * recovered job instead of submitting it again.
 *
 * Follows by webhook when the binding has a listening receiver, else by polling (`follow: 'poll'`
 * forces polling for this job).
 *
 * @throws ActorlogError `INVALID_OPTIONS` (no `model`: before any I/O), `ABORTED`, `TIMEOUT`, and
 *   those of {@link waitForForemanJob}
 * @example
 * ```ts
 * const system = createActorSystem({ store, machines: { job: foremanJobMachine({ url, token, receiver }) } });
 * const result = await submitAndWait(system, {
 *   id: 'summary-42', request: { model: 'llama3', messages: [{ role: 'user', content: 'summarise' }] },
 *   timeoutMs: 60_000, signal: AbortSignal.timeout(90_000),
 * });
 * console.log(result.state, result.result, result.artifacts);
 * ```
 */
export async function submitAndWait(system: ActorSystem, options: SubmitAndWaitOptions): Promise<ForemanResult> {
  const { id, request, machine = 'job', signal, ...rest } = options;
  if (typeof request?.model !== 'string' || request.model.length === 0)
    throw new ActorlogError('INVALID_OPTIONS', 'foreman: model is required', { details: { field: 'model' } });
  if (!Array.isArray(request.messages)) throw new ActorlogError('INVALID_OPTIONS', 'foreman: messages must be an array', { details: { field: 'messages' } });
  if (signal?.aborted) throw new ActorlogError('ABORTED', `foreman job ${id}: aborted before submit`, { cause: signal.reason });
  let actor = system.get<JobMachine>(id);
  if (!actor) {
    // An embedded store answers at once: the job is then spawned in this very call, as before.
    const found = system.store.getStream(id);
    const stream = found instanceof Promise ? await found : found;
    if (stream) {
      const saved = (await system.store.loadSnapshot(id))?.snapshot as { state?: Pick<JobSnapshot, 'value' | 'context'> } | undefined;
      if (stream.status === 'active' || !saved?.state)
        throw new ActorlogError('STREAM_EXISTS', `job ${id} is in the log but not running: call system.recover() first`, { details: { streamId: id } });
      const outcome = foremanOutcome(saved.state);
      if (outcome instanceof ActorlogError) throw outcome;
      return outcome;
    }
    const input: JobInput = { ...rest, jobId: id, request: foremanJobRequest(request) };
    actor = system.spawn(machine, { id, input });
  }
  return waitForForemanJob(actor, { signal });
}

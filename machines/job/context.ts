import { DEFAULT_RETRY, seededBackoffDelay } from '../../src/transport/backoff.ts';
import { retryAfterMsOf } from '../../src/transport/retryAfter.ts';
import type { ErrorInfo } from '../../src/errors.ts';
import type { JobArtifact, JobRequest, JobUpdate, RemoteJobState } from './events.ts';

/** How the job machine follows a remote job once it is accepted. */
export type FollowMode = 'push' | 'poll';

/** Input of the job machine. All durations in ms. */
export interface JobInput {
  /** The job's id: its stream id, and the root of its idempotency keys (`<jobId>:m1`, `:m2`…). */
  jobId: string;
  request: JobRequest;
  /** `push` follows a stream or webhook (falling back to polling), `poll` only polls. @default 'push' */
  follow?: FollowMode;
  /** Time between two polls, ms. Omitted: the binding's default ({@link DEFAULT_POLL_INTERVAL_MS} for the generic machine; foreman: its client's `pollIntervalMs`, 2000). */
  pollIntervalMs?: number;
  /**
   * Overall time before the job ends `timed-out` (a logged timer), ms. Omitted: no overall
   * timeout; the job waits until it ends or is canceled (seed 000 `Submit` waits until the
   * caller's context is canceled).
   */
  timeoutMs?: number;
  /** First retry delay after a transient failure; doubles per attempt, capped at 60 s. @default 500 */
  retryDelayMs?: number;
  /** Transient submit failures tolerated before the job fails. @default 5 */
  maxSubmitAttempts?: number;
  /** Push streams that may end or fail before the job falls back to polling. @default 3 */
  maxFollowRetries?: number;
  /** Consecutive transient poll failures before the job fails. @default 10 */
  maxPollFailures?: number;
}

/** The job machine's context: everything it knows, JSON-safe (it is replayed from the log). */
export interface JobContext {
  jobId: string;
  request: JobRequest;
  follow: FollowMode;
  /** Absent: the binding's default poll interval. */
  pollIntervalMs?: number;
  /** Absent: no overall timeout. */
  timeoutMs?: number;
  retryDelayMs: number;
  maxSubmitAttempts: number;
  maxFollowRetries: number;
  maxPollFailures: number;
  /** The idempotency key of the first message; follow-up replies use `<jobId>:m<n>`. */
  messageId: string;
  /** The remote's id of the job (A2A task id, foreman job_id), once accepted. */
  remoteId?: string;
  /** The last cursor a push source (stream, webhook) delivered: where a resubscription resumes. */
  cursor?: string;
  /** Where the remote pushes this job's updates (a webhook URL), as `job.accepted` said. */
  pushUrl?: string;
  /** The remote's attempt counter, when it retries jobs itself (foreman `attempt`). */
  attempt?: number;
  /** Other protocol fields the remote reported (foreman `model`, `created_at`…), merged from updates. */
  details?: Record<string, unknown>;
  /** The last state the remote reported. */
  remoteState?: RemoteJobState;
  statusMessage?: string;
  result?: unknown;
  artifacts: JobArtifact[];
  /** Remote states in the order they were seen (consecutive repeats collapsed). */
  history: RemoteJobState[];
  updates: number;
  invalid: number;
  submitAttempts: number;
  followRetries: number;
  pollFailures: number;
  replies: number;
  /** `job.cancel` arrived before the remote accepted the job: cancel it once accepted. */
  cancelRequested?: boolean;
  /** Text of the reply being sent while input-required. */
  pendingInput?: string;
  lastError?: ErrorInfo;
}

/** The generic job machine's poll interval when neither the job nor the binding sets one, ms. */
export const DEFAULT_POLL_INTERVAL_MS = 1000;

/**
 * The longest timer a Node process can arm (2^31 - 1 ms, about 24.8 days). A job without
 * `timeoutMs` arms its `jobTimeout` timer with this delay behind a guard that never passes, because
 * XState's `after` needs a number: when it fires, one no-op timer event is logged and nothing changes.
 */
export const NO_TIMEOUT_TIMER_MS = 2 ** 31 - 1;

/** The context for an input, with defaults applied. `pollIntervalMs` and `timeoutMs` are present only when the input sets them. */
export function initialJobContext(input: JobInput): JobContext {
  return {
    jobId: input.jobId,
    request: input.request,
    follow: input.follow ?? 'push',
    ...(input.pollIntervalMs !== undefined ? { pollIntervalMs: input.pollIntervalMs } : {}),
    ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}),
    retryDelayMs: input.retryDelayMs ?? DEFAULT_RETRY.baseMs,
    maxSubmitAttempts: input.maxSubmitAttempts ?? 5,
    maxFollowRetries: input.maxFollowRetries ?? 3,
    maxPollFailures: input.maxPollFailures ?? 10,
    messageId: `${input.jobId}:m1`,
    artifacts: [],
    history: [],
    updates: 0,
    invalid: 0,
    submitAttempts: 0,
    followRetries: 0,
    pollFailures: 0,
    replies: 0,
  };
}

/**
 * Merges an update into the context: state, message, result, artifact chunks, push cursor (pure).
 * It never writes a key whose value is `undefined`: the logged (JSON) snapshot a recovered actor
 * restarts from has no such keys, so live and replayed contexts keep their keys in the same order.
 */
export function applyUpdate(context: JobContext, update: JobUpdate, meta?: { source?: string; cursor?: string }): Partial<JobContext> {
  const artifacts = mergeArtifacts(context.artifacts, update.artifacts ?? []);
  const history = context.history.at(-1) === update.state ? context.history : [...context.history, update.state];
  const patch: Partial<JobContext> = { remoteState: update.state };
  if (update.message !== undefined) patch.statusMessage = update.message;
  if (update.result !== undefined) patch.result = update.result;
  patch.artifacts = artifacts;
  patch.history = history;
  patch.updates = context.updates + 1;
  if (update.attempt !== undefined) patch.attempt = update.attempt;
  if (update.details !== undefined) patch.details = { ...context.details, ...update.details };
  if (meta?.cursor !== undefined && meta.source !== 'poll') patch.cursor = meta.cursor;
  return patch;
}

/** Artifacts by id; a chunk with `append` extends the parts of the artifact it continues. */
export function mergeArtifacts(current: JobArtifact[], chunks: JobArtifact[]): JobArtifact[] {
  if (chunks.length === 0) return current;
  const out = current.map((a) => ({ ...a, parts: [...a.parts] }));
  for (const chunk of chunks) {
    const existing = out.find((a) => a.artifactId === chunk.artifactId);
    if (existing && chunk.append) existing.parts.push(...chunk.parts);
    else if (existing) Object.assign(existing, { ...chunk, parts: [...chunk.parts] });
    else out.push({ ...chunk, parts: [...chunk.parts] });
    const target = out.find((a) => a.artifactId === chunk.artifactId)!;
    delete target.append;
  }
  return out;
}

/**
 * The retry delay of attempt n (1-based): the shared seeded backoff ({@link seededBackoffDelay}:
 * `retryDelayMs` doubled per attempt, capped at 60 s, jitter derived from the job id and attempt, so
 * replay re-arms the same delay), and at least the `Retry-After` of the last failure (a 429 or 503),
 * capped at 60 s too.
 */
export function backoffMs(context: Pick<JobContext, 'retryDelayMs' | 'jobId' | 'lastError'>, attempt: number): number {
  return seededBackoffDelay(context.jobId, attempt, { baseMs: context.retryDelayMs, capMs: DEFAULT_RETRY.capMs }, retryAfterMsOf(context.lastError));
}

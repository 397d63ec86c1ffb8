import type { WireMeta } from '../../src/binding/wireLogic.ts';

/**
 * The generic states of a remote job, as every job binding reports them. A2A maps its task states
 * here (rejected -> failed, auth-required -> input-required); foreman maps queued/running/done/failed.
 */
export type RemoteJobState = 'submitted' | 'working' | 'input-required' | 'completed' | 'failed' | 'canceled';

/** One part of an artifact or message (A2A v0.3 Part, reduced to JSON). */
export type JobPart =
  | { kind: 'text'; text: string }
  | { kind: 'data'; data: unknown }
  | { kind: 'file'; uri?: string; bytes?: string; mimeType?: string; name?: string; size?: number };

/** An artifact a job produced. Chunks with the same `artifactId` and `append: true` are concatenated. */
export interface JobArtifact {
  artifactId: string;
  name?: string;
  parts: JobPart[];
  append?: boolean;
  lastChunk?: boolean;
}

/** What a binding learned about the remote job: its state, a status message, new artifacts. */
export interface JobUpdate {
  state: RemoteJobState;
  /** The remote's own state name (A2A `working`, foreman `running`), kept for people. */
  remoteState?: string;
  message?: string;
  artifacts?: JobArtifact[];
  /** True when the remote said this is the last update (A2A `final`). */
  final?: boolean;
  /** The job's result when the protocol returns one besides artifacts (foreman `result`). */
  result?: unknown;
  /** The remote's attempt counter, when it retries jobs itself (foreman `attempt`). */
  attempt?: number;
  /** Other protocol fields kept for people and helpers (foreman `model`, `created_at`, `completed_at`); merged into `context.details`. JSON-safe. */
  details?: Record<string, unknown>;
}

/** Per-event origin (src/binding/wireLogic.ts). */
export type { WireMeta };

/**
 * The remote accepted the job: its id there (A2A task id, foreman job_id) and first update.
 * `pushUrl` is where the remote was told to push this job's updates (foreman `state_webhook_url`),
 * logged so a recovered follower can tell whether it still listens there.
 */
export interface JobAcceptedEvent {
  type: 'job.accepted';
  remoteId: string;
  update: JobUpdate;
  pushUrl?: string;
  meta?: WireMeta;
}
/** A status or artifact update, from a stream, a webhook or a poll. */
export interface JobUpdateEvent {
  type: 'job.update';
  update: JobUpdate;
  meta?: WireMeta;
}
/** A payload that failed its schema (docs/architecture.md invariant 6): raw text kept, with the error. */
export interface JobInvalidEvent {
  type: 'job.invalid';
  raw: string;
  error: string;
  meta?: WireMeta;
}

/** Events the binding's actors send to the job machine. */
export type JobWireEvent = JobAcceptedEvent | JobUpdateEvent | JobInvalidEvent;

/** Events the application sends to a job actor. */
export type JobCommandEvent =
  /** Answer an input-required job: the binding sends `text` as a follow-up message. */
  | { type: 'job.input'; text: string }
  /** Ask the remote to cancel. */
  | { type: 'job.cancel' };

/** Inputs of the binding's actors (see {@link JobBinding}). */
export interface SubmitInput {
  jobId: string;
  messageId: string;
  request: JobRequest;
  /** How the job will be followed: a binding gives the remote a push address (webhook URL) only for `push`. */
  follow?: 'push' | 'poll';
}
export interface FollowInput {
  jobId: string;
  remoteId: string;
  cursor?: string;
  pushUrl?: string;
  /** What the remote reported of this job so far (`context.details`): a binding checks an answer is about the same job (foreman `created_at`). */
  details?: Record<string, unknown>;
}
export interface PollInput {
  jobId: string;
  remoteId: string;
  /** As {@link FollowInput.details}. */
  details?: Record<string, unknown>;
}
export interface ReplyInput {
  jobId: string;
  remoteId: string;
  messageId: string;
  text: string;
}
export interface CancelInput {
  jobId: string;
  remoteId: string;
}

/** What the application asks a job to do: a text prompt and optional structured data. */
export interface JobRequest {
  text: string;
  data?: Record<string, unknown>;
}

import { z } from 'zod';
import type { JobArtifact, JobUpdate, RemoteJobState } from '../job/events.ts';

/**
 * The wire format of a foreman daemon's async job API, as zod schemas.
 * SOURCE: seed 000 (foreman Go client): `jobSubmitRequest`, `jobSubmitResponse`, `jobStatusResponse`,
 * `Artifact`, `ModelInfo`, `tagsResponse`, `EmbedRequest`, `EmbedResponse`.
 * Optional fields are lenient (`null` or absent), as Go's `encoding/json` writes them; a string
 * field that is absent or `null` reads as `''`, Go's zero value (seed 000 decodes into plain `string`s).
 */

/** A Go `string` field: absent or `null` decodes to `''` (its zero value). */
const goString = z
  .string()
  .nullish()
  .transform((v) => v ?? '');

/** An artifact of a job: metadata with inline `data` or a `url` (seed 000 `Artifact`). `size` in bytes. */
export const ForemanArtifactSchema = z.object({
  name: goString,
  content_type: z.string().nullish(),
  size: z.number().int().nonnegative().nullish(),
  data: z.string().nullish(),
  url: z.string().nullish(),
});
export type ForemanArtifact = { name: string; content_type: string; size: number; data?: string; url?: string };

/** GET /jobs/{id} and the state webhook body (seed 000 `jobStatusResponse`). Times are RFC 3339 strings. */
export const ForemanJobStatusSchema = z.object({
  /** `''` when absent (Go's zero value): a webhook for job `''` is refused as not this job's. */
  job_id: goString,
  /** `''` when absent: not terminal, so the job is polled on, as seed 000's `pollUntilDone` does. */
  state: goString,
  model: z.string().nullish(),
  created_at: z.string().nullish(),
  started_at: z.string().nullish(),
  completed_at: z.string().nullish(),
  attempt: z.number().int().nonnegative().nullish(),
  result: z.unknown().optional(),
  error: z.string().nullish(),
  artifacts: z.array(ForemanArtifactSchema).nullish(),
});
export type ForemanJobStatus = z.infer<typeof ForemanJobStatusSchema>;

/** POST /jobs answer 202 (seed 000 `jobSubmitResponse`). */
export const ForemanSubmitResponseSchema = z.object({ job_id: z.string().min(1) });

/** An error body (`{"error": "..."}`), read for messages only. */
export const ForemanErrorBodySchema = z.object({ error: z.string() });

/** One installed model (seed 000 `ModelInfo`, GET /api/tags). */
export const ForemanModelInfoSchema = z.object({
  name: z.string(),
  model: z.string().nullish(),
  modified_at: z.string().nullish(),
  size: z.number().nullish(),
  digest: z.string().nullish(),
  details: z.unknown().optional(),
});
export type ForemanModelInfo = z.infer<typeof ForemanModelInfoSchema>;
export const ForemanTagsSchema = z.object({ models: z.array(ForemanModelInfoSchema).nullish() });

/** POST /api/embed answer (seed 000 `EmbedResponse`). */
export const ForemanEmbedResponseSchema = z.object({ model: z.string().nullish(), embeddings: z.array(z.array(z.number())).nullish() });
export type ForemanEmbedResponse = { model?: string; embeddings: number[][] };

/** What a caller submits (seed 000 `SubmitRequest`): `model` is required; `messages` are chat messages as JSON. */
export interface ForemanSubmitRequest {
  model: string;
  messages: unknown[];
  stream?: boolean;
  tools?: unknown;
  options?: unknown;
  think?: unknown;
}

/** POST /api/embed body (seed 000 `EmbedRequest`). */
export interface ForemanEmbedRequest {
  model: string;
  input: unknown;
  keep_alive?: unknown;
  options?: unknown;
}

/** foreman's terminal states: `Submit` waits until one of them (seed 000 `pollUntilDone`). */
export const FOREMAN_TERMINAL = new Set(['done', 'failed']);

/** foreman state -> generic job state. Unknown non-terminal states count as working. */
export function jobStateOf(state: string): RemoteJobState {
  if (state === 'done') return 'completed';
  if (state === 'failed') return 'failed';
  if (state === 'queued' || state === 'pending' || state === 'submitted') return 'submitted';
  return 'working';
}

const defined = <T extends Record<string, unknown>>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;

/**
 * A foreman artifact as a generic job artifact: one `file` part (inline base64 `bytes` or `uri`), id =
 * its name; an artifact without a name (Go's `''`) gets `#<index>` as its id, so two are not merged.
 */
export function toJobArtifact(a: z.infer<typeof ForemanArtifactSchema>, index = 0): JobArtifact {
  const part = defined({ name: a.name, mimeType: a.content_type ?? undefined, size: a.size ?? undefined, bytes: a.data ?? undefined, uri: a.url ?? undefined });
  return { artifactId: a.name || `#${index}`, name: a.name, parts: [{ kind: 'file', ...part }] };
}

/** A generic job artifact back in foreman's shape (what `submitAndWait` returns). */
export function toForemanArtifact(a: JobArtifact): ForemanArtifact {
  const part = a.parts.find((p) => p.kind === 'file') as Extract<JobArtifact['parts'][number], { kind: 'file' }> | undefined;
  return {
    name: a.name ?? '',
    content_type: part?.mimeType ?? '',
    size: part?.size ?? 0,
    ...(part?.bytes !== undefined ? { data: part.bytes } : {}),
    ...(part?.uri !== undefined ? { url: part.uri } : {}),
  };
}

/**
 * A job status (poll answer or webhook body) as a generic {@link JobUpdate} (pure, JSON-safe). Its
 * `message` is always the status's `error` (`''` when none), so the last status's error is the one
 * kept, as seed 000's `statusToResult` keeps `Error` whatever the state.
 */
export function statusToJobUpdate(s: ForemanJobStatus): JobUpdate {
  const update: JobUpdate = { state: jobStateOf(s.state), remoteState: s.state, attempt: s.attempt ?? 0, message: s.error ?? '' };
  if (s.result !== undefined && s.result !== null) update.result = s.result;
  if (s.artifacts && s.artifacts.length > 0) update.artifacts = s.artifacts.map((a, i) => toJobArtifact(a, i));
  const details = defined({ model: s.model, created_at: s.created_at, started_at: s.started_at, completed_at: s.completed_at });
  if (Object.keys(details).length > 0) update.details = details;
  return update;
}

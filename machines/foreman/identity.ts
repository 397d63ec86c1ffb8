import type { ForemanJobStatus } from './schemas.ts';

/**
 * Whether a job status is about the job a stream follows, or about another job the daemon gave the
 * same `job_id` (a daemon whose id generator repeats, e.g. a counter restarted).
 * A job's `created_at` never changes, so a status whose `created_at` differs from the one the stream
 * first saw (kept in `context.details.created_at`, passed to the follow and poll actors as
 * `input.details`) names another job: taking it would end this job with another's answer.
 *
 * Pure. Returns the reason when the status is another job's, `undefined` when it is ours or cannot
 * be told apart (either `created_at` missing: Go's zero value).
 *
 * @param ours the `created_at` this stream first saw, if any
 * @param status the answer of `GET /jobs/{id}` or a webhook body
 * @example
 * ```ts
 * otherJobReason('2026-01-01T00:00:00.000Z', { job_id: 'j1', created_at: '2026-01-01T00:00:05.000Z' });
 * // 'job_id j1 now names another job (created_at 2026-01-01T00:00:05.000Z, ours 2026-01-01T00:00:00.000Z): the daemon reused the id; not applied'
 * ```
 */
export function otherJobReason(ours: string | undefined, status: Pick<ForemanJobStatus, 'job_id' | 'created_at'>): string | undefined {
  const theirs = status.created_at ?? undefined;
  if (ours === undefined || theirs === undefined || theirs === '' || ours === theirs) return undefined;
  return `job_id ${status.job_id} now names another job (created_at ${theirs}, ours ${ours}): the daemon reused the id; not applied`;
}

/** The `created_at` a stream first saw, from the job's `context.details` (undefined when none yet). */
export function createdAtOf(details: Record<string, unknown> | undefined): string | undefined {
  const v = details?.created_at;
  return typeof v === 'string' && v !== '' ? v : undefined;
}

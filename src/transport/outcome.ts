import { ActorlogError } from '../errors.ts';

/** Network failures that happen before a request is written: it never reached the server. */
const NOT_SENT_CAUSES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
/** Statuses that say the server did not act on the request (RFC 9110 §15.5.9, §15.6.4; RFC 6585 §4). */
const NOT_HANDLED_STATUSES: ReadonlySet<number> = new Set([408, 429, 503]);

/**
 * True when a failed call certainly had no effect: the connection was never made (refused, DNS,
 * unreachable, connect timeout: `details.cause`), or the server answered 408, 429 or 503
 * (`details.status`), which say it did not act. A call that failed otherwise after its request may
 * have been written (reset, a timeout or stall while waiting for the answer, 500/502/504, an
 * unreadable answer) may have taken effect.
 */
export function notDelivered(err: unknown): boolean {
  const details = (err as { details?: Record<string, unknown> } | undefined)?.details;
  const cause = details?.cause;
  const status = details?.status;
  return (typeof cause === 'string' && NOT_SENT_CAUSES.has(cause)) || (typeof status === 'number' && NOT_HANDLED_STATUSES.has(status));
}

/**
 * The rule for a call that is not idempotent (a POST that creates a job, runs a shell command,
 * sends a message): a `TRANSIENT` failure after which the request may have taken effect
 * ({@link notDelivered} is false: the answer was lost, timed out, or was a gateway's) becomes
 * `OUTCOME_UNKNOWN`, so it is never re-sent blindly (docs/architecture.md invariant 5). Any other
 * error passes unchanged: `PERMANENT` (the server refused), `ABORTED`, a `TRANSIENT` failure that
 * certainly had no effect (safe to retry).
 *
 * @param label what was sent, for the message (`foreman POST /jobs`)
 * @param details what is known, kept in the error (an idempotency key, a message id)
 * @example
 * ```ts
 * try { return await client.submitJob(job); }
 * catch (err) { throw unlessNotDelivered('foreman POST /jobs', err, { idempotencyKey }); }
 * ```
 */
export function unlessNotDelivered(label: string, err: unknown, details: Record<string, unknown> = {}): unknown {
  if (!(err instanceof ActorlogError) || err.code !== 'TRANSIENT' || notDelivered(err)) return err;
  return new ActorlogError(
    'OUTCOME_UNKNOWN',
    `${label}: the request was sent but its answer was lost (${err.message}); it may have taken effect, so it is not sent again`,
    {
      cause: err,
      details: { ...err.details, ...details, lostAnswer: true },
    },
  );
}

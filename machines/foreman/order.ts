import type { ForemanJobStatus } from './schemas.ts';

/**
 * Where a job status stands in the job's life, to tell new updates from duplicates and stale ones:
 * `attempt` first, then the state's rank (queued < running < done | failed). A terminal state is
 * never superseded. Written as the cursor of each update (`a<attempt>.<state>`, e.g. `a1.running`),
 * so a recovered follower resumes its dedupe from the log (docs/architecture.md invariant 3).
 *
 * Webhooks may be retried by the daemon (duplicates) and are not ordered (out-of-order delivery),
 * and the catch-up GET may race them: only updates {@link isNewer} than the last one are applied.
 */
export interface StatusOrder {
  attempt: number;
  state: string;
}

const RANK: Record<string, number> = { queued: 1, pending: 1, submitted: 1, running: 2, done: 3, failed: 3 };
const rank = (state: string) => RANK[state] ?? 2;
const terminal = (state: string) => rank(state) === 3;

/** The order of a status. */
export function orderOf(status: Pick<ForemanJobStatus, 'attempt' | 'state'>): StatusOrder {
  return { attempt: status.attempt ?? 0, state: status.state };
}

/** The cursor text of an order: `a<attempt>.<state>`. */
export function formatOrder(order: StatusOrder): string {
  return `a${order.attempt}.${order.state}`;
}

/** Reads a cursor written by {@link formatOrder}; anything else (no cursor, another format) is `undefined`. */
export function parseOrder(cursor: string | undefined): StatusOrder | undefined {
  const m = /^a(\d+)\.(.+)$/.exec(cursor ?? '');
  return m ? { attempt: Number(m[1]), state: m[2] } : undefined;
}

/** True when `next` comes after `last` (or nothing came yet). Equal orders are duplicates. */
export function isNewer(next: StatusOrder, last: StatusOrder | undefined): boolean {
  if (!last) return true;
  if (terminal(last.state)) return false;
  if (terminal(next.state)) return true;
  if (next.attempt !== last.attempt) return next.attempt > last.attempt;
  return rank(next.state) > rank(last.state);
}

/** The generic job machine and its wire contract (subpath export `actorlog/machines/job`). */
export { jobMachine, type JobMachine } from './machine.ts';
export { initialJobContext, applyUpdate, mergeArtifacts, backoffMs, DEFAULT_POLL_INTERVAL_MS, NO_TIMEOUT_TIMER_MS, type JobContext, type JobInput, type FollowMode } from './context.ts';
export type * from './events.ts';

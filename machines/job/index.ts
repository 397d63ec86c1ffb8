/** The generic job machine and its wire contract (subpath export `actorlog/machines/job`). */
export { jobMachine, type JobMachine } from './machine.ts';
export { DEFAULT_POLL_INTERVAL_MS, type JobContext, type JobInput, type FollowMode } from './context.ts';
export type * from './events.ts';

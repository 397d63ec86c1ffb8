/** The generic session machine and its wire contract (subpath export `actorlog/machines/session`). */
import { sessionMachine } from './machine.ts';

export { sessionMachine, type SessionMachine } from './machine.ts';
export { initialSessionContext, mergePart, textOutput, sessionBackoffMs, MAX_PARTS, type SessionContext, type SessionInput } from './context.ts';
export type * from './events.ts';

/**
 * The machines of this module by the name their streams record, for `actorlog replay --machines
 * machines/session/index.ts` (every binding shares the one `session` definition and hash).
 */
export const machines = { session: sessionMachine };

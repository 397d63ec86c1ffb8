import type { ErrorInfo } from '../errors.ts';

/**
 * The type of the event the runtime appends (source `system`) when a journaled machine threw: in an
 * action, a guard or an `assign`, in the root or in a child machine. Replay reads it to reproduce the
 * failure: the failed actor goes back to its snapshot before the event that threw, in status `error`.
 */
export const FAILED_EVENT = 'actorlog.failed';

/** The data of an {@link FAILED_EVENT} record. */
export interface FailureData {
  /** The path of the child machine that threw; absent when the stream's root actor threw. */
  actor?: string;
  /** The stream version of the event whose processing threw (0: while the actor started). */
  at: number;
  /** The type of that event (`xstate.init` when it threw on start). */
  eventType: string;
  /** The state the actor was in when it threw (XState state value). */
  state: unknown;
  /** What was thrown. */
  error: ErrorInfo;
  /** The first stack frame of the throw outside XState (`file:line:column`, with the function name when it has one). */
  where?: string;
}

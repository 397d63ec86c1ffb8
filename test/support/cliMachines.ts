import { from } from 'rxjs';
import { assign, fromEventObservable, setup, type AnyStateMachine } from 'xstate';
import { jobMachine } from '../../machines/job/machine.ts';
import type { JobWireEvent } from '../../machines/job/events.ts';

/**
 * The e2e CLI tests' own machine: a counter that is started, counts, pauses and finishes. Nested
 * states so that `replay` prints dotted values (`running.counting`).
 */
export const counterMachine = setup({
  types: {
    context: {} as { count: number; step: number },
    input: {} as { step?: number },
    events: {} as { type: 'start' } | { type: 'inc' } | { type: 'pause' } | { type: 'resume' } | { type: 'finish' },
  },
}).createMachine({
  id: 'counter',
  context: ({ input }) => ({ count: 0, step: input?.step ?? 1 }),
  initial: 'idle',
  states: {
    idle: { on: { start: 'running' } },
    running: {
      initial: 'counting',
      on: { finish: 'finished' },
      states: {
        counting: { on: { inc: { actions: assign({ count: ({ context }) => context.count + context.step }) }, pause: 'paused' } },
        paused: { on: { resume: 'counting' } },
      },
    },
    finished: { type: 'final' },
  },
});

const accepted: JobWireEvent[] = [{ type: 'job.accepted', remoteId: 'r-1', update: { state: 'working' }, meta: { source: 'poll' } }];
const updates: JobWireEvent[] = [
  { type: 'job.update', update: { state: 'working', message: 'half way' }, meta: { source: 'sse', cursor: 'e1' } },
  { type: 'job.update', update: { state: 'completed', message: 'done' }, meta: { source: 'sse', cursor: 'e2' } },
];

/**
 * The job machine with tiny fake actors instead of a protocol binding: `submit` answers
 * `job.accepted` (remote id `r-1`, state working) and completes; `follow` streams two SSE updates
 * with cursors `e1` (working) and `e2` (completed). Its actors are part of its hash, so its streams
 * replay with this machine (`--machines`), not with the built-in `job`.
 */
export const fakeJobMachine: AnyStateMachine = jobMachine.provide({
  actors: {
    submit: fromEventObservable(() => from(accepted)),
    follow: fromEventObservable(() => from(updates)),
  } as never,
});

/** What `actorlog replay --machines test/support/cliMachines.ts` registers. */
export const machines: Record<string, AnyStateMachine> = { counter: counterMachine, job: fakeJobMachine };

import { assign, setup } from 'xstate';

/** Input of a batch: how many jobs it runs and the prompts they cycle through. */
export interface BatchInput {
  batchId: string;
  size: number;
  prompts: string[];
}

/**
 * The main job's own plan, journaled like any actor: a batch of `size` jobs, each reported back
 * with `job.finished` when it ends. After a crash the orchestrator recovers the batch, spawns the
 * jobs it had not spawned yet, and keeps counting; the batch is done when every job is.
 */
export const batchMachine = setup({
  types: {
    input: {} as BatchInput,
    context: {} as BatchInput & { finished: Record<string, string> },
    events: {} as { type: 'job.finished'; jobId: string; state: string },
  },
  guards: {
    allFinished: ({ context }) => Object.keys(context.finished).length >= context.size,
  },
}).createMachine({
  id: 'batch',
  context: ({ input }) => ({ ...input, finished: {} }),
  initial: 'running',
  states: {
    running: {
      always: { guard: 'allFinished', target: 'done' },
      on: {
        'job.finished': {
          guard: ({ context, event }) => !(event.jobId in context.finished),
          actions: assign({ finished: ({ context, event }) => ({ ...context.finished, [event.jobId]: event.state }) }),
        },
      },
    },
    done: { type: 'final' },
  },
});

/** The job ids of a batch: `<batchId>.job-01`…; stable, so a restart finds the same ones. */
export function batchJobIds(input: Pick<BatchInput, 'batchId' | 'size'>): string[] {
  const width = String(input.size).length < 2 ? 2 : String(input.size).length;
  return Array.from({ length: input.size }, (_, i) => `${input.batchId}.job-${String(i + 1).padStart(width, '0')}`);
}

/** What `actorlog replay --machines examples/batch-machine.ts` registers: the main job's batch streams. */
export const machines = { batch: batchMachine };

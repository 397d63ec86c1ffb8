import { assign, sendParent, sendTo, setup, type AnyStateMachine } from 'xstate';

/**
 * The machines of the viewer's tests, one shape each: how an actor ended (a final state that is a
 * failure, a throw), an actor tree with a child machine that has a context of its own, a message to
 * another journaled actor, a queue whose head is taken.
 */

/** A job that ends in `done` or `failed` (two final states): `job.ok` / `job.fail`. */
export const outcomeMachine = setup({}).createMachine({
  id: 'outcome',
  initial: 'working',
  states: {
    working: { on: { 'job.ok': 'done', 'job.fail': 'failed', 'job.cancel': 'canceled' } },
    done: { type: 'final' },
    failed: { type: 'final' },
    canceled: { type: 'final' },
  },
});

/** Throws in an action on `boom`, while `running`. */
export const crashMachine = setup({
  actions: {
    explode: () => {
      throw new Error('kaboom in the action');
    },
  },
}).createMachine({
  id: 'crash',
  initial: 'idle',
  states: {
    idle: { on: { start: 'running' } },
    running: { on: { boom: { actions: 'explode' } } },
  },
});

/** The child machine: counts the `inc` its parent sends and answers each with `pong`. */
export const tallyMachine = setup({
  types: { context: {} as { count: number; seen: string[] } },
}).createMachine({
  id: 'tally',
  context: { count: 0, seen: [] },
  initial: 'counting',
  states: {
    counting: {
      on: {
        inc: {
          actions: [
            assign({ count: ({ context }) => context.count + 1, seen: ({ context, event }) => [...context.seen, (event as { note?: string }).note ?? 'inc'] }),
            sendParent({ type: 'pong' }),
          ],
        },
        stop: 'stopped',
      },
    },
    stopped: { type: 'final' },
  },
});

/** The parent: invokes `tally` as `counter`; `ping` sends it `inc` and tells the journaled actor `peer-1` with a note. */
export const pingMachine = setup({
  types: { context: {} as { pongs: number } },
  actors: { tally: tallyMachine },
}).createMachine({
  id: 'ping',
  context: { pongs: 0 },
  initial: 'active',
  states: {
    active: {
      invoke: { id: 'counter', src: 'tally' },
      on: {
        ping: { actions: [sendTo('counter', { type: 'inc', note: 'from parent' }), sendTo(({ system }) => system.get('peer-1'), { type: 'note' })] },
        pong: { actions: assign({ pongs: ({ context }) => context.pongs + 1 }) },
        finish: 'finished',
      },
    },
    finished: { type: 'final' },
  },
});

/** The other journaled actor: counts the notes it gets. */
export const peerMachine = setup({ types: { context: {} as { notes: number } } }).createMachine({
  id: 'peer',
  context: { notes: 0 },
  initial: 'listening',
  states: { listening: { on: { note: { actions: assign({ notes: ({ context }) => context.notes + 1 }) } } } },
});

/** A queue of jobs: `enqueue` appends one (`{ id, text }`), `take` removes the head. */
export const queueMachine = setup({
  types: { context: {} as { queue: Array<{ id: string; text: string }> }, events: {} as { type: 'enqueue'; id: string; text: string } | { type: 'take' } },
}).createMachine({
  id: 'queue',
  context: { queue: [] },
  initial: 'open',
  states: {
    open: {
      on: {
        enqueue: { actions: assign({ queue: ({ context, event }) => [...context.queue, { id: event.id, text: event.text }] }) },
        take: { actions: assign({ queue: ({ context }) => context.queue.slice(1) }) },
      },
    },
  },
});

/** For `actorlog view --machines test/support/viewerMachines.ts`. */
export const machines: Record<string, AnyStateMachine> = {
  outcome: outcomeMachine,
  crash: crashMachine,
  ping: pingMachine,
  peer: peerMachine,
  queue: queueMachine,
};

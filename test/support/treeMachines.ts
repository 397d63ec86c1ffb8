import { appendFileSync } from 'node:fs';
import { assign, fromPromise, raise, sendTo, setup, type ActorRefFrom } from 'xstate';

/**
 * The machines of the user-style crash test: shaped unlike the shipped bindings. A
 * parent spawns two child machines, runs a promise that completes at once and one that is in
 * flight for a while, beats on a delayed raise with an id and waits for a delayed raise without
 * one, steps its workers with `sendTo`, and pings a second journaled actor on every beat. Effects
 * append a line to the file named by `ACTORLOG_EFFECTS` (the test counts them).
 */
function effect(key: string): void {
  const file = process.env.ACTORLOG_EFFECTS;
  if (file) appendFileSync(file, `effect ${key}\n`);
}

/**
 * A worker: counts the steps its parent sends and beats itself three times with an unnamed delayed
 * raise; ends once it has had 4 steps and 3 ticks, whatever order they came in.
 */
export const worker = setup({
  types: { context: {} as { steps: number; ticks: number }, events: {} as { type: 'step' } | { type: 'tick' } },
}).createMachine({
  id: 'worker',
  context: { steps: 0, ticks: 0 },
  initial: 'working',
  states: {
    working: {
      entry: raise({ type: 'tick' }, { delay: 120 }),
      always: { guard: ({ context }) => context.steps >= 4 && context.ticks >= 3, target: 'finished' },
      on: {
        tick: [
          {
            guard: ({ context }) => context.ticks < 2,
            actions: [assign({ ticks: ({ context }) => context.ticks + 1 }), raise({ type: 'tick' }, { delay: 120 })],
          },
          { actions: assign({ ticks: ({ context }) => context.ticks + 1 }) },
        ],
        step: { actions: assign({ steps: ({ context }) => context.steps + 1 }) },
      },
    },
    finished: { type: 'final' },
  },
});

/** The second journaled actor: keeps every ping it gets, ends on `bye`. */
export const receiver = setup({
  types: { context: {} as { pings: number[] }, events: {} as { type: 'ping'; n: number } | { type: 'bye' } },
}).createMachine({
  id: 'receiver',
  context: { pings: [] },
  initial: 'listening',
  states: {
    listening: { on: { ping: { actions: assign({ pings: ({ context, event }) => [...context.pings, event.n] }) }, bye: 'closed' } },
    closed: { type: 'final' },
  },
});

const BEATS = 10;

/** The parent. Input: the stream id of the receiver. */
export const parent = setup({
  types: {
    input: {} as { peer: string },
    context: {} as {
      peer: string;
      beats: number;
      quick: string | null;
      slow: string | null;
      late: boolean;
      workers: { a: ActorRefFrom<typeof worker>; b: ActorRefFrom<typeof worker> };
      workersDone: number;
    },
    events: {} as { type: 'beat' } | { type: 'late' },
  },
  actors: {
    worker,
    quick: fromPromise(async () => {
      effect('quick');
      return 'quick-ok';
    }),
    slow: fromPromise(async () => {
      effect('slow-start');
      await new Promise((r) => setTimeout(r, 700));
      effect('slow');
      return 'slow-ok';
    }),
  },
  guards: {
    complete: ({ context }) => context.beats >= BEATS && context.slow !== null && context.late && context.workersDone === 2,
  },
}).createMachine({
  id: 'parent',
  context: ({ input, spawn }) => ({
    peer: input.peer,
    beats: 0,
    quick: null,
    slow: null,
    late: false,
    workers: { a: spawn('worker', { id: 'wa' }), b: spawn('worker', { id: 'wb' }) },
    workersDone: 0,
  }),
  initial: 'running',
  states: {
    running: {
      entry: [raise({ type: 'beat' }, { id: 'beat', delay: 150 }), raise({ type: 'late' }, { delay: 900 })],
      invoke: [
        { id: 'quick', src: 'quick', onDone: { actions: assign({ quick: ({ event }) => event.output as string }) } },
        { id: 'slow', src: 'slow', onDone: { actions: assign({ slow: ({ event }) => event.output as string }) } },
      ],
      on: {
        beat: {
          guard: ({ context }) => context.beats < BEATS,
          actions: [
            assign({ beats: ({ context }) => context.beats + 1 }),
            sendTo(({ context }) => context.workers.a, { type: 'step' }),
            sendTo(({ context }) => context.workers.b, { type: 'step' }),
            sendTo(
              ({ system, context }) => system.get(context.peer),
              ({ context }) => ({ type: 'ping', n: context.beats }),
            ),
            raise({ type: 'beat' }, { id: 'beat', delay: 150 }),
          ],
        },
        late: { actions: assign({ late: true }) },
        'xstate.done.actor.wa': { actions: assign({ workersDone: ({ context }) => context.workersDone + 1 }) },
        'xstate.done.actor.wb': { actions: assign({ workersDone: ({ context }) => context.workersDone + 1 }) },
      },
      always: { guard: 'complete', target: 'finished' },
    },
    finished: { type: 'final', entry: sendTo(({ system, context }) => system.get(context.peer), { type: 'bye' }) },
  },
});

/** For `actorlog replay --machines test/support/treeMachines.ts`. */
export const machines = { parent, receiver };

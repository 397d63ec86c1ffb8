/**
 * Issue 15 items 2 and 7: timers the log must tell apart. Two children of one machine, each with its
 * own `after` delay (XState makes one `after` event object per state node, shared by both); two
 * delayed raises sharing one event object, the later-scheduled firing first; a child's delayed
 * `sendParent` and a delayed `sendTo(self)`, pending across the crash.
 */
import { assign, raise, sendParent, sendTo, setup } from 'xstate';
import { advance, type Scenario } from './scenario.ts';

/** Beats every `every` ms (an `after` with a delay read from context), ends after three beats. */
export const pinger = setup({
  types: { context: {} as { every: number; beats: number[] }, input: {} as { every: number } },
  delays: { every: ({ context }) => context.every },
}).createMachine({
  id: 'pinger',
  context: ({ input }) => ({ every: input.every, beats: [] }),
  initial: 'waiting',
  states: {
    waiting: {
      always: { guard: ({ context }) => context.beats.length === 3, target: 'done' },
      after: { every: { target: 'waiting', reenter: true, actions: assign({ beats: ({ context }) => [...context.beats, context.beats.length + 1] }) } },
    },
    done: { type: 'final' },
  },
});

/** Spawns two pingers (300 ms and 500 ms); ends once both have. */
export const owner = setup({ types: { context: {} as { finished: string[] } }, actors: { pinger } }).createMachine({
  id: 'owner',
  context: { finished: [] },
  invoke: [
    { id: 'fast', src: 'pinger', input: { every: 300 }, onDone: { actions: assign({ finished: ({ context }) => [...context.finished, 'fast'] }) } },
    { id: 'slow', src: 'pinger', input: { every: 500 }, onDone: { actions: assign({ finished: ({ context }) => [...context.finished, 'slow'] }) } },
  ],
  always: { guard: ({ context }) => context.finished.length === 2, target: '.over' },
  initial: 'running',
  states: { running: {}, over: { type: 'final' } },
});

/** One event object, raised twice: `late` (500 ms) is scheduled first, `early` (100 ms) fires first. */
const REMIND = { type: 'remind' } as const;
export const reminders = setup({ types: { context: {} as { reminded: number } } }).createMachine({
  id: 'reminders',
  context: { reminded: 0 },
  entry: [raise(REMIND, { id: 'late', delay: 500 }), raise(REMIND, { id: 'early', delay: 100 })],
  on: { remind: { actions: assign({ reminded: ({ context }) => context.reminded + 1 }) } },
  always: { guard: ({ context }) => context.reminded === 2, target: '.over' },
  initial: 'waiting',
  states: { waiting: {}, over: { type: 'final' } },
});

/** A child that reports to its parent after 600 ms (a delayed sendParent). */
const reporter = setup({}).createMachine({ id: 'reporter', entry: sendParent({ type: 'report' }, { delay: 600 }) });

/** A delayed sendTo(self) of 100 ms and of 700 ms, and a child's delayed report: the log keeps all three. */
export const selfish = setup({ types: { context: {} as { got: string[] } }, actors: { reporter } }).createMachine({
  id: 'selfish',
  context: { got: [] },
  invoke: { id: 'reporter', src: 'reporter' },
  entry: [sendTo(({ self }) => self, { type: 'tick', n: 1 }, { delay: 100 }), sendTo(({ self }) => self, { type: 'tick', n: 2 }, { delay: 700 })],
  on: {
    tick: { actions: assign({ got: ({ context, event }) => [...context.got, `tick${(event as unknown as { n: number }).n}`] }) },
    report: { actions: assign({ got: ({ context }) => [...context.got, 'report'] }) },
  },
  always: { guard: ({ context }) => context.got.length === 3, target: '.over' },
  initial: 'waiting',
  states: { waiting: {}, over: { type: 'final' } },
});

export const timers: Scenario = {
  machines: { owner, reminders, selfish },
  phases: [
    {
      at: 10_000,
      async run({ system, clock }) {
        system.spawn('owner', { id: 'o-1' });
        system.spawn('reminders', { id: 'r-1' });
        system.spawn('selfish', { id: 's-1' });
        advance(clock, 350); // fast beat 1 (10_300), early (10_100), tick1 (10_100); the rest is pending
        return Object.fromEntries(system.list().map((a) => [a.id, a.getSnapshot().status]));
      },
    },
    {
      at: 10_550, // 200 ms passed while the process was dead: slow's first beat and `late` came due meanwhile
      async run({ system, clock }) {
        const { recovered, failed } = await system.recover();
        advance(clock, 2_000);
        return { recovered: recovered.map((a) => a.id), failed };
      },
    },
  ],
};

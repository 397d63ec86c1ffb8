/**
 * The definition `actorlog inspect` sends is a machine config made from the one the
 * log stores. Built with `createMachine()`, it is the logged statechart again: the same states,
 * transitions, guards, actions, actors, delays and eventless transitions.
 */
import { describe, expect, it } from 'vitest';
import { and, assign, createMachine, fromPromise, not, setup, type AnyStateMachine } from 'xstate';
import { machineDefinition } from '../../src/runtime/definition.ts';
import { canonicalJson } from '../../src/replay/replay.ts';
import { definitionToConfig } from '../../cli/machineConfig.ts';
import { jobMachine } from '../../machines/job/machine.ts';
import { connectionMachine } from '../../machines/connection/machine.ts';
import { sessionMachine } from '../../machines/session/machine.ts';
import { workerMachine } from '../../machines/ironclaw/machine.ts';

const child = createMachine({ id: 'child', initial: 'a', states: { a: { on: { go: 'b' } }, b: { type: 'final' } } });
const userMachine = setup({
  guards: { ready: () => true, late: () => false },
  actions: { log: () => {} },
  actors: { fetch: fromPromise(async () => 1), child },
}).createMachine({
  id: 'user',
  initial: 'idle',
  context: { n: 0 },
  states: {
    idle: {
      entry: 'log',
      on: {
        start: { target: 'busy', guard: and(['ready', not('late')]), actions: ['log', assign({ n: 1 })] },
        poke: { guard: ({ context }) => context.n > 0, actions: 'log' },
      },
    },
    busy: {
      invoke: [
        { id: 'fetch', src: 'fetch', onDone: 'both', onError: { target: 'idle', actions: 'log' } },
        { id: 'child', src: 'child' },
      ],
      after: { 1000: 'idle', 5000: { target: 'both', guard: 'late' } },
      exit: 'log',
      always: { guard: 'late', target: 'idle' },
    },
    both: {
      type: 'parallel',
      states: {
        x: { initial: 'x1', states: { x1: { on: { next: 'x2' } }, x2: {} } },
        y: { initial: 'y1', states: { y1: {}, hist: { type: 'history', history: 'deep' } } },
      },
    },
  },
});

const cases: Array<[string, AnyStateMachine]> = [
  ['a user machine (and/not, inline guard, assign, after, always, parallel, history)', userMachine],
  ['job', jobMachine],
  ['connection', connectionMachine],
  ['session', sessionMachine],
  ['ironclaw worker', workerMachine],
];

describe('definitionToConfig', () => {
  it.each(cases)('%s: createMachine(config) has the stored definition again', (_name, machine) => {
    const stored = JSON.parse(JSON.stringify(machineDefinition(machine)));
    const rebuilt = createMachine(definitionToConfig(stored) as never);
    expect(canonicalJson(machineDefinition(rebuilt))).toBe(canonicalJson(stored));
  });

  it('writes delays under after, invoke outcomes as onDone/onError, initial as a child key', () => {
    const config = definitionToConfig(machineDefinition(userMachine)) as { initial: string; states: Record<string, Record<string, unknown>> };
    expect(config.initial).toBe('idle');
    const busy = config.states.busy!;
    expect(busy.after).toEqual({ 1000: [{ target: '#user.idle' }], 5000: [{ target: '#user.both', guard: 'late' }] });
    expect(busy.invoke).toEqual([
      { id: 'fetch', src: 'fetch', onDone: [{ target: '#user.both' }], onError: [{ target: '#user.idle', actions: ['log'] }] },
      { id: 'child', src: 'child' },
    ]);
    expect(busy.on).toBeUndefined();
    expect(busy.exit).toEqual([{ type: 'log' }]);
  });
});

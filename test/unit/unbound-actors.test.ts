/**
 * The actors a binding must provide are declared one way in every generic machine (the binding kit's
 * unboundActor): run without a binding, each fails at once with INVALID_OPTIONS naming the machine
 * and the missing actor.
 */
import { describe, expect, it } from 'vitest';
import { createActor, type AnyActorLogic, type AnyStateMachine } from 'xstate';
import { connectionMachine } from '../../machines/connection/machine.ts';
import { workerMachine } from '../../machines/ironclaw/machine.ts';
import { jobMachine } from '../../machines/job/machine.ts';
import { sessionMachine } from '../../machines/session/machine.ts';

const machines: Array<[string, AnyStateMachine, string[]]> = [
  ['job', jobMachine, ['submit', 'follow', 'poll', 'reply', 'cancel']],
  ['session', sessionMachine, ['open', 'events', 'prompt', 'abort', 'close']],
  ['connection', connectionMachine, ['register', 'heartbeat', 'receive', 'dispatch', 'reply', 'command']],
  ['ironclaw worker', workerMachine, ['fetchJob', 'fetchCredentials', 'llm', 'runTool', 'pollPrompt', 'report', 'finish']],
];

/** The error an actor logic fails with when started on its own. */
function failureOf(logic: AnyActorLogic): unknown {
  const actor = createActor(logic, { input: {} as never });
  let error: unknown;
  actor.subscribe({ error: (err) => (error = err) });
  actor.start();
  return error;
}

describe('actors a binding must provide', () => {
  for (const [name, machine, actors] of machines) {
    it(`${name}: each of ${actors.join(', ')} fails with INVALID_OPTIONS naming it when no binding gave it`, () => {
      const declared = machine.implementations.actors as Record<string, AnyActorLogic>;
      for (const actor of actors) {
        expect(failureOf(declared[actor]!), actor).toMatchObject({
          code: 'INVALID_OPTIONS',
          message: `the ${name} machine has no "${actor}" actor: give it a binding with .provide({ actors })`,
        });
      }
    });
  }
});

/**
 * Issue 15 item 4: input from another XState system. A plain XState actor (`createActor`, not
 * journaled) is given a journaled actor's ref and sends to it; a journaled server replies by ref to
 * a child machine of another journaled actor (the reply-to pattern). Both are journaled as inputs.
 */
import { assign, createActor, sendParent, sendTo, setup, type AnyActorRef } from 'xstate';
import type { Scenario } from './scenario.ts';

export const counter = setup({ types: { context: {} as { n: number }, events: {} as { type: 'inc' } } }).createMachine({
  id: 'counter',
  context: { n: 0 },
  on: { inc: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
});

/** A plain machine of the application, run by XState alone: on `go` it sends `inc` to the ref it was given. */
const plain = setup({ types: { context: {} as { to: AnyActorRef }, input: {} as { to: AnyActorRef } } }).createMachine({
  id: 'plain',
  context: ({ input }) => ({ to: input.to }),
  on: { go: { actions: sendTo(({ context }) => context.to, { type: 'inc' }) } },
});

/** Answers a `req` to the ref it names, in the same transition. */
export const server = setup({ types: { events: {} as { type: 'req'; replyTo: AnyActorRef; n: number } } }).createMachine({
  id: 'server',
  on: {
    req: {
      actions: sendTo(
        ({ event }) => event.replyTo,
        ({ event }) => ({ type: 'reply', n: event.n * 10 }),
      ),
    },
  },
});

/** A child machine that asks the server, with its own ref to reply to, and keeps the answers. */
const asker = setup({ types: { context: {} as { answers: number[] } } }).createMachine({
  id: 'asker',
  context: { answers: [] },
  on: {
    ask: {
      actions: sendTo(
        ({ system }) => system.get('srv-1'),
        ({ self, context }) => ({ type: 'req', replyTo: self, n: context.answers.length + 1 }),
      ),
    },
    reply: {
      actions: [assign({ answers: ({ context, event }) => [...context.answers, (event as unknown as { n: number }).n] }), sendParent({ type: 'answered' })],
    },
  },
});

export const client = setup({ types: { context: {} as { answered: number } }, actors: { asker } }).createMachine({
  id: 'client',
  context: { answered: 0 },
  invoke: { id: 'kid', src: 'asker' },
  on: { ask: { actions: sendTo('kid', { type: 'ask' }) }, answered: { actions: assign({ answered: ({ context }) => context.answered + 1 }) } },
});

type Snap = { context: unknown; children: Record<string, { getSnapshot(): { context: unknown } }> };
const state = (system: { get(id: string): { getSnapshot(): unknown } | undefined }) => {
  const cl = system.get('cl-1')!.getSnapshot() as Snap;
  return { counter: (system.get('c-1')!.getSnapshot() as Snap).context, client: cl.context, kid: cl.children.kid!.getSnapshot().context };
};

export const foreign: Scenario = {
  machines: { counter, server, client },
  phases: [
    {
      at: 0,
      async run({ system }) {
        const c = system.spawn('counter', { id: 'c-1' });
        const app = createActor(plain, { input: { to: c.ref } }).start();
        app.send({ type: 'go' });
        app.send({ type: 'go' });
        system.spawn('server', { id: 'srv-1' });
        const cl = system.spawn('client', { id: 'cl-1' });
        cl.send({ type: 'ask' });
        cl.send({ type: 'ask' });
        await system.settled();
        return state(system);
      },
    },
    {
      at: 1_000,
      async run({ system }) {
        await system.recover();
        await system.settled();
        return state(system);
      },
    },
  ],
};

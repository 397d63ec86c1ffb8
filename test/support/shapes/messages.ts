/**
 * Issue 15 item 3: messages to journaled actors that are not running. An entry action of the initial
 * state addresses a receiver before the system is wired; a broadcast reaches one receiver that has
 * ended; a receiver whose machine this process does not register (not recovered here) is sent to;
 * a sender recovered before its receiver sends while it starts (its source reports at once).
 */
import { assign, fromCallback, sendTo, setup } from 'xstate';
import type { Scenario } from './scenario.ts';

/** Keeps who pinged it; `close` ends it. */
export const receiver = setup({
  types: { context: {} as { pings: string[] }, events: {} as { type: 'ping'; from: string } | { type: 'close' } },
}).createMachine({
  id: 'receiver',
  context: { pings: [] },
  initial: 'open',
  states: {
    open: { on: { ping: { actions: assign({ pings: ({ context, event }) => [...context.pings, event.from] }) }, close: 'closed' } },
    closed: { type: 'final' },
  },
});

/** Pings b-1 from the entry action of its initial state. */
export const greeter = setup({}).createMachine({
  id: 'greeter',
  entry: sendTo(({ system }) => system.get('b-1'), { type: 'ping', from: 'entry' } as { type: string }),
});

/** On `go`, pings b-1 and b-2 in one transition. */
export const broadcaster = setup({ types: { context: {} as { n: number } } }).createMachine({
  id: 'broadcaster',
  context: { n: 0 },
  on: {
    go: {
      actions: [
        assign({ n: ({ context }) => context.n + 1 }),
        sendTo(
          ({ system }) => system.get('b-1'),
          ({ context }) => ({ type: 'ping', from: `broadcast ${context.n}` }),
        ),
        sendTo(
          ({ system }) => system.get('b-2'),
          ({ context }) => ({ type: 'ping', from: `broadcast ${context.n}` }),
        ),
      ],
    },
  },
});

/**
 * A source that reports a frame with cursor 1 on its first run and `woke` at once when restarted from
 * that cursor; on `woke` the waker pings b-3 and ends.
 */
export const waker = setup({
  actors: {
    source: fromCallback(({ sendBack, input }: { sendBack: (e: { type: string; meta?: unknown }) => void; input: { cursor?: string } }) => {
      sendBack(input.cursor === undefined ? { type: 'frame', meta: { source: 'ws', cursor: '1' } } : { type: 'woke' });
    }),
  },
}).createMachine({
  id: 'waker',
  initial: 'listening',
  states: {
    listening: {
      invoke: { id: 'source', src: 'source', input: () => ({}) },
      on: { woke: { target: 'woken', actions: sendTo(({ system }) => system.get('b-3'), { type: 'ping', from: 'waker' } as { type: string }) } },
    },
    woken: { type: 'final' },
  },
});

const all = { receiver, greeter, broadcaster, waker };

type Pings = Record<string, string[] | undefined>;
const pings = (system: { get(id: string): { getSnapshot(): { context: unknown } } | undefined }): Pings =>
  Object.fromEntries(['b-1', 'b-2', 'b-3'].map((id) => [id, (system.get(id)?.getSnapshot().context as { pings: string[] } | undefined)?.pings]));

export const messages: Scenario = {
  machines: all,
  phases: [
    {
      at: 0,
      async run({ system }) {
        system.spawn('waker', { id: 'w-1' }); // created before b-3: recovery starts it first
        for (const id of ['b-1', 'b-2', 'b-3']) system.spawn('receiver', { id });
        system.spawn('greeter', { id: 'g-1' });
        system.get('b-2')!.send({ type: 'close' });
        system.spawn('broadcaster', { id: 'bc-1' }).send({ type: 'go' });
        await system.settled();
        return pings(system);
      },
    },
    {
      at: 1_000,
      machines: { greeter, broadcaster }, // b-1 and b-3 are not resumed here (their machine is not registered), nor the waker
      async run({ system, store }) {
        const { recovered, failed } = await system.recover();
        system.get('bc-1')!.send({ type: 'go' }); // b-1 not running here, b-2 ended: both go to an inbox
        await system.settled();
        return {
          recovered: recovered.map((a) => a.id),
          failed: failed.map((f) => [f.streamId, f.error.code]),
          inbox: { 'b-1': store.readInbox('b-1').length, 'b-2': store.readInbox('b-2').length },
        };
      },
    },
    {
      at: 2_000,
      async run({ system }) {
        const { recovered } = await system.recover();
        await system.settled();
        return { recovered: recovered.map((a) => a.id), pings: pings(system) };
      },
    },
    {
      at: 3_000,
      async run({ system }) {
        const { recovered } = await system.recover();
        await system.settled();
        return { recovered: recovered.map((a) => a.id), pings: pings(system) };
      },
    },
  ],
};

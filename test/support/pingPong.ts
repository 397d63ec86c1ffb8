import { assign, sendTo, setup } from 'xstate';

/**
 * Two journaled actors that talk across nodes: the pinger sends `total` numbered pings to the
 * actor `b`, one per timer tick, and ends once every pong came back; the ponger answers each ping.
 */
export const pinger = setup({
  types: {
    input: {} as { total: number },
    context: {} as { total: number; next: number; pongs: number },
    events: {} as { type: 'pong'; n: number },
  },
}).createMachine({
  id: 'pinger',
  context: ({ input }) => ({ total: input.total, next: 1, pongs: 0 }),
  initial: 'sending',
  on: { pong: { actions: assign({ pongs: ({ context }) => context.pongs + 1 }) } },
  states: {
    sending: {
      after: {
        2: [
          {
            guard: ({ context }) => context.next <= context.total,
            actions: [
              sendTo(
                ({ system }) => system.get('b'),
                ({ context }) => ({ type: 'ping', n: context.next }),
              ),
              assign({ next: ({ context }) => context.next + 1 }),
            ],
            target: 'sending',
            reenter: true,
          },
          { target: 'waiting' },
        ],
      },
    },
    waiting: { always: { guard: ({ context }) => context.pongs >= context.total, target: 'done' } },
    done: { type: 'final' },
  },
});

export const ponger = setup({
  types: { context: {} as { pings: number }, events: {} as { type: 'ping'; n: number } },
}).createMachine({
  id: 'ponger',
  context: { pings: 0 },
  on: {
    ping: {
      actions: [
        assign({ pings: ({ context }) => context.pings + 1 }),
        sendTo(
          ({ system }) => system.get('a'),
          ({ event }) => ({ type: 'pong', n: event.n }),
        ),
      ],
    },
  },
});

// The consumer's own machine, in plain ESM JavaScript: what `node app.mjs` journals and what
// `npx actorlog replay … --machines ./machines.mjs` replays. It uses the consumer's copy of xstate
// (a peer dependency of actorlog), with an invoked promise child so replay folds a child's result.
import { assign, fromPromise, setup } from 'xstate';

export const orderMachine = setup({
  actors: {
    charge: fromPromise(async ({ input }) => ({ charged: input.total })),
  },
}).createMachine({
  id: 'order',
  initial: 'open',
  context: ({ input }) => ({ orderId: input.orderId, items: [], total: 0, charged: 0 }),
  states: {
    open: {
      on: {
        'item.add': {
          actions: assign({
            items: ({ context, event }) => [...context.items, { sku: event.sku, qty: event.qty }],
            total: ({ context, event }) => context.total + event.qty * 10,
          }),
        },
        checkout: 'paying',
      },
    },
    paying: {
      invoke: {
        id: 'charge',
        src: 'charge',
        input: ({ context }) => ({ total: context.total }),
        onDone: { target: 'paid', actions: assign({ charged: ({ event }) => event.output.charged }) },
      },
    },
    paid: { type: 'final' },
  },
});

/** What the CLI's `--machines` option reads: the registered names of the streams. */
export const machines = { order: orderMachine };

import { assign, createMachine, fromPromise, sendParent, sendTo, setup, type AnyStateMachine } from 'xstate';

/**
 * The machines of the `actorlog inspect` tests: an order that invokes a promise (`charge`) and a child
 * machine (`worker`, which answers its parent with `sendParent`), then tells another journaled actor,
 * the shipper `shipper-1`, with `sendTo` (a message between streams, with a causation id).
 */
export const workerMachine = createMachine({
  id: 'worker',
  initial: 'working',
  states: {
    working: { on: { 'worker.finish': { target: 'finished', actions: sendParent({ type: 'worker.done' }) } } },
    finished: { type: 'final' },
  },
});

const shipEvent = { type: 'ship', order: 'order-1' };

export const orderMachine = setup({
  types: { context: {} as { receipt: string | null } },
  actors: { charge: fromPromise(async () => ({ receipt: 'r-1' })), worker: workerMachine },
  guards: { canShip: () => true },
  actions: { notifyShipper: sendTo(({ system }) => system.get('shipper-1'), shipEvent) },
}).createMachine({
  id: 'order',
  context: { receipt: null },
  initial: 'paying',
  states: {
    paying: { invoke: { id: 'charge', src: 'charge', onDone: { target: 'packing', actions: assign({ receipt: ({ event }) => event.output.receipt }) } } },
    packing: { invoke: { id: 'worker', src: 'worker' }, on: { 'worker.done': { target: 'shipped', guard: 'canShip', actions: 'notifyShipper' } } },
    shipped: { type: 'final' },
  },
});

export const shipperMachine = createMachine({ id: 'shipper', initial: 'waiting', states: { waiting: { on: { ship: 'shipping' } }, shipping: {} } });

/** What `actorlog inspect --machines test/support/inspectMachines.ts` registers. */
export const machines: Record<string, AnyStateMachine> = { order: orderMachine, shipper: shipperMachine };

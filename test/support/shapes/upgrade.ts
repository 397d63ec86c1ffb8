/**
 * Issue 15 item 12: deploying a changed machine. Version 1 takes orders; version 2 adds a guard that
 * refuses an empty checkout (a change of the machine, so of its hash, that this log folds alike: no
 * order checked out), so the streams go on with it; version 3 changes what an order adds up to, so it
 * folds the log differently: refused (`verify` names the first version where they part) until a
 * deploy says `accept`. (A fix inside the payment call's body alone keeps the hash: test/support/shapes/fix.ts.)
 */
import { assign, fromPromise, setup } from 'xstate';
import type { Scenario } from './scenario.ts';

type OrderEvent = { type: 'add'; price: number } | { type: 'checkout' };
/** `other` counts events the machine has no transition for (a wildcard): none should reach it. */
type OrderContext = { total: number; receipt: string | null; other: number };

/** Version 1 of the order machine, as first deployed. */
export const v1 = setup({
  types: { context: {} as OrderContext, events: {} as OrderEvent },
  actors: { pay: fromPromise(async ({ input }: { input: { total: number } }) => `paid ${input.total}`) },
}).createMachine({
  id: 'orders',
  context: { total: 0, receipt: null, other: 0 },
  on: { '*': { actions: assign({ other: ({ context }) => context.other + 1 }) } },
  initial: 'open',
  states: {
    open: { on: { add: { actions: assign({ total: ({ context, event }) => context.total + event.price }) }, checkout: 'paying' } },
    paying: {
      invoke: {
        id: 'pay',
        src: 'pay',
        input: ({ context }) => ({ total: context.total }),
        onDone: { target: 'paid', actions: assign({ receipt: ({ event }) => event.output }) },
      },
    },
    paid: { type: 'final' },
  },
});

/** Version 2: a fix in the machine: no checkout of an empty order. */
export const v2 = setup({
  types: { context: {} as OrderContext, events: {} as OrderEvent },
  actors: { pay: fromPromise(async ({ input }: { input: { total: number } }) => `paid ${input.total} through gateway 2`) },
}).createMachine({
  id: 'orders',
  context: { total: 0, receipt: null, other: 0 },
  on: { '*': { actions: assign({ other: ({ context }) => context.other + 1 }) } },
  initial: 'open',
  states: {
    open: {
      on: {
        add: { actions: assign({ total: ({ context, event }) => context.total + event.price }) },
        checkout: { guard: ({ context }) => context.total > 0, target: 'paying' },
      },
    },
    paying: {
      invoke: {
        id: 'pay',
        src: 'pay',
        input: ({ context }) => ({ total: context.total }),
        onDone: { target: 'paid', actions: assign({ receipt: ({ event }) => event.output }) },
      },
    },
    paid: { type: 'final' },
  },
});

/** Version 3: every item now counts twice (a change of what the log folds to). */
export const v3 = setup({
  types: { context: {} as OrderContext, events: {} as OrderEvent },
  actors: { pay: fromPromise(async ({ input }: { input: { total: number } }) => `paid ${input.total} through gateway 2`) },
}).createMachine({
  id: 'orders',
  context: { total: 0, receipt: null, other: 0 },
  on: { '*': { actions: assign({ other: ({ context }) => context.other + 1 }) } },
  initial: 'open',
  states: {
    open: {
      on: {
        add: { actions: assign({ total: ({ context, event }) => context.total + 2 * event.price }) },
        checkout: { guard: ({ context }) => context.total > 0, target: 'paying' },
      },
    },
    paying: {
      invoke: {
        id: 'pay',
        src: 'pay',
        input: ({ context }) => ({ total: context.total }),
        onDone: { target: 'paid', actions: assign({ receipt: ({ event }) => event.output }) },
      },
    },
    paid: { type: 'final' },
  },
});

/**
 * A version 4 candidate after version 3: `add` is what an item adds to the total; `guard` refuses an
 * empty checkout. Both are functions, not values they close over: the machine hash reads a
 * function's source, so a captured number (a `factor`) would leave two different candidates one hash.
 */
function candidate(add: (args: { context: OrderContext; event: { price: number } }) => number, guard: (args: { context: OrderContext }) => boolean) {
  return setup({
    types: { context: {} as OrderContext, events: {} as OrderEvent },
    actors: { pay: fromPromise(async ({ input }: { input: { total: number } }) => `paid ${input.total} through gateway 2`) },
  }).createMachine({
    id: 'orders',
    context: { total: 0, receipt: null, other: 0 },
    on: { '*': { actions: assign({ other: ({ context }) => context.other + 1 }) } },
    initial: 'open',
    states: {
      open: {
        on: {
          add: { actions: assign({ total: add }) },
          checkout: { guard, target: 'paying' },
        },
      },
      paying: {
        invoke: {
          id: 'pay',
          src: 'pay',
          input: ({ context }) => ({ total: context.total }),
          onDone: { target: 'paid', actions: assign({ receipt: ({ event }) => event.output }) },
        },
      },
      paid: { type: 'final' },
    },
  });
}

/** A version 4 that folds the log as version 3 does from where it took over (its guard is written another way). */
export const v4same = candidate(
  ({ context, event }) => context.total + 2 * event.price,
  ({ context }) => context.total >= 1,
);
/** A version 4 that counts every item three times: it folds the log differently. */
export const v4triple = candidate(
  ({ context, event }) => context.total + 3 * event.price,
  ({ context }) => context.total > 0,
);

type Snap = { context: unknown };
const totals = (system: { get(id: string): { getSnapshot(): unknown } | undefined }) =>
  Object.fromEntries(['o-1', 'o-2'].map((id) => [id, (system.get(id)?.getSnapshot() as Snap | undefined)?.context]));

async function resume(system: Parameters<Scenario['phases'][number]['run']>[0]['system']) {
  const { recovered, failed } = await system.recover();
  for (const actor of recovered) actor.send({ type: 'add', price: 1 } as never);
  return { recovered: recovered.map((a) => a.id), failed: failed.map((f) => [f.streamId, f.error.code, f.error.message]), totals: totals(system) };
}

export const upgrade: Scenario = {
  machines: { orders: v1 },
  phases: [
    {
      at: 0,
      async run({ system }) {
        for (const id of ['o-1', 'o-2']) {
          const order = system.spawn('orders', { id });
          order.send({ type: 'add', price: 10 });
          order.send({ type: 'add', price: 5 });
        }
        await system.close(); // a clean shutdown: each stream keeps a snapshot to verify against
        return {};
      },
    },
    // version 2, verified; then version 3, verified, refused outright, and accepted
    { at: 1_000, machines: { orders: v2 }, onMachineChange: { orders: 'verify' }, run: async ({ system }) => resume(system) },
    { at: 2_000, machines: { orders: v3 }, run: async ({ system }) => resume(system) },
    { at: 3_000, machines: { orders: v3 }, onMachineChange: 'refuse', run: async ({ system }) => resume(system) },
    { at: 4_000, machines: { orders: v3 }, onMachineChange: 'accept', run: async ({ system }) => resume(system) },
  ],
};

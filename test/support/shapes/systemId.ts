/**
 * Issue 15 item 1: a child invoked with a `systemId`, which a sibling finds with
 * `system.get('inventory')`; and a fold that fails for a reason of its own (a guard reading a
 * setting the restarted process lacks), which must never mark the stream final.
 */
import { assign, sendTo, setup } from 'xstate';
import type { Scenario } from './scenario.ts';

const inventory = setup({ types: { context: {} as { stock: number }, events: {} as { type: 'take' } } }).createMachine({
  id: 'inventory',
  context: { stock: 3 },
  on: { take: { actions: assign({ stock: ({ context }) => context.stock - 1 }) } },
});

/** Finds the inventory by its systemId, not through the parent. */
const clerk = setup({ types: { context: {} as { sold: number } } }).createMachine({
  id: 'clerk',
  context: { sold: 0 },
  on: { sell: { actions: [assign({ sold: ({ context }) => context.sold + 1 }), sendTo(({ system }) => system.get('inventory'), { type: 'take' })] } },
});

export const shop = setup({ actors: { inventory, clerk } }).createMachine({
  id: 'shop',
  invoke: [
    { id: 'inv', src: 'inventory', systemId: 'inventory' },
    { id: 'clerk', src: 'clerk' },
  ],
  on: { sell: { actions: sendTo('clerk', { type: 'sell' }) } },
});

/** The process's setting the guard reads (impure on purpose: a deploy that lost a setting). */
const settings = { discounts: true };

export const till = setup({ types: { context: {} as { paid: number }, events: {} as { type: 'pay' } } }).createMachine({
  id: 'till',
  context: { paid: 0 },
  on: {
    pay: {
      guard: () => {
        if (!settings.discounts) throw new Error('discount table not loaded');
        return true;
      },
      actions: assign({ paid: ({ context }) => context.paid + 1 }),
    },
  },
});

type Ref = { getSnapshot(): { context: unknown; children: Record<string, Ref> } };
const stock = (system: { get(id: string): unknown }) => {
  const children = (system.get('sh-1') as Ref).getSnapshot().children;
  return { stock: children.inv!.getSnapshot().context, clerk: children.clerk!.getSnapshot().context };
};
const paid = (system: { get(id: string): unknown }) => (system.get('t-1') as Ref | undefined)?.getSnapshot().context;

export const systemId: Scenario = {
  machines: { shop, till },
  phases: [
    {
      at: 0,
      async run({ system }) {
        const sh = system.spawn('shop', { id: 'sh-1' });
        sh.send({ type: 'sell' });
        sh.send({ type: 'sell' });
        system.spawn('till', { id: 't-1' }).send({ type: 'pay' });
        return { ...stock(system), till: paid(system) };
      },
    },
    {
      at: 1_000,
      async run({ system, store }) {
        settings.discounts = false; // this process lacks the setting: folding the till throws
        const { recovered, failed } = await system.recover();
        system.get('sh-1')!.send({ type: 'sell' });
        return {
          recovered: recovered.map((a) => a.id),
          failed: failed.map((f) => [f.streamId, f.error.code]),
          ...stock(system),
          status: store.getStream('t-1')!.status,
        };
      },
    },
    {
      at: 2_000,
      async run({ system }) {
        const { recovered } = await system.recover(); // the setting is back: the till resumes
        system.get('t-1')!.send({ type: 'pay' });
        return { recovered: recovered.map((a) => a.id), ...stock(system), till: paid(system) };
      },
    },
  ],
};

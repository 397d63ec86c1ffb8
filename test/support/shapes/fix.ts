/**
 * Issue 15 item 12: deploying a fix inside an I/O actor's body. Version 1's payment call never
 * answers (the bug) and its watcher callback reports `v1`; the process is killed with every order
 * waiting on its payment, no snapshot kept (`snapshotEvery: 0`, no clean close). Version 2 fixes the
 * payment call's body and the watcher's, nothing else: the fold runs neither, so the hash is the
 * same, and `recover()` resumes every order on the fixed code, its payment started again.
 */
import { assign, fromCallback, fromPromise, setup } from 'xstate';
import type { Scenario } from './scenario.ts';

type FixEvent = { type: 'add'; price: number } | { type: 'checkout' } | { type: 'note'; text: string };
type FixContext = { total: number; receipt: string | null; notes: string[] };

/** The order machine with `pay` and `watch` as the deploy has them. */
function orders(pay: (args: { input: { total: number } }) => Promise<string>, watch: Parameters<typeof fromCallback<FixEvent>>[0]) {
  return setup({
    types: { context: {} as FixContext, events: {} as FixEvent },
    actors: { pay: fromPromise(pay), watch: fromCallback(watch) },
  }).createMachine({
    id: 'orders',
    context: { total: 0, receipt: null, notes: [] },
    invoke: { id: 'watch', src: 'watch' },
    on: { note: { actions: assign({ notes: ({ context, event }) => [...context.notes, event.text] }) } },
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
}

/** Version 1: the gateway call never settles; the watcher says `v1` as it starts. */
export const broken = orders(
  () => new Promise<string>(() => {}),
  ({ sendBack }) => sendBack({ type: 'note', text: 'v1' }),
);

/** Version 2: the fix, inside the two bodies only. */
export const fixed = orders(
  async ({ input }) => `paid ${input.total}`,
  ({ sendBack }) => sendBack({ type: 'note', text: 'v2' }),
);

type Snap = { value: unknown; status: string; context: FixContext };

/** Each order's state, from the actors given (a finished actor leaves the system; its ref keeps its last snapshot). */
const report = (actors: ReadonlyArray<{ id: string; getSnapshot(): unknown }>) =>
  Object.fromEntries(
    actors.map((actor) => {
      const snap = actor.getSnapshot() as Snap;
      return [actor.id, { value: snap.value, status: snap.status, context: snap.context }];
    }),
  );

export const fix: Scenario = {
  machines: { orders: broken },
  phases: [
    {
      at: 0,
      async run({ system }) {
        const spawned = ['o-1', 'o-2'].map((id) => system.spawn('orders', { id }));
        for (const order of spawned) {
          order.send({ type: 'add', price: 10 });
          order.send({ type: 'add', price: 5 });
          order.send({ type: 'checkout' });
        }
        await system.settled();
        return report(spawned); // killed here, both payments in flight
      },
    },
    {
      at: 1_000,
      machines: { orders: fixed },
      async run({ system }) {
        const { recovered, failed } = await system.recover();
        // the restarted payments settle on their own (no timer): let their promises run
        for (let i = 0; i < 100 && recovered.some((a) => (a.getSnapshot() as Snap).status === 'active'); i++) {
          await new Promise((resolve) => setImmediate(resolve));
          await system.settled();
        }
        return { recovered: recovered.map((a) => a.id), failed: failed.map((f) => [f.streamId, f.error.code]), orders: report(recovered) };
      },
    },
  ],
};

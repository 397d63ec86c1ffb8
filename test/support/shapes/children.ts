/**
 * Issue 15 items 6, 8 and 9: children whose state or resume point the log must carry across a crash.
 * A `fromObservable` child with `onSnapshot`; a child machine with `onSnapshot` (a restored child
 * re-sends the snapshot it had as it starts: not a new event); a `fromTransition` reducer fed by
 * `forwardTo`; a source invoked with no input that tags its frames with a cursor.
 */
import { assign, forwardTo, fromEventObservable, fromObservable, fromTransition, sendTo, setup } from 'xstate';
import { Subject } from 'rxjs';
import type { Scenario } from './scenario.ts';

/** What the application's feeds emit in this process. */
export const feeds = { prices: new Subject<number>(), frames: new Subject<{ type: 'frame'; n: number; meta: { source: 'sse'; cursor: string } }>() };
/** The input each source was started with in this process. */
export const started: unknown[] = [];

export const ticker = setup({ types: { context: {} as { prices: number[] } }, actors: { prices: fromObservable(() => feeds.prices) } }).createMachine({
  id: 'ticker',
  context: { prices: [] },
  invoke: {
    id: 'prices',
    src: 'prices',
    onSnapshot: {
      guard: ({ event }) => event.snapshot.context !== undefined,
      actions: assign({ prices: ({ context, event }) => [...context.prices, event.snapshot.context as number] }),
    },
  },
});

const counter = setup({ types: { context: {} as { n: number } } }).createMachine({
  id: 'counter',
  context: { n: 0 },
  on: { inc: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
});

/** Keeps every snapshot its child counter reports. */
export const watcher = setup({ types: { context: {} as { seen: number[] } }, actors: { counter } }).createMachine({
  id: 'watcher',
  context: { seen: [] },
  invoke: {
    id: 'counter',
    src: 'counter',
    onSnapshot: { actions: assign({ seen: ({ context, event }) => [...context.seen, (event.snapshot.context as { n: number }).n] }) },
  },
  on: { inc: { actions: sendTo('counter', { type: 'inc' }) } },
});

const totals = fromTransition(
  (state: { sum: number; count: number }, event: { type: string; amount?: number }) =>
    event.type === 'add' ? { sum: state.sum + (event.amount ?? 0), count: state.count + 1 } : state,
  { sum: 0, count: 0 },
);

/** A reducer child fed by forwardTo. */
export const ledger = setup({ types: { events: {} as { type: 'add'; amount: number } }, actors: { totals } }).createMachine({
  id: 'ledger',
  invoke: { id: 'totals', src: 'totals' },
  on: { add: { actions: forwardTo('totals') } },
});

/** A source invoked with no input: after a crash it reads its cursor from input.cursor. */
export const reader = setup({
  types: { context: {} as { frames: number[] } },
  actors: { source: fromEventObservable(({ input }: { input: unknown }) => (started.push(input ?? null), feeds.frames)) },
}).createMachine({
  id: 'reader',
  context: { frames: [] },
  invoke: { id: 'source', src: 'source' },
  on: { frame: { actions: assign({ frames: ({ context, event }) => [...context.frames, (event as unknown as { n: number }).n] }) } },
});

type Ref = { getSnapshot(): { context: unknown; children: Record<string, Ref> } };
function report(system: { get(id: string): unknown }) {
  const ref = (id: string) => system.get(id) as Ref;
  return {
    prices: ref('tk-1').getSnapshot().context,
    seen: ref('wa-1').getSnapshot().context,
    totals: ref('le-1').getSnapshot().children.totals!.getSnapshot().context,
    frames: ref('rd-1').getSnapshot().context,
    started: [...started],
  };
}
const frame = (n: number) => ({ type: 'frame' as const, n, meta: { source: 'sse' as const, cursor: `c${n}` } });

export const children: Scenario = {
  machines: { ticker, watcher, ledger, reader },
  phases: [
    {
      at: 0,
      async run({ system }) {
        system.spawn('ticker', { id: 'tk-1' });
        const wa = system.spawn('watcher', { id: 'wa-1' });
        const le = system.spawn('ledger', { id: 'le-1' });
        system.spawn('reader', { id: 'rd-1' });
        feeds.prices.next(101);
        feeds.prices.next(102);
        wa.send({ type: 'inc' });
        wa.send({ type: 'inc' });
        le.send({ type: 'add', amount: 5 });
        le.send({ type: 'add', amount: 7 });
        feeds.frames.next(frame(1));
        feeds.frames.next(frame(2));
        return report(system);
      },
    },
    {
      at: 1_000,
      async run({ system }) {
        const { failed } = await system.recover();
        const resumed = report(system);
        feeds.prices.next(103);
        system.get('wa-1')!.send({ type: 'inc' });
        system.get('le-1')!.send({ type: 'add', amount: 1 } as { type: string });
        feeds.frames.next(frame(3));
        return { failed, resumed, after: report(system) };
      },
    },
  ],
};

/**
 * Issue 15 item 13: tick mode. A sender's two `go`s are sent in one synchronous run, so their appends
 * go in one batch; the second one's append fails (the store refuses it). The sender must not act on
 * it, so no ping leaves for it; after a SIGKILL and recovery the next `go` pings once.
 */
import { assign, sendTo, setup } from 'xstate';
import type { LogStore } from 'actorlog';
import type { SqliteStore } from 'actorlog/stores/sqlite';
import type { Scenario } from './scenario.ts';

export const pinged = setup({ types: { context: {} as { pings: number[] }, events: {} as { type: 'ping'; n: number } } }).createMachine({
  id: 'pinged',
  context: { pings: [] },
  on: { ping: { actions: assign({ pings: ({ context, event }) => [...context.pings, event.n] }) } },
});

export const pinger = setup({ types: { context: {} as { n: number }, events: {} as { type: 'go' } } }).createMachine({
  id: 'pinger',
  context: { n: 0 },
  on: {
    go: {
      actions: [
        assign({ n: ({ context }) => context.n + 1 }),
        sendTo(
          ({ system }) => system.get('b-1'),
          ({ context }) => ({ type: 'ping', n: context.n }),
        ),
      ],
    },
  },
});

/** The store, except that a write appending version 2 or later of `streamId` fails (a full disk, say). */
function failingFor(streamId: string) {
  return (inner: SqliteStore): LogStore =>
    new Proxy(inner, {
      get(target, key) {
        if (key === 'write') {
          return (batch: Parameters<LogStore['write']>[0]) => {
            if (batch.appends?.some((a) => a.streamId === streamId && a.expectedVersion + a.events.length >= 2)) throw new Error('disk full');
            return target.write(batch);
          };
        }
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
}

const pingsOf = (system: { get(id: string): { getSnapshot(): { context: unknown } } | undefined }) =>
  (system.get('b-1')?.getSnapshot().context as { pings: number[] } | undefined)?.pings;

export const tick: Scenario = {
  machines: { pinged, pinger },
  commit: 'tick',
  phases: [
    {
      at: 0,
      store: failingFor('a-1'),
      async run({ system }) {
        system.spawn('pinged', { id: 'b-1' });
        const a = system.spawn('pinger', { id: 'a-1' });
        await system.settled();
        a.send({ type: 'go' });
        a.send({ type: 'go' }); // same tick, same batch: this append fails
        await system.settled();
        return { pings: pingsOf(system), sender: system.get('a-1') === undefined ? 'stopped' : 'running' };
      },
    },
    {
      at: 1_000,
      async run({ system }) {
        const { recovered } = await system.recover();
        await system.settled();
        const before = pingsOf(system);
        system.get('a-1')!.send({ type: 'go' });
        await system.settled();
        return { recovered: recovered.map((a) => a.id), before, after: pingsOf(system) };
      },
    },
  ],
};

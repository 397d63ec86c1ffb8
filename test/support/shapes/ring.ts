/**
 * Issue 15 item 3 (`recover()` wires every actor before starting any): three peers in a ring that
 * message each other as they start. Each keeps a source that, restarted from its cursor after a
 * crash, reports `woke` at once; on `woke` a peer pings the next one in the ring, and each ping is
 * answered with a pong. Recovery creates and wires all three before it starts the first: the first
 * to start reaches the others directly (one append each), never through their inbox as if they ran
 * nowhere. The phase records every inbox post the system writes (a wrapped store).
 */
import { assign, fromCallback, sendTo, setup } from 'xstate';
import type { InboxMessage, LogStore } from 'actorlog';
import type { SqliteStore } from 'actorlog/stores/sqlite';
import type { Scenario } from './scenario.ts';

type RingEvent = { type: 'woke' } | { type: 'frame' } | { type: 'ping'; from: string } | { type: 'pong'; from: string };

/** A peer of the ring: `me` and `next` are stream ids. */
export const peer = setup({
  types: { context: {} as { me: string; next: string; heard: string[] }, input: {} as { me: string; next: string }, events: {} as RingEvent },
  actors: {
    // first run: a frame with cursor 1; restarted from that cursor (after a crash): `woke`, at once
    wake: fromCallback(({ sendBack, input }: { sendBack: (e: { type: string; meta?: unknown }) => void; input: { cursor?: string } }) => {
      sendBack(input.cursor === undefined ? { type: 'frame', meta: { source: 'ws', cursor: '1' } } : { type: 'woke' });
    }),
  },
}).createMachine({
  id: 'peer',
  context: ({ input }) => ({ me: input.me, next: input.next, heard: [] }),
  invoke: { id: 'wake', src: 'wake', input: () => ({}) },
  on: {
    woke: {
      actions: sendTo(
        ({ system, context }) => system.get(context.next),
        ({ context }) => ({ type: 'ping', from: context.me }),
      ),
    },
    ping: {
      actions: [
        assign({ heard: ({ context, event }) => [...context.heard, `ping from ${event.from}`] }),
        sendTo(
          ({ system, event }) => system.get(event.from),
          ({ context }) => ({ type: 'pong', from: context.me }),
        ),
      ],
    },
    pong: { actions: assign({ heard: ({ context, event }) => [...context.heard, `pong from ${event.from}`] }) },
  },
});

const RING = ['p-1', 'p-2', 'p-3'];
/** Every message posted to an inbox through the wrapped store, in this process. */
const posted: InboxMessage[] = [];

/** The store, recording the inbox posts of each write. */
function recordingPosts(inner: SqliteStore): LogStore {
  return new Proxy(inner, {
    get(target, key) {
      if (key === 'write') {
        return (batch: Parameters<LogStore['write']>[0]) => {
          posted.push(...(batch.messages ?? []));
          return target.write(batch);
        };
      }
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const heard = (system: { get(id: string): { getSnapshot(): { context: unknown } } | undefined }) =>
  Object.fromEntries(RING.map((id) => [id, (system.get(id)?.getSnapshot().context as { heard: string[] } | undefined)?.heard]));

export const ring: Scenario = {
  machines: { peer },
  phases: [
    {
      at: 0,
      async run({ system }) {
        RING.forEach((me, i) => system.spawn('peer', { id: me, input: { me, next: RING[(i + 1) % RING.length]! } }));
        await system.settled();
        return heard(system);
      },
    },
    {
      at: 1_000,
      store: recordingPosts,
      async run({ system }) {
        const { recovered, failed } = await system.recover();
        await system.settled();
        return {
          recovered: recovered.map((a) => a.id),
          failed: failed.map((f) => [f.streamId, f.error.code]),
          heard: heard(system),
          posted: posted.map((m) => [m.streamId, m.causationId]),
        };
      },
    },
  ],
};

/**
 * Type tests of `createActorSystem().spawn`, checked by `tsc --noEmit` (npm test
 * typechecks first): each `@ts-expect-error` line must be an error, or the typecheck fails.
 */
import { assign, setup } from 'xstate';
import { createActorSystem, type ActorSystem } from 'actorlog';
import { createMemoryStore } from 'actorlog/stores/memory';

const counter = setup({
  types: { context: {} as { count: number }, input: {} as { start: number }, events: {} as { type: 'inc'; by: number } | { type: 'reset' } },
}).createMachine({
  id: 'counter',
  context: ({ input }) => ({ count: input.start }),
  on: { inc: { actions: assign({ count: ({ context, event }) => context.count + event.by }) }, reset: { actions: assign({ count: 0 }) } },
});
const pinger = setup({ types: { events: {} as { type: 'ping' } } }).createMachine({ id: 'pinger' });

const system = createActorSystem({ store: createMemoryStore(), machines: { counter, pinger } });
const c = system.spawn('counter', { id: 'c-1', input: { start: 1 } });
c.send({ type: 'inc', by: 2 });
export const count: number = c.getSnapshot().context.count;
export const reached: Promise<{ context: { count: number } }> = c.waitFor((s) => s.context.count > 2);
system.spawn('pinger', { id: 'p-1' }).send({ type: 'ping' });

// @ts-expect-error an unknown machine name
system.spawn('countr', { id: 'c-2', input: { start: 1 } });
// @ts-expect-error counter requires its input
system.spawn('counter', { id: 'c-3' });
// @ts-expect-error the input's shape is counter's
system.spawn('counter', { id: 'c-4', input: { begin: 1 } });
// @ts-expect-error an event counter does not take
c.send({ type: 'ping' });
// @ts-expect-error inc carries a number
c.send({ type: 'inc', by: 'two' });
// @ts-expect-error the context has no such field
export const total = c.getSnapshot().context.total;
// @ts-expect-error pinger takes ping only
system.spawn('pinger', { id: 'p-2' }).send({ type: 'inc', by: 1 });

/** Code that takes any system still compiles with a typed one. */
async function closeAll(s: ActorSystem): Promise<void> {
  await s.close();
}
await closeAll(system);

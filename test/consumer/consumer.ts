// A strict NodeNext TypeScript consumer of the installed package (typescript and @types/node beside
// it, nothing else): it must typecheck with skipLibCheck off, and every @ts-expect-error line must
// be an error, which proves the types it touches are not `any` (an unused @ts-expect-error fails).
import { assign, setup } from 'xstate';
import { createActorSystem, ErrorCodes, isActorlogError, JournaledActor, type ErrorCode } from 'actorlog';
import { openSqliteStore, type SqliteStoreOptions } from 'actorlog/stores/sqlite';
import { createMemoryStore } from 'actorlog/stores/memory';
import { sse } from 'actorlog/sources/sse';
import { jobMachine } from 'actorlog/machines/job';

const counter = setup({
  types: {} as { context: { count: number }; events: { type: 'inc'; by: number } | { type: 'reset' }; input: { start: number } },
}).createMachine({
  id: 'counter',
  context: ({ input }) => ({ count: input.start }),
  on: {
    inc: { actions: assign({ count: ({ context, event }) => context.count + event.by }) },
    reset: { actions: assign({ count: 0 }) },
  },
});

const store = openSqliteStore('./consumer.db', { synchronous: 'FULL', busyTimeoutMs: 1000 });
// @ts-expect-error not an option of openSqliteStore
openSqliteStore('./consumer.db', { synchronus: 'FULL' });
// @ts-expect-error synchronous is 'NORMAL' | 'FULL'
const badOptions: SqliteStoreOptions = { synchronous: 'OFF' };

const system = createActorSystem({ store, machines: { counter, job: jobMachine } });
// @ts-expect-error not an option of createActorSystem
createActorSystem({ store, machines: { counter }, snapshotEvry: 10 });
// @ts-expect-error store is required
createActorSystem({ machines: { counter } });
// @ts-expect-error a store is a LogStore, not a path
createActorSystem({ store: './consumer.db', machines: { counter } });
createActorSystem({ store: createMemoryStore(), machines: { counter } });

// spawn is typed by the registered name: unknown names and wrong input are errors, and the actor
// is typed by its machine (the annotation only restates it)
// @ts-expect-error no machine registered under this name
system.spawn('countr', { id: 'c-2' });
// @ts-expect-error the input of 'counter' is { start: number }
system.spawn('counter', { id: 'c-3', input: { start: 'zero' } });
const actor: JournaledActor<typeof counter> = system.spawn('counter', { id: 'c-1', input: { start: 1 } });
const typed = system.spawn('counter', { id: 'c-4', input: { start: 0 } });
// @ts-expect-error typed by the machine registered as 'counter': no such event
typed.send({ type: 'dec', by: 1 });
actor.send({ type: 'inc', by: 2 });
// @ts-expect-error no such event type
actor.send({ type: 'dec', by: 1 });
// @ts-expect-error `by` is a number
actor.send({ type: 'inc', by: '2' });
const count: number = actor.getSnapshot().context.count;
// @ts-expect-error the context has no `total`
export const total = actor.getSnapshot().context.total;
const version: number = actor.version;
void actor.waitFor((s) => s.context.count > 2, { timeoutMs: 1000 }).then((s) => s.context.count.toFixed());

// error codes are a literal union
const code: ErrorCode = ErrorCodes.VERSION_CONFLICT;
// @ts-expect-error not an error code
const badCode: ErrorCode = 'VERSION_CONFLICTS';
try {
  store.append('c-1', 0, []);
} catch (err) {
  if (isActorlogError(err, 'VERSION_CONFLICT')) console.log(err.code, err.message);
  // @ts-expect-error not an error code
  isActorlogError(err, 'NOT_A_CODE');
}

// a stream source from its subpath
// @ts-expect-error resume is 'last-event-id' | 'request'
sse({ request: 'http://127.0.0.1:1/events', resume: 'always' });

export { badOptions, badCode, code, count, version };

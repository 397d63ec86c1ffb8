/**
 * Issue 15 item 3, the receiver that does not exist yet: a message sent to a journaled actor before it
 * is spawned (`system.send`, or a machine's `sendTo(system.get(id))` reaching a stand-in) waits in its
 * inbox and is delivered, once and in order, when the actor is spawned; a real SQLite file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { assign, sendTo, setup } from 'xstate';
import { createActorSystem } from 'actorlog';
import { openSqliteStore } from 'actorlog/stores/sqlite';
import { tempDb } from '../support/tempDb.ts';

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

const mailbox = setup({ types: { context: {} as { got: string[] }, events: {} as { type: 'note'; text: string } } }).createMachine({
  id: 'mailbox',
  context: { got: [] },
  on: { note: { actions: assign({ got: ({ context, event }) => [...context.got, event.text] }) } },
});
const writer = setup({}).createMachine({
  id: 'writer',
  entry: sendTo(({ system }) => system.get('m-1'), { type: 'note', text: 'from a machine' } as { type: string }),
});

describe('issue 15 item 3: a message to an actor spawned later', () => {
  it('delivers what waited in its inbox when it is spawned, once', async () => {
    const t = tempDb();
    cleanups.push(t.cleanup);
    const store = openSqliteStore(t.path);
    cleanups.push(() => store.close());
    const system = createActorSystem({ store, machines: { mailbox, writer } });
    await system.send('m-1', { type: 'note', text: 'from the application' });
    system.spawn('writer', { id: 'w-1' });
    await system.settled();
    expect(store.readInbox('m-1').map((m) => m.type)).toEqual(['note', 'note']);

    const m = system.spawn('mailbox', { id: 'm-1' });
    const got = await m.waitFor((s) => s.context.got.length === 2, { timeoutMs: 5_000 });
    expect(got.context.got).toEqual(['from the application', 'from a machine']);
    expect(store.readInbox('m-1')).toEqual([]);
    expect(store.readStream('m-1').map((r) => [r.meta.source, r.data])).toEqual([
      ['external', { text: 'from the application' }],
      ['actor', { text: 'from a machine' }],
    ]);
    m.send({ type: 'note', text: 'later' });
    expect(m.getSnapshot().context.got).toEqual(['from the application', 'from a machine', 'later']);
  });
});

/**
 * Issue 15 item 3, across real SIGKILLs (test/support/shapes/messages.ts): a message to a journaled
 * actor that is not running waits in its inbox and is delivered once when it is recovered; one to an
 * actor that has ended stays in its inbox, a dead letter, and is delivered to nobody; an entry action
 * of the initial state reaches its receiver at once; recovery delivers what a sender's log implies,
 * never a message its receiver already has or will get from its inbox.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { verifyReplay } from 'actorlog';
import { openSqliteStore } from 'actorlog/stores/sqlite';
import { runScenario } from '../support/shapes/run.ts';
import { broadcaster, greeter, receiver, waker } from '../support/shapes/messages.ts';
import { tempDb } from '../support/tempDb.ts';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe('issue 15: messages to journaled actors that are not running', () => {
  it('delivers each message once, from the inbox when the receiver ran nowhere; keeps dead letters', async () => {
    const t = tempDb();
    cleanup = t.cleanup;
    const [first, elsewhere, resumed, again] = await runScenario('messages', t.path);
    // The greeter's entry action pinged b-1 while the greeter started: not at the next recovery.
    expect(first!.result).toEqual({ 'b-1': ['entry', 'broadcast 1'], 'b-3': [] });
    expect(elsewhere!.result).toEqual({
      recovered: ['g-1', 'bc-1'],
      failed: [
        ['w-1', 'MACHINE_NOT_REGISTERED'],
        ['b-1', 'MACHINE_NOT_REGISTERED'],
        ['b-3', 'MACHINE_NOT_REGISTERED'],
      ],
      inbox: { 'b-1': 1, 'b-2': 2 },
    });
    // All five are created and wired before any starts: the waker, recovered first, pings b-3 as it starts.
    expect(resumed!.result).toEqual({
      recovered: ['w-1', 'b-1', 'b-3', 'g-1', 'bc-1'],
      pings: { 'b-1': ['entry', 'broadcast 1', 'broadcast 2'], 'b-2': undefined, 'b-3': ['waker'] },
    });
    expect(again!.result).toEqual({
      recovered: ['b-1', 'b-3', 'g-1', 'bc-1'],
      pings: { 'b-1': ['entry', 'broadcast 1', 'broadcast 2'], 'b-2': undefined, 'b-3': ['waker'] },
    });
    expect([first, resumed, again].flatMap((r) => r!.errors)).toEqual([]);

    const store = openSqliteStore(t.path, { readonly: true });
    try {
      expect(store.readStream('b-1').map((r) => [r.meta.source, r.meta.causationId])).toEqual([
        ['actor', 'g-1:0::0'],
        ['actor', 'bc-1:1::0'],
        ['actor', 'bc-1:2::0'],
      ]);
      expect(store.readInbox('b-1')).toEqual([]);
      // b-2 ended before either broadcast: both wait in its inbox, appended to no stream.
      expect(store.readStream('b-2').map((r) => r.type)).toEqual(['close']);
      expect(store.readInbox('b-2').map((m) => [m.causationId, m.data])).toEqual([
        ['bc-1:1::1', { from: 'broadcast 1' }],
        ['bc-1:2::1', { from: 'broadcast 2' }],
      ]);
      expect(store.readStream('b-3').map((r) => [r.type, r.meta.causationId])).toEqual([['ping', 'w-1:2::0']]);
      for (const [id, machine] of [
        ['b-1', receiver],
        ['b-2', receiver],
        ['b-3', receiver],
        ['g-1', greeter],
        ['bc-1', broadcaster],
        ['w-1', waker],
      ] as const) {
        expect((await verifyReplay(store, machine, id)).differences, id).toEqual([]);
      }
    } finally {
      store.close();
    }
  }, 60_000);
});

/**
 * The viewer's reads of a log written by the journaled runtime (test/support/viewerLog.ts): how
 * each actor ended, the timeline's filters, a child machine's own snapshots, the sequence of
 * messages between actors, the service at a position.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry } from '../../cli/registry.ts';
import { ViewApi } from '../../cli/view/api.ts';
import { StreamListing } from '../../cli/view/streamList.ts';
import type { MatchesPage } from '../../cli/view/types.ts';
import type { LogStore } from '../../src/log/types.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { tempDb } from '../support/tempDb.ts';
import { PINGS, writeViewerLog } from '../support/viewerLog.ts';
import { machines } from '../support/viewerMachines.ts';

const db = tempDb();
let store: LogStore;
let api: ViewApi;
let listing: StreamListing;

beforeAll(async () => {
  await writeViewerLog(db.path);
  store = openSqliteStore(db.path, { readonly: true });
  api = new ViewApi(store, createRegistry(machines));
  listing = new StreamListing(store);
});
afterAll(async () => (await store.close(), db.cleanup()));

const q = (o: Record<string, string | number>) => new URLSearchParams(Object.entries(o).map(([k, v]) => [k, String(v)]));

describe('how each actor ended (cli/view/outcomes.ts)', () => {
  it('lists the final state of an actor that ended (failed, done, canceled), the state it threw in, or active', async () => {
    const page = await listing.streams(q({}));
    const by = Object.fromEntries(page.items.map((s) => [s.streamId, s.outcome]));
    expect(by['job-ok']).toMatchObject({ kind: 'final', label: 'done', tone: 'ok', version: 1 });
    expect(by['job-failed']).toMatchObject({ kind: 'final', label: 'failed', tone: 'bad', version: 1 });
    expect(by['job-canceled']).toMatchObject({ kind: 'final', label: 'canceled', tone: 'warn' });
    expect(by['job-open']).toMatchObject({ kind: 'active', label: 'active' });
    // the throw: the state it was in and the event it threw on (v2 `boom`), not the actorlog.failed record (v3)
    expect(by['crash-1']).toMatchObject({ kind: 'threw', label: 'threw in running', tone: 'bad', version: 2, detail: expect.stringContaining('kaboom') });
    // XState's status alone says done for all four jobs
    expect(['job-ok', 'job-failed', 'job-failed-2', 'job-canceled'].map((id) => page.items.find((s) => s.streamId === id)!.status)).toEqual([
      'done',
      'done',
      'done',
      'done',
    ]);
  });

  it('counts by outcome, failures first, and filters by it', async () => {
    const page = await listing.streams(q({}));
    expect(page.outcomes.slice(0, 2)).toEqual([
      { label: 'failed', tone: 'bad', count: 2 },
      { label: 'threw in running', tone: 'bad', count: 1 },
    ]);
    expect(page.outcomes.find((o) => o.label === 'active')).toEqual({ label: 'active', tone: 'neutral', count: 4 });
    const failed = await listing.streams(q({ outcome: 'failed,threw in running' }));
    expect(failed.items.map((s) => s.streamId)).toEqual(['job-failed', 'job-failed-2', 'crash-1']);
    expect(failed.total).toBe(3);
    // the counts stay those of the other filters, so a chip that is off still says how many it holds
    expect(failed.outcomes).toEqual(page.outcomes);
  });

  it('gives the outcome with the stream, to mark and jump to the failing event', async () => {
    const info = await api.streamInfo('crash-1');
    expect(info.stream.outcome).toMatchObject({ kind: 'threw', version: 2 });
    expect(info.stream.status).toBe('error');
  });
});

describe('the timeline filters (cli/view/eventKinds.ts)', () => {
  it('counts the event types and sources of a stream', async () => {
    const kinds = await api.kinds('ping-1');
    expect(kinds.types).toEqual([
      { name: 'inc', count: PINGS },
      { name: 'ping', count: PINGS },
      { name: 'pong', count: PINGS },
    ]);
    expect(kinds.sources.map((s) => s.name).sort()).toEqual(['child', 'external', 'parent']);
  });

  it('lists only the events of one type, or one source, each with its version and the state after it', async () => {
    const pongs = (await api.events('ping-1', q({ type: 'pong' }))) as MatchesPage;
    expect(pongs.matches).toBe(PINGS);
    expect(pongs.events.map((e) => [e.version, e.type, e.state])).toEqual([
      [3, 'pong', 'active'],
      [6, 'pong', 'active'],
      [9, 'pong', 'active'],
    ]);
    const parent = (await api.events('ping-1', q({ source: 'parent', offset: 1, limit: 1 }))) as MatchesPage;
    expect(parent).toMatchObject({ matches: PINGS, offset: 1 });
    expect(parent.events.map((e) => [e.version, e.target])).toEqual([[5, 'counter']]);
    const near = (await api.events('ping-1', q({ type: 'ping', near: 5, limit: 1 }))) as MatchesPage;
    expect(near.events.map((e) => e.version)).toEqual([7]);
    expect(((await api.events('ping-1', q({ type: 'nothing' }))) as MatchesPage).matches).toBe(0);
  });
});

describe('the actor tree (ViewApi.at with an actor path)', () => {
  it("shows a child machine's own snapshot, context and change for an event delivered to it", async () => {
    const atRoot = await api.at('ping-1', 2);
    expect(atRoot.tree).toEqual([
      expect.objectContaining({ path: 'counter', id: 'counter', machine: true, value: 'counting', context: { count: 1, seen: ['from parent'] } }),
    ]);
    // the root's change shows the child's context moving (it was "no change" when children were compared by state only)
    expect(atRoot.previous!.children[0]!.context).toEqual({ count: 0, seen: [] });
    expect(atRoot.snapshot!.children[0]!.context).toEqual({ count: 1, seen: ['from parent'] });
    const child = await api.at('ping-1', 2, 'counter');
    expect(child).toMatchObject({
      actor: 'counter',
      delivered: true,
      snapshot: { state: 'counting', context: { count: 1 } },
      previous: { context: { count: 0 } },
    });
    expect(child.transitions).toEqual([{ source: 'tally.counting', index: expect.any(Number), eventType: 'inc', targets: [] }]);
    // an event the root took: the child is shown unchanged, no transition of its own
    const other = await api.at('ping-1', 3, 'counter');
    expect(other).toMatchObject({ delivered: false, transitions: [] });
    const definition = await api.definition('ping-1', 'counter', 2);
    expect(definition.hash).toBe(atRoot.tree[0]!.hash);
    expect(Object.keys((definition.definition as { states: object }).states)).toEqual(['counting', 'stopped']);
    await expect(api.definition('ping-1', 'nobody', 2)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
  });
});

describe('the sequence of messages (cli/view/sequence.ts)', () => {
  it('draws parent to child, child to parent, the application, and a note to another journaled actor at the sender and at the receiver', async () => {
    const view = await api.sequence('ping-1', q({ from: 1, to: 3 }));
    expect(view.lanes.map((l) => [l.kind, l.label])).toEqual([
      ['source', 'application'],
      ['actor', 'ping-1'],
      ['actor', 'counter'],
      ['stream', 'peer-1'],
    ]);
    expect(view.arrows.map((a) => [a.version, a.kind, a.from, a.to, a.label, `${a.link.streamId}@${a.link.version}`])).toEqual([
      [1, 'event', 'source:external', 'actor:', 'ping', 'ping-1@1'],
      [1, 'sent', 'actor:', 'stream:peer-1', 'note', 'peer-1@1'],
      [2, 'event', 'actor:', 'actor:counter', 'inc', 'ping-1@2'],
      [3, 'event', 'actor:counter', 'actor:', 'pong', 'ping-1@3'],
    ]);
    const received = await api.sequence('peer-1', q({}));
    expect(received.arrows.map((a) => [a.from, a.to, a.label, `${a.link.streamId}@${a.link.version}`])).toEqual([
      ['stream:ping-1', 'actor:', 'note', 'peer-1@1'],
      ['stream:ping-1', 'actor:', 'note', 'peer-1@2'],
      ['stream:ping-1', 'actor:', 'note', 'peer-1@3'],
    ]);
  });
});

describe('the service at a position (cli/view/service.ts)', () => {
  it("answers from the position index: each stream's version at N, and the streams that did not exist yet left out", async () => {
    const at = await store.readStream('ping-1', { fromVersion: 4, toVersion: 4 });
    const position = at[0]!.globalPosition;
    const page = await api.service(q({ position }));
    const by = Object.fromEntries(page.items.map((i) => [i.streamId, [i.version, i.state]]));
    expect(by['ping-1']).toEqual([4, 'active']);
    expect(by['peer-1']).toEqual([1, 'listening']);
    expect(by['crash-1']).toEqual([3, 'running']);
    expect(by['queue-1']).toBeUndefined(); // created after that event
    const head = await api.service(q({}));
    expect(head.items.find((i) => i.streamId === 'queue-1')).toMatchObject({ version: 5 });
  });
});

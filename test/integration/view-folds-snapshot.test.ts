/**
 * The viewer's folds (cli/view/folds.ts) start where recovery does (src/runtime/recoverStream.ts
 * startFold): from the runtime's latest saved snapshot at or before the version asked for, so the
 * first visit deep into a long stream reads only the events after that snapshot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamFolds } from '../../cli/view/folds.ts';
import { comparable, replay } from '../../src/replay/replay.ts';
import { createActorSystem } from '../../src/runtime/actorSystem.ts';
import type { LogStore, StreamRecord } from '../../src/log/types.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { counterMachine } from '../support/cliMachines.ts';
import { tempDb } from '../support/tempDb.ts';
import { countReads } from '../support/kit/index.ts';

const db = tempDb();
const SNAPSHOT_EVERY = 50;
const cycle = ['inc', 'pause', 'resume'] as const;
let store: LogStore;
let stream: StreamRecord;
let counted: ReturnType<typeof countReads>;

beforeAll(async () => {
  const writer = openSqliteStore(db.path);
  const system = createActorSystem({ store: writer, machines: { counter: counterMachine }, snapshotEvery: SNAPSHOT_EVERY });
  const actor = system.spawn('counter', { id: 'counter-s', input: {} });
  actor.send({ type: 'start' });
  for (let i = 0; i < 3 * SNAPSHOT_EVERY; i++) actor.send({ type: cycle[i % 3]! });
  await system.settled();
  await system.close();
  writer.close();
  counted = countReads(openSqliteStore(db.path, { readonly: true }));
  store = counted.store;
  stream = (await store.getStream('counter-s'))!;
});
afterAll(async () => (await store.close(), db.cleanup()));

describe('the viewer folds from the runtime saved snapshot', () => {
  it('reads only the events after the latest saved snapshot on the first visit, and gives the state replay gives', async () => {
    const saved = await store.loadSnapshot('counter-s', 2 * SNAPSHOT_EVERY + 10);
    expect(saved?.version).toBeGreaterThan(SNAPSHOT_EVERY);
    const version = saved!.version + 10;
    counted.reset();
    const snapshot = await new StreamFolds(store, counterMachine, stream).at(version);
    expect(counted.reads()).toBeLessThanOrEqual(10);
    let replayed: unknown;
    for await (const step of replay(store, counterMachine, 'counter-s', { to: version })) replayed = step.snapshot;
    expect(comparable(snapshot)).toEqual(comparable(replayed as never));
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionMachine } from '../../machines/connection/machine.ts';
import { yoiConnectionInput, yoiConnectionMachine } from '../../machines/yoi/index.ts';
import { createActorSystem, type ActorSystem, type JournaledActor } from '../../src/index.ts';
import { openSqliteStore, type SqliteStore } from '../../stores/sqlite/index.ts';
import { startYoiServer, type YoiServerHandle } from '../servers/yoi-server.ts';
import { tempDb } from '../support/tempDb.ts';

const CONNECTIONS = 1_000;

describe('1,000 concurrent yoi connections held by one process', () => {
  let server: YoiServerHandle;
  let store: SqliteStore;
  let system: ActorSystem;
  const db = tempDb();
  beforeAll(async () => {
    server = await startYoiServer();
    store = openSqliteStore(db.path);
    system = createActorSystem({ store, machines: { yoi: yoiConnectionMachine() } });
  });
  afterAll(async () => {
    await system.close();
    store.close();
    await server.close();
    db.cleanup();
  });

  it('all reach online and receive a frame, within a bounded time, each on its own journaled stream', async () => {
    const actors: Array<JournaledActor<ConnectionMachine>> = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      const input = yoiConnectionInput({ baseUrl: server.url, runtimeId: 'fleet', workerId: `w${i}` });
      actors.push(system.spawn('yoi', { id: input.connectionId, input }));
    }
    // every connection: online, its observation socket open, and its first frame (the snapshot, seq 0, dropped as seed 004 drops it) received
    await Promise.all(actors.map((a) => a.waitFor((s) => s.matches('online') && s.context.counts.duplicates === 1, { timeoutMs: 60_000 })));
    expect(server.stats.connections).toHaveLength(CONNECTIONS);
    // one live frame to each, through the same sockets
    for (let i = 0; i < CONNECTIONS; i++) server.emit('fleet', `w${i}`, { type: 'text_delta', text: `hello ${i}` });
    await Promise.all(actors.map((a) => a.waitFor((s) => s.context.lastSeq === '0000000000000001', { timeoutMs: 60_000 })));
    expect(actors.every((a) => a.getSnapshot().matches({ online: { receive: 'listening' } }))).toBe(true);
    expect(store.listStreams({ status: ['active'] }).filter((s) => s.machine.name === 'yoi')).toHaveLength(CONNECTIONS);
    const sample = store
      .readStream('yoi-fleet-w999')
      .filter((r) => r.type === 'connection.message')
      .map((r) => r.meta.cursor);
    expect(sample).toEqual([undefined, undefined, 'bo_0000000000000001']);
  }, 120_000);
});

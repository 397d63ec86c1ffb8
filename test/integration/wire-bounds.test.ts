/**
 * Bad input is recorded, never fatal, on a journaled actor fed by a real
 * WebSocket (the yoi observation binding, a ws server on 127.0.0.1 that sends what a test says).
 * A valid frame nested thousands of levels deep used to overflow the journal's JSON.stringify
 * (APPEND_FAILED: the actor stopped, nothing recorded); binary frames were dropped unrecorded; a
 * text frame that is not UTF-8 closed the socket (ws: 1007) without a record.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { encodeBackendCursor, yoiConnectionInput, yoiConnectionMachine } from '../../machines/yoi/index.ts';
import { createActorSystem, type ActorlogError } from '../../src/index.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { tempDb } from '../support/tempDb.ts';

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** A bare yoi backend: the transcript GET answers 404 (a diagnostic, then the observation starts), each upgrade gets `frames`. */
async function backend(frames: (ws: WebSocket) => void) {
  const http = createServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"not found"}');
  });
  const wss = new WebSocketServer({ noServer: true });
  http.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => frames(ws)));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        http.closeAllConnections();
        http.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

const event = (seq: number, payload: unknown) =>
  JSON.stringify({ kind: 'event', envelope: { cursor: encodeBackendCursor(seq), runtime_id: 'rt', worker_id: 'w1', payload } });
const nested = (depth: number, leaf: string) => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);

function journaled(baseUrl: string) {
  const db = tempDb();
  const store = openSqliteStore(db.path);
  const errors: ActorlogError[] = [];
  const system = createActorSystem({ store, machines: { yoi: yoiConnectionMachine() }, onError: (_id, err) => errors.push(err) });
  cleanups.push(async () => {
    await system.close();
    store.close();
    db.cleanup();
  });
  const input = yoiConnectionInput({ baseUrl, runtimeId: 'rt', workerId: 'w1', retryDelayMs: 20 });
  const actor = system.spawn('yoi', { id: input.connectionId, input });
  return { actor, store, errors, db };
}

describe('frames over the bounds, binary and non-UTF-8 frames are recorded and the actor goes on', () => {
  it('a valid frame nested 4,200 levels deep is recorded as connection.invalid (truncated raw), not APPEND_FAILED; the next event is delivered', async () => {
    const url = await backend((ws) => {
      // built as text: JSON.stringify itself overflows on such a value
      ws.send(event(1, { type: 'text_delta', deep: 0 }).replace('"deep":0', `"deep":${nested(4_200, '1')}`));
      ws.send(event(2, { type: 'text_delta', text: 'after the deep frame' }));
    });
    const { actor, store, errors } = journaled(url);
    const s = await actor.waitFor((x) => x.context.lastSeq === '0000000000000002' || x.status !== 'active', { timeoutMs: 10_000 });
    expect(errors).toEqual([]);
    expect(s.status).toBe('active');
    const invalid = store.readStream(actor.id).filter((r) => r.type === 'connection.invalid');
    expect(invalid).toHaveLength(1);
    expect(invalid[0].data).toMatchObject({ error: expect.stringContaining('nested too deep (> maxDepth 64)') });
    expect((invalid[0].data as { raw: string }).raw.length).toBe(4096);
    expect(store.getStream(actor.id)?.status).toBe('active');
  });

  it('records a binary frame (base64 prefix, byte length) and a text frame that is not UTF-8, and the socket stays open', async () => {
    let connects = 0;
    const url = await backend((ws) => {
      connects += 1;
      ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]), { binary: true });
      ws.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false });
      ws.send(event(1, { type: 'text_delta', text: 'after the bad frames' }));
    });
    const { actor, store } = journaled(url);
    const s = await actor.waitFor((x) => x.context.lastSeq === '0000000000000001' || x.status !== 'active', { timeoutMs: 10_000 });
    expect(s.status).toBe('active');
    const invalid = store
      .readStream(actor.id)
      .filter((r) => r.type === 'connection.invalid')
      .map((r) => r.data);
    expect(invalid).toEqual([
      { raw: '3q2+7w==', error: 'Backend observation frame was binary (4 bytes; raw base64)', meta: { source: 'ws' } },
      {
        raw: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]).toString('base64'),
        error: 'Backend observation frame was not valid UTF-8 (4 bytes; raw base64)',
        meta: { source: 'ws' },
      },
    ]);
    expect(connects).toBe(1);
    expect(store.readStream(actor.id).filter((r) => r.type === 'connection.closed')).toEqual([]);
  });

  it('a frame over the size bound is recorded, cut to 4 KiB; a credential 40 levels deep in a raw frame is scrubbed before it reaches the log', async () => {
    const secret = 'Bearer sk-live-4f7a9c1e2b';
    const url = await backend((ws) => {
      ws.send(event(1, { type: 'text_delta', text: 'x'.repeat(2 * 1024 * 1024) }));
      ws.send(nested(40, `{"headers":{"authorization":"${secret}"}}`).slice(0, -3)); // deep, and cut: not JSON
      ws.send(nested(100, `{"authorization":"${secret}"}`)); // over maxDepth
      ws.send(event(2, { type: 'text_delta', text: 'fine' }));
    });
    const { actor, store, db } = journaled(url);
    const s = await actor.waitFor((x) => x.context.lastSeq === '0000000000000002' || x.status !== 'active', { timeoutMs: 10_000 });
    expect(s.status).toBe('active');
    const invalid = store
      .readStream(actor.id)
      .filter((r) => r.type === 'connection.invalid')
      .map((r) => r.data as { raw: string; error: string });
    expect(invalid.map((d) => d.error)).toEqual([
      expect.stringContaining('payload too large (2097'),
      expect.stringContaining('not JSON'),
      expect.stringContaining('nested too deep'),
    ]);
    expect(invalid[0].raw.length).toBe(4096);
    expect(invalid[1].raw).toContain('"authorization":"Bearer [redacted]"');
    expect(invalid[2].raw).toContain('"authorization":"Bearer [redacted]"');
    store.close();
    const file = readFileSync(db.path).toString('latin1') + readFileSync(`${db.path}-wal`, { flag: 'a+' }).toString('latin1');
    expect(file).not.toContain('sk-live-4f7a9c1e2b');
  });
});

/**
 * `actorlog view` is safe to leave open: a real server on 127.0.0.1, asked with raw HTTP. It answers
 * only its own Host (a page elsewhere that re-points its name at 127.0.0.1, DNS rebinding, reads
 * nothing), caps its live clients, and cuts off a client that trickles its request head.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openViewer } from '../../cli/view.ts';
import { createRegistry } from '../../cli/registry.ts';
import type { ViewServer } from '../../cli/view/server.ts';
import { tempDb } from '../support/tempDb.ts';
import { writeViewerLog } from '../support/viewerLog.ts';
import { machines } from '../support/viewerMachines.ts';

const db = tempDb();
const told: string[] = [];
let viewer: ViewServer;
let port: number;

beforeAll(async () => {
  await writeViewerLog(db.path);
  viewer = await openViewer(db.path, createRegistry(machines), { maxLiveClients: 2, headersTimeoutMs: 1_000, err: { write: (s: string) => told.push(s) } });
  port = Number(new URL(viewer.url).port);
});
afterAll(async () => (await viewer.close(), db.cleanup()));

/** GET `path` with this Host header; resolves with the status and body (a live feed: the first chunk, then it is closed). */
function get(path: string, host: string): Promise<{ status: number; body: string; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      const done = () => resolve({ status: res.statusCode!, body, close: () => req.destroy() });
      res.on('data', (d: string) => {
        body += d;
        if (res.headers['content-type']?.startsWith('text/event-stream')) done();
      });
      res.on('end', done);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('actorlog view, left open', () => {
  it('answers its own Host only: 127.0.0.1, localhost and [::1] with its port', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      const res = await get('/api/streams', host);
      expect(res.status, host).toBe(200);
      expect(JSON.parse(res.body).items.length).toBeGreaterThan(0);
    }
  });

  it('refuses a request whose Host is another name (DNS rebinding) or another port, and says so once', async () => {
    for (const host of [`attacker.example:${port}`, 'attacker.example', `127.0.0.1:${port + 1}`, `127.0.0.1`]) {
      const res = await get('/api/streams', host);
      expect(res.status, host).toBe(421);
      expect(JSON.parse(res.body)).toEqual({ error: { code: 'INVALID_OPTIONS', message: expect.stringContaining(`127.0.0.1:${port}`) } });
      expect(res.body).not.toContain('job-failed');
    }
    expect((await get('/', `attacker.example:${port}`)).status).toBe(421);
    expect((await get('/api/live', `attacker.example:${port}`)).status).toBe(421);
    expect(told.filter((l) => l.includes('attacker.example:'))).toHaveLength(1);
  });

  it('takes at most maxLiveClients live feeds; one more gets 503 TRANSIENT until one leaves', async () => {
    const host = `127.0.0.1:${port}`;
    const first = await get('/api/live', host);
    const second = await get('/api/live', host);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.body).toContain('event: hello');
    const third = await get('/api/live', host);
    expect(third.status).toBe(503);
    expect(JSON.parse(third.body).error.code).toBe('TRANSIENT');
    expect(told.some((l) => l.includes('refused a live client'))).toBe(true);
    first.close();
    // the server notices the close; a new client is then taken
    let again = await get('/api/live', host);
    for (let i = 0; again.status !== 200 && i < 50; i++) again = await new Promise((r) => setTimeout(r, 50)).then(() => get('/api/live', host));
    expect(again.status).toBe(200);
    again.close();
    second.close();
  });

  it('cuts off a client that trickles its request head (408), instead of keeping its socket', async () => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received += d));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(`GET /api/streams HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
    // one header byte every 100 ms, never the blank line that ends the head
    const header = 'X-Slow: ' + 'a'.repeat(200);
    let sent = 0;
    const trickle = setInterval(() => sent < header.length && socket.write(header[sent++]!), 100);
    await closed;
    clearInterval(trickle);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
    expect(sent).toBeLessThan(header.length); // closed while it was still trickling
    expect(told.some((l) => l.includes('did not send its request'))).toBe(true);
  });
});

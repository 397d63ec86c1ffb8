import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, take, toArray, filter, map } from 'rxjs';
import { sse, type SseItem } from '../../src/sources/sse/index.ts';

/**
 * A real event-stream server on 127.0.0.1 whose behaviour each test picks by path:
 * /drop      events 1..6, the socket destroyed after event 3 (once per Last-Event-ID of none)
 * /silent    headers, then nothing (a stalled stream)
 * /heartbeat a comment every 30 ms and no event
 * /gone      HTTP 404
 * /busy      HTTP 503 twice, then events
 */
let server: Server;
let base: string;
const seen: Array<{ path: string; lastEventId?: string }> = [];
const sockets = new Set<Socket>();
let busyLeft = 2;

function events(res: ServerResponse, from: number, to: number) {
  for (let i = from; i <= to; i++) res.write(`id: ${i}\ndata: {"n":${i}}\n\n`);
}

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url!, 'http://x').pathname;
    const lastEventId = req.headers['last-event-id'] as string | undefined;
    seen.push({ path, lastEventId });
    const open = () => res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (path === '/drop') {
      open();
      res.write('retry: 20\n\n');
      if (!lastEventId) {
        events(res, 1, 3);
        setTimeout(() => req.socket.destroy(), 20);
      } else {
        events(res, Number(lastEventId) + 1, 6);
        res.end();
      }
    } else if (path === '/silent') {
      open();
      res.flushHeaders();
    } else if (path === '/heartbeat') {
      open();
      const t = setInterval(() => res.write(': keepalive\n\n'), 30);
      res.on('close', () => clearInterval(t));
    } else if (path === '/gone') {
      res.writeHead(404).end('no such stream');
    } else if (path === '/busy') {
      if (busyLeft-- > 0) {
        res.writeHead(503).end();
        return;
      }
      open();
      events(res, 1, 2);
      res.end();
    } else res.writeHead(500).end();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

const messages = (items: SseItem[]) => items.filter((i) => i.kind === 'message').map((i) => (i as { data: string }).data);

describe('SSE source on a real HTTP server (undici + eventsource-parser)', () => {
  it('resumes a dropped stream with Last-Event-ID: every event once, in order', async () => {
    const items = await lastValueFrom(sse({ request: `${base}/drop`, reconnectOnEnd: false, retry: { baseMs: 10 } }).pipe(toArray()));
    expect(messages(items)).toEqual([1, 2, 3, 4, 5, 6].map((n) => `{"n":${n}}`));
    const retry = items.find((i) => i.kind === 'retry') as Extract<SseItem, { kind: 'retry' }>;
    expect(retry).toMatchObject({ attempt: 1, cursor: '3', error: { code: 'TRANSIENT' } });
    expect(retry.delayMs).toBeGreaterThanOrEqual(20); // the server's retry: 20 is the base
    expect(seen.filter((s) => s.path === '/drop').map((s) => s.lastEventId)).toEqual([undefined, '3']);
  });

  it('fails a stalled connection as TRANSIENT and gives up after bounded attempts', async () => {
    const started = Date.now();
    const err = await lastValueFrom(sse({ request: `${base}/silent`, stallTimeoutMs: 80, retry: { maxAttempts: 1, baseMs: 10 } })).catch((e) => e);
    expect(err).toMatchObject({ code: 'TRANSIENT', details: { cause: 'stall', attempts: 1 } });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('treats comment lines as heartbeats that keep a quiet stream alive', async () => {
    let failed: unknown;
    const sub = sse({ request: `${base}/heartbeat`, stallTimeoutMs: 300, retry: { maxAttempts: 0 } }).subscribe({
      error: (e) => {
        failed = e;
      },
    });
    await new Promise((r) => setTimeout(r, 1_000)); // more than 3 stall timeouts, kept alive by comments every 30 ms
    expect(failed).toBeUndefined();
    sub.unsubscribe();
  });

  it('stops at once with PERMANENT on HTTP 404, and retries HTTP 503 as TRANSIENT', async () => {
    const gone = await firstValueFrom(sse({ request: `${base}/gone` })).catch((e) => e);
    expect(gone).toMatchObject({ code: 'PERMANENT', details: { status: 404 } });
    expect(seen.filter((s) => s.path === '/gone')).toHaveLength(1);
    const items = await lastValueFrom(sse({ request: `${base}/busy`, reconnectOnEnd: false, retry: { baseMs: 5 } }).pipe(toArray()));
    expect(items.filter((i) => i.kind === 'retry').map((i) => (i as { error: { details?: { status?: number } } }).error.details?.status)).toEqual([503, 503]);
    expect(messages(items)).toEqual(['{"n":1}', '{"n":2}']);
  });

  it('ends TRANSIENT after bounded retries when the server is gone (connection refused)', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/e`;
    await new Promise((r) => closed.close(r));
    const retries: number[] = [];
    const err = await lastValueFrom(
      sse({ request: url, retry: { maxAttempts: 3, baseMs: 5 } }).pipe(
        filter((i) => i.kind === 'retry'),
        map((i) => retries.push((i as { attempt: number }).attempt)),
      ),
    ).catch((e) => e);
    expect(err).toMatchObject({ code: 'TRANSIENT', details: { attempts: 3 } });
    expect(retries).toEqual([1, 2, 3]);
  });

  it('delivers the first events of a live stream to a late subscriber of its own', async () => {
    const first = await firstValueFrom(
      sse({ request: `${base}/busy` }).pipe(
        filter((i) => i.kind === 'message'),
        take(1),
      ),
    );
    expect(first).toMatchObject({ kind: 'message', id: '1', cursor: '1' });
  });
});

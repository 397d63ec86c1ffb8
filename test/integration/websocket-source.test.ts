import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { Subject } from 'rxjs';
import { webSocket, type WebSocketEvent } from '../../src/sources/webSocket/index.ts';
import { virtualTime } from '../support/kit/index.ts';

/** A ws server on 127.0.0.1:0 whose behaviour each test scripts; `reject` answers upgrades with HTTP statuses. */
async function wsServer(options: { autoPong?: boolean } = {}) {
  const http: Server = createServer();
  const wss = new WebSocketServer({ noServer: true, autoPong: options.autoPong ?? true });
  const sockets: WebSocket[] = [];
  const urls: string[] = [];
  const pings: number[] = [];
  const reject: number[] = [];
  let onConnect: (ws: WebSocket, url: URL) => void = () => {};
  const received: string[] = [];
  http.on('upgrade', (req, socket, head) => {
    urls.push(req.url ?? '');
    const status = reject.shift();
    if (status) {
      socket.end(`HTTP/1.1 ${status} No\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.push(ws);
      ws.on('ping', () => pings.push(Date.now()));
      ws.on('message', (data) => received.push((data as Buffer).toString()));
      onConnect(ws, new URL(req.url ?? '/', 'http://x'));
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return {
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/events`,
    sockets,
    urls,
    pings,
    reject,
    received,
    onConnect(fn: (ws: WebSocket, url: URL) => void) {
      onConnect = fn;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of wss.clients) s.terminate();
        wss.close();
        http.closeAllConnections();
        http.close(() => r());
      }),
  };
}

/** Collects a source's events; `next(type)` waits (real time, bounded) for the next event of that type. */
function collect(source: ReturnType<typeof webSocket>) {
  const events: WebSocketEvent[] = [];
  const state: { error?: { code?: string; details?: Record<string, unknown>; message: string }; done: boolean } = { done: false };
  const sub = source.subscribe({ next: (e) => events.push(e), error: (e) => (state.error = e), complete: () => (state.done = true) });
  const wait = async (check: () => boolean, what: string) => {
    const deadline = Date.now() + 5_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { events, state, sub, wait, count: (type: WebSocketEvent['type']) => events.filter((e) => e.type === type).length };
}

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('webSocket source on a real ws server', () => {
  it('emits open, every text frame with the cursor it carries, and the close code; completes after a normal close', async () => {
    const server = await wsServer();
    cleanup.push(server.close);
    server.onConnect((ws) => {
      ws.send('{"cursor":"c1","n":1}');
      ws.send('{"cursor":"c2","n":2}');
      ws.send(Buffer.from([7]), { binary: true });
      ws.close(1000, 'done');
    });
    const s = collect(webSocket(server.url, { cursorOf: (t) => JSON.parse(t).cursor }));
    cleanup.push(() => s.sub.unsubscribe());
    await s.wait(() => s.state.done, 'completion');
    expect(s.events).toEqual([
      { type: 'open', attempt: 0, cursor: undefined },
      { type: 'message', text: '{"cursor":"c1","n":1}', cursor: 'c1' },
      { type: 'message', text: '{"cursor":"c2","n":2}', cursor: 'c2' },
      { type: 'message', bytes: Buffer.from([7]) },
      { type: 'close', code: 1000, reason: 'done', delivered: 3, reconnect: false, attempt: 0, delayMs: undefined },
    ]);
  });

  it('reconnects after a drop with backoff (virtual time) and resumes from the last cursor', async () => {
    const server = await wsServer();
    cleanup.push(server.close);
    let connects = 0;
    server.onConnect((ws, url) => {
      connects += 1;
      if (connects === 1) {
        ws.send('{"cursor":"c7"}');
        setImmediate(() => ws.terminate());
      } else ws.send(JSON.stringify({ cursor: `after-${url.searchParams.get('cursor')}` }));
    });
    const vt = virtualTime();
    const s = collect(webSocket(server.url, { cursor: 'c5', cursorOf: (t) => JSON.parse(t).cursor, scheduler: vt.scheduler, reconnect: { random: () => 0 } }));
    cleanup.push(() => s.sub.unsubscribe());
    await s.wait(() => s.count('close') === 1, 'the drop');
    expect(s.events.at(-1)).toEqual({ type: 'close', code: 1006, reason: '', delivered: 1, reconnect: true, attempt: 1, delayMs: 500 });
    vt.advance(499);
    await vt.settle();
    expect(server.urls).toHaveLength(1);
    vt.advance(1);
    await s.wait(() => s.count('message') === 2, 'the resumed frame');
    expect(server.urls).toEqual(['/events?cursor=c5', '/events?cursor=c7']);
    expect(s.events.filter((e) => e.type === 'open')).toEqual([
      { type: 'open', attempt: 0, cursor: 'c5' },
      { type: 'open', attempt: 1, cursor: 'c7' },
    ]);
    expect(s.events.at(-1)).toMatchObject({ type: 'message', cursor: 'after-c7' });
  });

  it('stops after maxAttempts failed connects in a row with TRANSIENT, and fails at once on HTTP 4xx (PERMANENT)', async () => {
    const server = await wsServer();
    cleanup.push(server.close);
    server.reject.push(503, 503, 503);
    const vt = virtualTime();
    const s = collect(webSocket(server.url, { scheduler: vt.scheduler, reconnect: { maxAttempts: 2, random: () => 0, baseMs: 100 } }));
    for (let i = 1; i <= 2; i++) {
      await s.wait(() => s.count('error') === i, `connect failure ${i}`);
      vt.advance(100 * 2 ** (i - 1));
    }
    await s.wait(() => s.state.error !== undefined, 'the final error');
    expect(s.events.map((e) => e.type === 'error' && [e.error.code, e.error.status, e.attempt, e.delayMs])).toEqual([
      ['TRANSIENT', 503, 1, 100],
      ['TRANSIENT', 503, 2, 200],
    ]);
    expect(s.state.error).toMatchObject({ code: 'TRANSIENT', details: { attempts: 2, cause: 'TRANSIENT' } });
    expect(server.urls).toHaveLength(3);

    server.reject.push(401);
    const p = collect(webSocket(server.url, { scheduler: vt.scheduler }));
    await p.wait(() => p.state.error !== undefined, 'the 401');
    expect(p.state.error).toMatchObject({ code: 'PERMANENT', details: { status: 401 } });
    expect(p.events).toEqual([]);
  });

  it('fails with PERMANENT on a policy close (1008) and surfaces the code first', async () => {
    const server = await wsServer();
    cleanup.push(server.close);
    server.onConnect((ws) => ws.close(1008, 'token revoked'));
    const s = collect(webSocket(server.url));
    await s.wait(() => s.state.error !== undefined, 'the error');
    expect(s.events.map((e) => e.type)).toEqual(['open', 'close']);
    expect(s.events[1]).toMatchObject({ code: 1008, reason: 'token revoked', reconnect: false });
    expect(s.state.error).toMatchObject({ code: 'PERMANENT', details: { closeCode: 1008 } });
  });

  it('pings on the interval, and closes a connection that stalls (no pong) with 1006 "stalled"', async () => {
    const server = await wsServer({ autoPong: false });
    cleanup.push(server.close);
    const vt = virtualTime();
    const s = collect(webSocket(server.url, { scheduler: vt.scheduler, pingIntervalMs: 1_000, stallTimeoutMs: 2_500, reconnect: { maxAttempts: 0 } }));
    await s.wait(() => s.count('open') === 1, 'open');
    vt.advance(1_000);
    await s.wait(() => server.pings.length === 1, 'the first ping');
    vt.advance(1_000);
    await s.wait(() => server.pings.length === 2, 'the second ping');
    expect(s.count('close')).toBe(0);
    vt.advance(1_000); // 3 s without a pong >= 2.5 s
    await s.wait(() => s.state.error !== undefined, 'the stall');
    expect(s.events.at(-1)).toMatchObject({ type: 'close', code: 1006, reason: 'stalled', reconnect: false });
    expect(s.state.error).toMatchObject({ code: 'TRANSIENT', details: { closeCode: 1006, reason: 'stalled' } });
  });

  it('keeps a connection that answers pings alive', async () => {
    const server = await wsServer();
    cleanup.push(server.close);
    const vt = virtualTime();
    const s = collect(webSocket(server.url, { scheduler: vt.scheduler, pingIntervalMs: 1_000, stallTimeoutMs: 2_500 }));
    cleanup.push(() => s.sub.unsubscribe());
    await s.wait(() => s.count('open') === 1, 'open');
    for (let i = 1; i <= 5; i++) {
      vt.advance(1_000);
      await s.wait(() => server.pings.length === i, `ping ${i}`);
      await vt.settle();
    }
    expect(s.count('close')).toBe(0);
  });

  it('terminates the socket when unsubscribed', async () => {
    const server = await wsServer();
    cleanup.push(server.close);
    const s = collect(webSocket(server.url));
    await s.wait(() => s.count('open') === 1, 'open');
    const closed = new Promise<number>((r) => server.sockets[0].once('close', (code) => r(code)));
    s.sub.unsubscribe();
    expect(await closed).toBe(1006);
  });
});

describe('nothing from the wire vanishes or closes the socket silently', () => {
  it('emits a binary frame as bytes, a text frame that is not UTF-8 as invalid (the socket stays open), and goes on', async () => {
    const server = await wsServer();
    cleanup.push(server.close);
    server.onConnect((ws) => {
      ws.send(Buffer.from([0, 1, 2, 0xff]), { binary: true });
      ws.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false }); // "{", a broken 2-byte sequence, "}"
      ws.send('{"after":"the bad frame"}');
      ws.close(1000);
    });
    const s = collect(webSocket(server.url));
    await s.wait(() => s.state.done, 'completion');
    expect(s.events.map((e) => e.type)).toEqual(['open', 'message', 'invalid', 'message', 'close']);
    expect(s.events[1]).toEqual({ type: 'message', bytes: Buffer.from([0, 1, 2, 0xff]) });
    expect(s.events[2]).toMatchObject({ type: 'invalid', reason: 'invalid-utf8', bytes: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]) });
    expect(s.events[3]).toMatchObject({ text: '{"after":"the bad frame"}' });
    expect(s.events[4]).toMatchObject({ code: 1000, delivered: 3 });
  });

  it('reports a message over maxPayloadBytes as invalid (too-large) before the close ws makes, then reconnects', async () => {
    const server = await wsServer();
    cleanup.push(server.close);
    let connects = 0;
    server.onConnect((ws) => {
      connects += 1;
      if (connects === 1) ws.send('x'.repeat(2_000));
      else ws.send('{"small":true}');
    });
    const vt = virtualTime();
    const s = collect(webSocket(server.url, { maxPayloadBytes: 1_000, scheduler: vt.scheduler, reconnect: { random: () => 0 } }));
    cleanup.push(() => s.sub.unsubscribe());
    await s.wait(() => s.count('close') === 1, 'the close');
    expect(s.events.slice(1)).toEqual([
      { type: 'invalid', reason: 'too-large', limitBytes: 1_000, error: expect.stringContaining('maxPayloadBytes (1000 bytes)') },
      { type: 'close', code: 1006, reason: 'message over maxPayloadBytes (1000 bytes)', delivered: 1, reconnect: true, attempt: 1, delayMs: 500 },
    ]);
    vt.advance(500);
    await s.wait(() => s.count('message') === 1, 'the next frame');
  });
});

describe('the source sends (on open, from the resume point; later, commands)', () => {
  it('sends onOpen messages built from the cursor on every open, before queued commands; the URL carries no cursor in message mode', async () => {
    const server = await wsServer();
    cleanup.push(server.close);
    let connects = 0;
    server.onConnect((ws) => {
      connects += 1;
      ws.on('message', (data) => {
        const m = JSON.parse((data as Buffer).toString()) as { type: string; after?: number };
        if (m.type !== 'subscribe') return;
        if (connects === 1) {
          ws.send(JSON.stringify({ seq: (m.after ?? 0) + 1 }));
          setImmediate(() => ws.terminate());
        } else ws.send(JSON.stringify({ seq: (m.after ?? 0) + 1 }));
      });
    });
    const commands = new Subject<string>();
    const vt = virtualTime();
    const s = collect(
      webSocket(server.url, {
        cursor: '4',
        cursorOf: (t) => String(JSON.parse(t).seq),
        scheduler: vt.scheduler,
        reconnect: { random: () => 0 },
        outgoing: commands,
        onOpen: ({ cursor, attempt }) => [JSON.stringify({ type: 'init', attempt }), JSON.stringify({ type: 'subscribe', after: Number(cursor) })],
      }),
    );
    cleanup.push(() => s.sub.unsubscribe());
    await s.wait(() => s.count('close') === 1, 'the drop');
    commands.next('{"type":"command","n":1}'); // no connection open: waits for the next one
    vt.advance(500);
    await s.wait(() => s.count('message') === 2, 'the resumed frame');
    await s.wait(() => server.received.length === 5, 'the queued command');
    expect(server.urls).toEqual(['/events', '/events']);
    expect(server.received).toEqual([
      '{"type":"init","attempt":0}',
      '{"type":"subscribe","after":4}',
      '{"type":"init","attempt":1}',
      '{"type":"subscribe","after":5}',
      '{"type":"command","n":1}',
    ]);
    commands.next('{"type":"command","n":2}'); // open: sent at once
    await s.wait(() => server.received.length === 6, 'the live command');
    expect(s.events.filter((e) => e.type === 'message').map((e) => e.type === 'message' && e.cursor)).toEqual(['5', '6']);
  });

  it('keeps URL mode as it was: the cursor in the query, nothing sent', async () => {
    const server = await wsServer();
    cleanup.push(server.close);
    server.onConnect((ws) => ws.close(1000));
    const s = collect(webSocket(server.url, { cursor: 'c9' }));
    await s.wait(() => s.state.done, 'completion');
    expect(server.urls).toEqual(['/events?cursor=c9']);
    expect(server.received).toEqual([]);
  });

  it('fails with PERMANENT when more than maxQueuedSends commands wait for a connection', async () => {
    const server = await wsServer();
    cleanup.push(server.close);
    server.reject.push(503);
    const commands = new Subject<string>();
    const vt = virtualTime();
    const s = collect(webSocket(server.url, { outgoing: commands, maxQueuedSends: 2, scheduler: vt.scheduler }));
    cleanup.push(() => s.sub.unsubscribe());
    await s.wait(() => s.count('error') === 1, 'the failed connect');
    commands.next('a');
    commands.next('b');
    expect(s.state.error).toBeUndefined();
    commands.next('c');
    expect(s.state.error).toMatchObject({ code: 'PERMANENT', details: { maxQueuedSends: 2 } });
  });
});

describe('close codes classified, a session that delivers nothing is a failed attempt', () => {
  it('a login rejected after the socket opened (4403, 4401) ends the source at once with PERMANENT: one connect, no retry', async () => {
    for (const code of [4403, 4401]) {
      const server = await wsServer();
      cleanup.push(server.close);
      server.onConnect((ws) => ws.close(code, 'Forbidden'));
      const s = collect(webSocket(server.url));
      await s.wait(() => s.state.error !== undefined, 'the error');
      expect(s.state.error).toMatchObject({ code: 'PERMANENT', details: { closeCode: code } });
      expect(s.events.at(-1)).toMatchObject({ type: 'close', code, delivered: 0, reconnect: false });
      expect(server.urls).toHaveLength(1);
    }
  });

  it('counts connections that close before delivering anything: maxAttempts applies though every connect succeeds', async () => {
    const server = await wsServer();
    cleanup.push(server.close);
    server.onConnect((ws) => ws.close(4000, 'go away'));
    const vt = virtualTime();
    const s = collect(webSocket(server.url, { scheduler: vt.scheduler, reconnect: { maxAttempts: 2, baseMs: 100, random: () => 0 } }));
    cleanup.push(() => s.sub.unsubscribe());
    for (let i = 1; i <= 2; i++) {
      await s.wait(() => s.count('close') === i, `close ${i}`);
      vt.advance(100 * 2 ** (i - 1));
    }
    await s.wait(() => s.state.error !== undefined, 'the final error');
    expect(s.state.error).toMatchObject({ code: 'TRANSIENT', details: { attempts: 2, closeCode: 4000 } });
    expect(s.events.filter((e) => e.type === 'close').map((e) => e.type === 'close' && [e.attempt, e.delayMs])).toEqual([
      [1, 100],
      [2, 200],
      [2, undefined],
    ]);
    expect(server.urls).toHaveLength(3);
  });

  it('a connection that delivered a frame starts the count again', async () => {
    const server = await wsServer();
    cleanup.push(server.close);
    let connects = 0;
    server.onConnect((ws) => {
      connects += 1;
      if (connects === 2) ws.send('{"n":1}');
      ws.close(4000);
    });
    const vt = virtualTime();
    const s = collect(webSocket(server.url, { scheduler: vt.scheduler, reconnect: { maxAttempts: 2, baseMs: 100, random: () => 0 } }));
    cleanup.push(() => s.sub.unsubscribe());
    await s.wait(() => s.count('close') === 1, 'close 1');
    vt.advance(100);
    await s.wait(() => s.count('close') === 2, 'close 2');
    expect(s.events.at(-1)).toMatchObject({ delivered: 1, attempt: 1, delayMs: 100 });
  });

  it('classifies 1011-1013 as transient by default, and follows reconnect.classifyClose', async () => {
    const server = await wsServer();
    cleanup.push(server.close);
    const codes = [1011, 1012, 1013, 4400];
    server.onConnect((ws) => ws.close(codes.shift()!));
    const vt = virtualTime();
    const s = collect(
      webSocket(server.url, {
        scheduler: vt.scheduler,
        reconnect: { maxAttempts: 5, baseMs: 10, random: () => 0, classifyClose: (c) => (c === 4400 ? 'permanent' : undefined) },
      }),
    );
    for (let i = 1; i <= 3; i++) {
      await s.wait(() => s.count('close') === i, `close ${i}`);
      expect(s.events.at(-1)).toMatchObject({ reconnect: true });
      vt.advance(10 * 2 ** (i - 1));
    }
    await s.wait(() => s.state.error !== undefined, 'the error');
    expect(s.state.error).toMatchObject({ code: 'PERMANENT', details: { closeCode: 4400 } });
  });
});

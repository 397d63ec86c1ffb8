import { describe, expect, it } from 'vitest';
import { Observable, VirtualTimeScheduler, type Subscriber } from 'rxjs';
import { ActorlogError, isActorlogError } from '../../src/errors.ts';
import { sse, type SseItem } from '../../src/sources/sse/sse.ts';
import type { SseConnectionItem, SseRequest } from '../../src/sources/sse/connection.ts';
import { decideRetry } from '../../src/sources/sse/retryPolicy.ts';
import { httpStatusError, networkError } from '../../src/transport/classify.ts';
import { advance } from '../support/kit/index.ts';

/** A fake connection factory: records each request and hands the test the subscriber of each connection. */
function fakeConnections() {
  const requests: SseRequest[] = [];
  const live: Array<Subscriber<SseConnectionItem>> = [];
  const connect = (req: SseRequest) =>
    new Observable<SseConnectionItem>((s) => {
      requests.push(req);
      live.push(s);
    });
  const open = (i: number) => live[i].next({ kind: 'open', status: 200, headers: {} });
  const msg = (i: number, data: string, id?: string) => live[i].next({ kind: 'message', message: id === undefined ? { data } : { id, data } });
  return { requests, live, connect, open, msg };
}

function collect(source: Observable<SseItem>) {
  const items: SseItem[] = [];
  let error: unknown;
  let completed = false;
  const sub = source.subscribe({
    next: (i) => items.push(i),
    error: (e) => {
      error = e;
    },
    complete: () => {
      completed = true;
    },
  });
  return {
    items,
    sub,
    get error() {
      return error;
    },
    get completed() {
      return completed;
    },
  };
}

const refused = () => networkError('SSE', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));

describe('SSE retry policy', () => {
  it('retries transient failures with capped backoff based on the server retry: hint, and stops on permanent ones', () => {
    const fixed = { random: () => 0 };
    expect(decideRetry(httpStatusError('x', 503), 1, undefined, fixed)).toEqual({ retry: true, delayMs: 500 });
    expect(decideRetry(httpStatusError('x', 429), 3, 100, fixed)).toEqual({ retry: true, delayMs: 400 });
    expect(decideRetry(undefined, 1, 2000, fixed)).toEqual({ retry: true, delayMs: 2000 });
    expect(decideRetry(refused(), 20, undefined, { ...fixed, maxAttempts: 30, capMs: 5000 })).toEqual({ retry: true, delayMs: 5000 });
    const permanent = decideRetry(httpStatusError('x', 404), 1, undefined);
    expect(permanent.retry).toBe(false);
    expect(!permanent.retry && permanent.error.code).toBe('PERMANENT');
    const exhausted = decideRetry(refused(), 4, undefined, { maxAttempts: 3 });
    expect(exhausted.retry).toBe(false);
    expect(!exhausted.retry && exhausted.error).toMatchObject({ code: 'TRANSIENT', details: { attempts: 3 } });
  });
});

describe('SSE source lifecycle (fake connections, virtual time)', () => {
  it('reconnects after a drop with Last-Event-ID, after the backoff, and drops a replayed duplicate (same id and content; a reused id with new content is delivered, cursorReused)', () => {
    const scheduler = new VirtualTimeScheduler();
    const c = fakeConnections();
    const run = collect(
      sse({
        request: 'http://127.0.0.1:1/events',
        headers: { authorization: 'Bearer s3cret' },
        scheduler,
        connect: c.connect,
        retry: { baseMs: 1000, random: () => 0 },
      }),
    );
    c.open(0);
    c.msg(0, 'a', '1');
    c.msg(0, 'b', '2');
    c.live[0].error(refused());
    expect(run.items.at(-1)).toMatchObject({ kind: 'retry', attempt: 1, delayMs: 1000, cursor: '2' });
    advance(scheduler, 999);
    expect(c.requests).toHaveLength(1);
    advance(scheduler, 1);
    expect(c.requests).toHaveLength(2);
    expect(c.requests[1].headers).toMatchObject({ 'last-event-id': '2', authorization: 'Bearer s3cret' });
    c.open(1);
    c.msg(1, 'b', '2'); // the server replays the event of Last-Event-ID: same id, same content, dropped
    c.msg(1, 'c', '3');
    c.msg(1, 'd', '3'); // a server that reuses an id for a new event: delivered, marked
    const messages = run.items.filter((i) => i.kind === 'message');
    expect(messages.map((i) => (i as { data: string }).data)).toEqual(['a', 'b', 'c', 'd']);
    expect(messages.map((i) => (i as { cursorReused?: true }).cursorReused)).toEqual([undefined, undefined, undefined, true]);
    expect(JSON.stringify(run.items)).not.toContain('s3cret');
    run.sub.unsubscribe();
  });

  it('honours the server retry: field as the reconnection delay', () => {
    const scheduler = new VirtualTimeScheduler();
    const c = fakeConnections();
    const run = collect(sse({ request: 'http://127.0.0.1:1/e', scheduler, connect: c.connect, retry: { baseMs: 10, random: () => 0 } }));
    c.open(0);
    c.live[0].next({ kind: 'retry', retryMs: 3000 });
    c.msg(0, 'x', '1');
    c.live[0].complete();
    expect(run.items.at(-1)).toMatchObject({ kind: 'retry', delayMs: 3000 });
    advance(scheduler, 2999);
    expect(c.requests).toHaveLength(1);
    advance(scheduler, 1);
    expect(c.requests).toHaveLength(2);
    run.sub.unsubscribe();
  });

  it('gives up with TRANSIENT after maxAttempts consecutive failures (connection refused), never looping forever', () => {
    const scheduler = new VirtualTimeScheduler();
    const c = fakeConnections();
    const run = collect(sse({ request: 'http://127.0.0.1:1/e', scheduler, connect: c.connect, retry: { maxAttempts: 3, baseMs: 100, random: () => 0 } }));
    for (let i = 0; i < 4; i++) {
      c.live[i].error(refused());
      advance(scheduler, 10_000);
    }
    expect(c.requests).toHaveLength(4);
    expect(isActorlogError(run.error, 'TRANSIENT')).toBe(true);
    expect((run.error as ActorlogError).details).toMatchObject({ attempts: 3 });
    expect(run.items.filter((i) => i.kind === 'retry').map((i) => (i as { delayMs: number }).delayMs)).toEqual([100, 200, 400]);
  });

  it('stops at once on a permanent error (HTTP 401) and completes on HTTP 204', () => {
    const c = fakeConnections();
    const run = collect(sse({ request: 'http://127.0.0.1:1/e', connect: c.connect, scheduler: new VirtualTimeScheduler() }));
    c.live[0].error(httpStatusError('SSE', 401));
    expect(run.error).toMatchObject({ code: 'PERMANENT', details: { status: 401 } });
    const d = fakeConnections();
    const done = collect(sse({ request: 'http://127.0.0.1:1/e', connect: d.connect, scheduler: new VirtualTimeScheduler() }));
    d.live[0].next({ kind: 'stop' });
    d.live[0].complete();
    expect(done.completed).toBe(true);
  });

  it('resumes with a protocol cursor built into the request, and counts attempts from the last delivered message', () => {
    const scheduler = new VirtualTimeScheduler();
    const c = fakeConnections();
    const run = collect(
      sse({
        request: ({ cursor }) => ({ url: `http://127.0.0.1:1/session/s/event${cursor ? `?after=${cursor}` : ''}` }),
        resume: 'request',
        cursor: '4',
        scheduler,
        connect: c.connect,
        cursorOf: (m) => String(JSON.parse(m.data).seq),
        isDuplicate: (next, last) => last !== undefined && Number(next) <= Number(last),
        retry: { baseMs: 100, random: () => 0 },
      }),
    );
    expect(c.requests[0].url).toMatch(/after=4$/);
    expect(c.requests[0].headers?.['last-event-id']).toBeUndefined();
    c.open(0);
    c.msg(0, '{"seq":4}');
    c.msg(0, '{"seq":5}');
    c.live[0].error(refused());
    advance(scheduler, 100);
    expect(c.requests[1].url).toMatch(/after=5$/);
    c.open(1);
    c.msg(1, '{"seq":6}');
    c.live[1].error(refused());
    expect(run.items.at(-1)).toMatchObject({ kind: 'retry', attempt: 1, delayMs: 100 });
    expect(run.items.filter((i) => i.kind === 'message').map((i) => (i as { cursor?: string }).cursor)).toEqual(['5', '6']);
    run.sub.unsubscribe();
  });

  it('rejects bad options before any I/O', () => {
    expect(() => sse({ request: 'not a url' })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() => sse({ request: 'ftp://x/y' })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() => sse({ request: 'http://x/y', stallTimeoutMs: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() => sse({ request: 'http://x/y', retry: { maxAttempts: 1.5 } })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });
});

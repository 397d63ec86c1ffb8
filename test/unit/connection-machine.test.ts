import { describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import { fromEventObservable, SimulatedClock } from 'xstate';
import { connectionMachine, type ConnectionMachine } from '../../machines/connection/machine.ts';
import { backoffMs, compareSeq, type ConnectionContext, type ConnectionInput } from '../../machines/connection/context.ts';
import type { ConnectionMessage, ConnectionWireEvent } from '../../machines/connection/events.ts';
import { ActorlogError, createActorSystem, verifyReplay, type ActorSystem, type JournaledActor } from '../../src/index.ts';
import { httpStatusError, networkError } from '../../src/transport/classify.ts';
import type { SqliteStore } from '../../stores/sqlite/index.ts';
import { tempLog, type TempLog } from '../support/kit/index.ts';
import { moleculeConnectionInput } from '../../machines/molecule/options.ts';

type Name = 'register' | 'heartbeat' | 'receive' | 'dispatch' | 'reply' | 'command';
const NAMES: Name[] = ['register', 'heartbeat', 'receive', 'dispatch', 'reply', 'command'];

/** Fake actors: each start records its input and gets a Subject the test drives. */
function fakeActors() {
  const inputs: Record<Name, Array<Record<string, unknown>>> = { register: [], heartbeat: [], receive: [], dispatch: [], reply: [], command: [] };
  const live: Partial<Record<Name, Subject<ConnectionWireEvent>>> = {};
  const actors = Object.fromEntries(
    NAMES.map((name) => [
      name,
      fromEventObservable(({ input }: { input: Record<string, unknown> }) => {
        inputs[name].push(input);
        const subject = new Subject<ConnectionWireEvent>();
        live[name] = subject;
        return subject;
      }),
    ]),
  );
  return { inputs, live, machine: connectionMachine.provide({ actors: actors as never }) };
}

const msg = (id: string, extra: Partial<ConnectionMessage> = {}): ConnectionWireEvent => ({
  type: 'connection.message',
  message: { id, cursor: id, kind: 'a2a_receive', body: { text: id }, ...extra },
  meta: { source: 'poll' },
});
const value = (actor: JournaledActor<ConnectionMachine>) => JSON.stringify(actor.getSnapshot().value);

/** A connection machine with fake actors on a new connection to `log` (a fresh one by default), closed and deleted after the test. */
function start(input: Partial<ConnectionInput> = {}, log: TempLog = tempLog()) {
  const store: SqliteStore = log.open();
  const clock = new SimulatedClock();
  clock.set(1_000_000);
  const fakes = fakeActors();
  const system: ActorSystem = createActorSystem({ store, clock, machines: { connection: fakes.machine } });
  const spawn = (id = 'conn-1') =>
    system.spawn('connection', {
      id,
      input: { connectionId: id, heartbeatIntervalMs: 1_000, retryDelayMs: 100, ...input },
    });
  return { ...fakes, store, clock, system, spawn, log };
}

describe('connection machine: backoff', () => {
  it('doubles from retryDelayMs with a jitter fixed by the connection id and attempt, capped at 60 s (seed 003)', async () => {
    const ctx = { connectionId: 'conn-1', retryDelayMs: 500, maxRetryDelayMs: 60_000 };
    const delays = [1, 2, 3, 4].map((n) => backoffMs(ctx, n));
    delays.forEach((d, i) => expect(d).toBeGreaterThanOrEqual(500 * 2 ** i));
    delays.forEach((d, i) => expect(d).toBeLessThanOrEqual(600 * 2 ** i));
    expect(backoffMs(ctx, 3)).toBe(backoffMs({ ...ctx }, 3));
    expect(backoffMs(ctx, 30)).toBe(60_000);
  });
});

describe('connection machine: registering', () => {
  it('retries a transient register failure with backoff and goes online', async () => {
    const t = start();
    const conn = t.spawn();
    t.live.register!.error(httpStatusError('register', 503));
    expect(value(conn)).toBe('{"registering":"backoff"}');
    expect(conn.getSnapshot().context.lastError).toMatchObject({ code: 'TRANSIENT', status: 503 });
    t.clock.increment(backoffMs(conn.getSnapshot().context, 1));
    expect(t.inputs.register).toHaveLength(2);
    t.live.register!.next({ type: 'connection.registered' });
    expect(conn.getSnapshot().matches('online')).toBe(true);
    expect(conn.getSnapshot().context.registerAttempts).toBe(0);
  });

  it('fails at once, with a clear reason, on a permanent register failure', async () => {
    const t = start();
    const conn = t.spawn();
    t.live.register!.error(httpStatusError('molecule register', 401));
    expect(conn.getSnapshot().value).toBe('failed');
    expect(conn.getSnapshot().context.reason).toBe('register failed permanently: molecule register: HTTP 401');
    expect(t.inputs.register).toHaveLength(1);
  });

  it('fails after maxRegisterAttempts transient failures', async () => {
    const t = start({ maxRegisterAttempts: 2 });
    const conn = t.spawn();
    t.live.register!.error(networkError('register', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })));
    t.clock.increment(60_000);
    t.live.register!.error(httpStatusError('register', 502));
    expect(conn.getSnapshot().value).toBe('failed');
    expect(conn.getSnapshot().context.reason).toMatch(/^register failed after 2 attempts/);
  });
});

describe('connection machine: online', () => {
  it('beats every interval, backs off a transient failure, and a permanent one stops only the heartbeat', async () => {
    const t = start({ receiveMode: 'batch' });
    const conn = t.spawn();
    t.live.register!.next({ type: 'connection.registered' });
    expect(t.inputs.heartbeat).toHaveLength(1);
    t.live.heartbeat!.complete();
    t.clock.increment(1_000);
    expect(t.inputs.heartbeat).toHaveLength(2);
    t.live.heartbeat!.error(httpStatusError('heartbeat', 503));
    expect(conn.getSnapshot().matches({ online: { heartbeat: 'backoff' } })).toBe(true);
    t.clock.increment(backoffMs(conn.getSnapshot().context, 1));
    expect(t.inputs.heartbeat).toHaveLength(3);
    t.live.heartbeat!.error(httpStatusError('heartbeat', 401));
    const snap = conn.getSnapshot();
    expect(snap.matches({ online: { heartbeat: 'stopped', receive: 'listening' } })).toBe(true);
    expect(snap.context.heartbeatStopped).toMatchObject({ code: 'PERMANENT', status: 401 });
    expect(snap.context.diagnostics.at(-1)).toMatchObject({ code: 'heartbeat.stopped' });
    // the receive loop keeps running
    t.live.receive!.next(msg('a1'));
    t.live.receive!.complete();
    expect(t.inputs.dispatch).toHaveLength(1);
    t.clock.increment(60_000);
    expect(t.inputs.heartbeat).toHaveLength(3);
  });

  it('dispatches in order, one at a time, and a slow dispatch does not hold up the heartbeat', async () => {
    const t = start({ receiveMode: 'batch' });
    const conn = t.spawn();
    t.live.register!.next({ type: 'connection.registered' });
    t.live.receive!.next(msg('a1'));
    t.live.receive!.next(msg('a2'));
    t.live.receive!.complete();
    expect(t.inputs.dispatch.map((i) => i.idempotencyKey)).toEqual(['conn-1:a1']);
    for (let beat = 0; beat < 3; beat++) {
      t.live.heartbeat!.complete();
      t.clock.increment(1_000);
    }
    expect(conn.getSnapshot().context.counts.heartbeats).toBe(3);
    expect(conn.getSnapshot().matches({ online: { dispatch: 'dispatching', receive: 'draining' } })).toBe(true);
    t.live.dispatch!.next({ type: 'message.dispatched', messageId: 'a1', meta: { source: 'child', cursor: 'a1' } });
    expect(t.inputs.dispatch.map((i) => i.idempotencyKey)).toEqual(['conn-1:a1', 'conn-1:a2']);
    expect(t.inputs.receive).toHaveLength(1);
    t.live.dispatch!.next({ type: 'message.dispatched', messageId: 'a2', meta: { source: 'child', cursor: 'a2' } });
    expect(t.inputs.receive.map((i) => i.cursor)).toEqual([undefined, 'a2']);
  });

  it('moves the cursor only when a message is dispatched (batch), and replies only to messages with a source', async () => {
    const t = start({ receiveMode: 'batch' });
    const conn = t.spawn();
    t.live.register!.next({ type: 'connection.registered' });
    t.live.receive!.next(msg('a1', { replyTo: 'ws-src' }));
    t.live.receive!.next(msg('a2'));
    t.live.receive!.complete();
    expect(conn.getSnapshot().context.cursor).toBeUndefined();
    t.live.dispatch!.next({ type: 'message.dispatched', messageId: 'a1', reply: { text: 'pong' }, meta: { source: 'child', cursor: 'a1' } });
    expect(conn.getSnapshot().context.cursor).toBe('a1');
    expect(t.inputs.reply).toEqual([expect.objectContaining({ to: 'ws-src', messageId: 'a1', body: { text: 'pong' }, idempotencyKey: 'conn-1:a1:reply' })]);
    expect(t.inputs.dispatch).toHaveLength(1);
    t.live.reply!.complete();
    t.live.dispatch!.next({ type: 'message.dispatched', messageId: 'a2', reply: { text: 'pong' }, meta: { source: 'child', cursor: 'a2' } });
    const ctx = conn.getSnapshot().context;
    expect(ctx).toMatchObject({ cursor: 'a2', counts: { dispatched: 2, replies: 1, notReplied: 1 } });
    expect(t.inputs.reply).toHaveLength(1);
    expect(ctx.diagnostics.at(-1)).toMatchObject({ code: 'reply.no_source' });
  });

  it('drops re-delivered messages by id and by sequence, and skips the first message of the registration skipKind', async () => {
    const t = start({ receiveMode: 'stream', heartbeatIntervalMs: 0, deliver: 'record' });
    const conn = t.spawn();
    t.live.register!.next({ type: 'connection.registered', registration: { skipKind: 'snapshot' } });
    t.live.receive!.next(msg('s', { seq: 1, kind: 'snapshot', cursor: 'c1' }));
    t.live.receive!.next(msg('e2', { seq: 2, cursor: 'c2' }));
    t.live.receive!.next(msg('e2', { seq: 2, cursor: 'c2' }));
    t.live.receive!.next(msg('s', { seq: 1, cursor: 'c1' })); // the snapshot re-sent
    t.live.receive!.next(msg('s2', { seq: 3, kind: 'snapshot', cursor: 'c3' }));
    const ctx = conn.getSnapshot().context;
    expect(ctx.counts).toMatchObject({ received: 3, skipped: 1, duplicates: 2 });
    expect(ctx).toMatchObject({ cursor: 'c3', lastSeq: 3, skipKind: undefined });
    expect(t.inputs.heartbeat).toHaveLength(0);
  });

  it('records an invalid item and lets the cursor pass it in order', async () => {
    const t = start({ receiveMode: 'batch' });
    const conn = t.spawn();
    t.live.register!.next({ type: 'connection.registered' });
    t.live.receive!.next(msg('a1'));
    t.live.receive!.next({
      type: 'connection.invalid',
      raw: '{"id":"a2"}',
      error: 'source_id: expected string',
      messageId: 'a2',
      cursor: 'a2',
      meta: { source: 'poll' },
    });
    t.live.receive!.complete();
    t.live.dispatch!.next({ type: 'message.dispatched', messageId: 'a1', meta: { source: 'child', cursor: 'a1' } });
    const ctx = conn.getSnapshot().context;
    expect(ctx).toMatchObject({ cursor: 'a2', queue: [], counts: { dispatched: 1, invalid: 1, skipped: 1 } });
    expect(t.inputs.dispatch).toHaveLength(1);
    expect(t.inputs.receive.map((i) => i.cursor)).toEqual([undefined, 'a2']);
  });
});

describe('connection machine: reconnecting', () => {
  it('reconnects from the cursor after a drop, resets the count when the source opens, and fails after maxReconnects in a row', async () => {
    const t = start({ receiveMode: 'stream', heartbeatIntervalMs: 0, deliver: 'record', maxReconnects: 2 });
    const conn = t.spawn();
    t.live.register!.next({ type: 'connection.registered' });
    t.live.receive!.next({ type: 'connection.opened' });
    t.live.receive!.next(msg('e1', { seq: 1, cursor: 'c1' }));
    t.live.receive!.next({ type: 'connection.closed', code: 1006, reason: '' });
    t.live.receive!.complete();
    expect(conn.getSnapshot().matches({ online: { receive: 'reconnecting' } })).toBe(true);
    t.clock.increment(backoffMs(conn.getSnapshot().context, 1));
    expect(t.inputs.receive.map((i) => i.cursor)).toEqual([undefined, 'c1']);
    t.live.receive!.next({ type: 'connection.opened' });
    expect(conn.getSnapshot().context.reconnects).toBe(0);
    for (let i = 1; i <= 2; i++) {
      t.live.receive!.error(networkError('ws', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })));
      t.clock.increment(backoffMs(conn.getSnapshot().context, i));
    }
    t.live.receive!.error(networkError('ws', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })));
    expect(conn.getSnapshot().value).toBe('failed');
    expect(conn.getSnapshot().context.reason).toMatch(/^receive stopped after 2 reconnect attempts/);
  });

  it('resets the cursor when the remote no longer knows it, and fails on a permanent receive error', async () => {
    const t = start({ receiveMode: 'stream', heartbeatIntervalMs: 0, deliver: 'record' });
    const conn = t.spawn();
    t.live.register!.next({ type: 'connection.registered' });
    t.live.receive!.next(msg('e5', { seq: 5, cursor: 'c5' }));
    t.live.receive!.next({ type: 'connection.cursorReset', reason: 'backend.cursor_unknown_or_expired' });
    t.live.receive!.complete();
    t.clock.increment(60_000);
    expect(t.inputs.receive.map((i) => i.cursor)).toEqual([undefined, undefined]);
    t.live.receive!.next(msg('e1', { seq: 1, cursor: 'c1' }));
    expect(conn.getSnapshot().context.counts).toMatchObject({ received: 2, duplicates: 0, cursorResets: 1 });
    t.live.receive!.error(httpStatusError('WebSocket upgrade', 404));
    expect(conn.getSnapshot().value).toBe('failed');
    expect(conn.getSnapshot().context.reason).toBe('receive failed permanently: WebSocket upgrade: HTTP 404');
  });

  it('ends offline on connection.close', async () => {
    const t = start();
    const conn = t.spawn();
    t.live.register!.next({ type: 'connection.registered' });
    conn.send({ type: 'connection.close', reason: 'SIGTERM' });
    expect(conn.getSnapshot()).toMatchObject({ value: 'offline', status: 'done', context: { reason: 'SIGTERM' } });
  });
});

describe('connection machine: a failing dispatch never drops its message (seed 003)', () => {
  it('keeps the message at the head and the cursor before it, retrying with capped backoff for ever, then dispatches it', async () => {
    const t = start({ receiveMode: 'batch', heartbeatIntervalMs: 0, maxRetryDelayMs: 400 });
    const conn = t.spawn();
    t.live.register!.next({ type: 'connection.registered' });
    t.live.receive!.next(msg('a1'));
    t.live.receive!.next(msg('a2'));
    t.live.receive!.complete();
    const delays: number[] = [];
    for (let failure = 1; failure <= 12; failure++) {
      t.live.dispatch!.error(new Error('backend down'));
      const ctx: ConnectionContext = conn.getSnapshot().context;
      expect(conn.getSnapshot().matches({ online: { dispatch: 'backoff' } })).toBe(true);
      expect(ctx.queue.map((m) => m.id)).toEqual(['a1', 'a2']);
      expect(ctx.cursor).toBeUndefined();
      delays.push(backoffMs(ctx, ctx.dispatchAttempts));
      t.clock.increment(delays.at(-1)!);
    }
    expect(Math.max(...delays)).toBe(400);
    expect(t.inputs.dispatch.map((i) => i.idempotencyKey)).toEqual(Array(13).fill('conn-1:a1'));
    t.live.dispatch!.next({ type: 'message.dispatched', messageId: 'a1', meta: { source: 'child', cursor: 'a1' } });
    const ctx = conn.getSnapshot().context;
    expect(ctx).toMatchObject({ cursor: 'a1', counts: { dispatched: 1, dispatchFailures: 12, parked: 0 } });
    expect(t.store.readStream('conn-1').some((r) => r.type === 'message.parked')).toBe(false);
    expect(t.inputs.dispatch.at(-1)!.idempotencyKey).toBe('conn-1:a2');
  });

  it('the opt-in poison policy (parkAfterAttempts) parks a message with a logged message.parked event; the cursor passes it', async () => {
    const t = start({ receiveMode: 'batch', heartbeatIntervalMs: 0, parkAfterAttempts: 2 });
    const conn = t.spawn();
    t.live.register!.next({ type: 'connection.registered' });
    t.live.receive!.next(msg('a1'));
    t.live.receive!.next(msg('a2'));
    t.live.receive!.complete();
    t.live.dispatch!.error(new Error('poison'));
    t.clock.increment(backoffMs(conn.getSnapshot().context, 1));
    t.live.dispatch!.error(new Error('poison'));
    const ctx = conn.getSnapshot().context;
    expect(ctx).toMatchObject({ cursor: 'a1', counts: { parked: 1, dispatched: 0 } });
    expect(ctx.diagnostics.at(-1)).toMatchObject({ code: 'message.parked', message: 'message a1 parked after 2 failed attempts: poison' });
    const parked = t.store.readStream('conn-1').filter((r) => r.type === 'message.parked');
    expect(parked.map((r) => [r.data, r.meta.source, r.meta.actor])).toEqual([
      [{ messageId: 'a1', attempts: 2, error: expect.objectContaining({ message: 'poison' }) }, 'child', 'park'],
    ]);
    expect(t.inputs.dispatch.at(-1)!.idempotencyKey).toBe('conn-1:a2');
    t.system.stop('conn-1');
    expect(await verifyReplay(t.store, connectionMachine, 'conn-1')).toMatchObject({ ok: true });
  });
});

describe('connection machine: replies are never given up (seed 003)', () => {
  it('retries a transiently failing reply with the same key and capped backoff for as long as the connection lives; the next message waits', async () => {
    const t = start({ receiveMode: 'batch', heartbeatIntervalMs: 0, retryDelayMs: 500, maxRetryDelayMs: 60_000 });
    const conn = t.spawn();
    t.live.register!.next({ type: 'connection.registered' });
    t.live.receive!.next(msg('a1', { replyTo: 'ws-src' }));
    t.live.receive!.next(msg('a2', { replyTo: 'ws-src' }));
    t.live.receive!.complete();
    t.live.dispatch!.next({ type: 'message.dispatched', messageId: 'a1', reply: { text: 'pong' }, meta: { source: 'child', cursor: 'a1' } });
    const delays: number[] = [];
    for (let failure = 1; failure <= 30; failure++) {
      t.live.reply!.error(
        failure % 2 ? httpStatusError('molecule reply', 503) : networkError('molecule reply', Object.assign(new Error('reset'), { code: 'ECONNRESET' })),
      );
      const snap = conn.getSnapshot();
      expect(snap.matches({ online: { dispatch: 'replyBackoff' } })).toBe(true);
      expect(snap.context.pendingReply).toEqual({ messageId: 'a1', to: 'ws-src', body: { text: 'pong' } });
      delays.push(backoffMs(snap.context, snap.context.replyAttempts));
      t.clock.increment(delays.at(-1)!);
    }
    // 500 ms doubling (plus a fixed jitter of up to 20 %), then capped at 60 s (seed 003)
    expect(delays.slice(0, 4).map((d, i) => d >= 500 * 2 ** i && d <= 600 * 2 ** i)).toEqual([true, true, true, true]);
    expect(delays.slice(8)).toEqual(Array(22).fill(60_000));
    expect(t.inputs.reply.map((i) => i.idempotencyKey)).toEqual(Array(31).fill('conn-1:a1:reply'));
    expect(t.inputs.reply.map((i) => i.attempt)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    expect(t.inputs.dispatch).toHaveLength(1); // a2 waits for the reply to a1
    t.live.reply!.complete();
    expect(conn.getSnapshot().context).toMatchObject({ pendingReply: undefined, counts: { replies: 1, replyFailures: 0 } });
    expect(t.inputs.dispatch.map((i) => i.idempotencyKey)).toEqual(['conn-1:a1', 'conn-1:a2']);
  });

  it('a 4xx ends the reply as a recorded permanent failure (reply.failed), and the opt-in maxReplyAttempts bounds transient ones', async () => {
    const t = start({ receiveMode: 'batch', heartbeatIntervalMs: 0, maxReplyAttempts: 3 });
    const conn = t.spawn();
    t.live.register!.next({ type: 'connection.registered' });
    t.live.receive!.next(msg('a1', { replyTo: 'ws-gone' }));
    t.live.receive!.next(msg('a2', { replyTo: 'ws-src' }));
    t.live.receive!.complete();
    t.live.dispatch!.next({ type: 'message.dispatched', messageId: 'a1', reply: 'pong', meta: { source: 'child', cursor: 'a1' } });
    t.live.reply!.error(httpStatusError('molecule reply', 404));
    let ctx = conn.getSnapshot().context;
    expect(ctx).toMatchObject({ pendingReply: undefined, counts: { replyFailures: 1 }, lastError: { code: 'PERMANENT', status: 404 } });
    expect(ctx.diagnostics.at(-1)).toEqual({ code: 'reply.failed', message: 'reply to ws-gone for message a1 failed permanently: molecule reply: HTTP 404' });
    expect(t.inputs.reply).toHaveLength(1);
    t.live.dispatch!.next({ type: 'message.dispatched', messageId: 'a2', reply: 'pong', meta: { source: 'child', cursor: 'a2' } });
    for (let i = 1; i <= 3; i++) {
      t.live.reply!.error(httpStatusError('molecule reply', 503));
      t.clock.increment(60_000);
    }
    ctx = conn.getSnapshot().context;
    expect(t.inputs.reply).toHaveLength(4);
    expect(ctx.diagnostics.at(-1)).toEqual({
      code: 'reply.failed',
      message: 'reply to ws-src for message a2 given up after 3 attempts: molecule reply: HTTP 503',
    });
    t.system.stop('conn-1');
    expect(await verifyReplay(t.store, connectionMachine, 'conn-1')).toMatchObject({ ok: true });
  });

  it("waits out a 429/503's Retry-After before the next attempt (capped at maxRetryDelayMs), live and on replay", async () => {
    const t = start({ receiveMode: 'batch', heartbeatIntervalMs: 0, retryDelayMs: 100, maxRetryDelayMs: 60_000 });
    const conn = t.spawn();
    t.live.register!.next({ type: 'connection.registered' });
    t.live.receive!.next(msg('a1', { replyTo: 'ws-src' }));
    t.live.receive!.complete();
    t.live.dispatch!.next({ type: 'message.dispatched', messageId: 'a1', reply: 'pong', meta: { source: 'child', cursor: 'a1' } });
    t.live.reply!.error(httpStatusError('molecule reply', 503, {}, { 'retry-after': '5' }));
    expect(conn.getSnapshot().context.lastError).toMatchObject({ code: 'TRANSIENT', status: 503, retryAfterMs: 5_000 });
    t.clock.increment(4_999);
    expect(t.inputs.reply).toHaveLength(1); // without Retry-After the backoff would be about 100 ms
    t.clock.increment(1);
    expect(t.inputs.reply).toHaveLength(2);
    t.live.reply!.error(httpStatusError('molecule reply', 429, {}, { 'retry-after': '3600' })); // an hour: capped at maxRetryDelayMs
    t.clock.increment(59_999);
    expect(t.inputs.reply).toHaveLength(2);
    t.clock.increment(1);
    expect(t.inputs.reply).toHaveLength(3);
    t.live.reply!.complete();
    t.system.stop('conn-1');
    const errors = t.store
      .readStream('conn-1')
      .filter((r) => r.type === 'xstate.error.actor.reply')
      .map((r) => (r.data as { error: { retryAfterMs?: number } }).error.retryAfterMs);
    expect(errors).toEqual([5_000, 3_600_000]);
    expect(await verifyReplay(t.store, connectionMachine, 'conn-1')).toMatchObject({ ok: true });
  });

  it("molecule's defaults: a heartbeat every 30 s (seed 003: the platform's TTL is ~60 s) and replies never given up", async () => {
    const input = moleculeConnectionInput({ workspaceId: 'ws-1' });
    expect(input.maxReplyAttempts).toBeUndefined();
    const t = start(input);
    const conn = t.spawn('molecule-ws-1');
    expect(conn.getSnapshot().context).toMatchObject({ heartbeatIntervalMs: 30_000, maxReplyAttempts: null, maxRetryDelayMs: 60_000 });
    t.live.register!.next({ type: 'connection.registered' });
    expect(t.inputs.heartbeat).toHaveLength(1);
    t.live.heartbeat!.complete();
    t.clock.increment(29_999);
    expect(t.inputs.heartbeat).toHaveLength(1);
    t.clock.increment(1);
    expect(t.inputs.heartbeat).toHaveLength(2);
    t.live.heartbeat!.complete();
    t.clock.increment(30_000);
    expect(t.inputs.heartbeat.map((i) => i.beat)).toEqual([1, 2, 3]);
  });
});

describe('connection machine: sequences and duplicates (seed 004)', () => {
  it('compares hex sequences exactly, above 2^53 too', async () => {
    expect(Number(BigInt('0x0020000000000001'))).toBe(Number(BigInt('0x0020000000000000'))); // what a double does
    expect(compareSeq('0020000000000001', '0020000000000000')).toBe(1);
    expect(compareSeq('ffffffffffffffff', 'fffffffffffffffe')).toBe(1);
    expect(compareSeq('00000000000000FF', 'ff')).toBe(0);
    expect(compareSeq('0000000000000009', '000000000000000a')).toBe(-1);
    expect(compareSeq(3, 2)).toBe(1);
  });

  it('drops a sequence at or below the floor (seed: last_sequence starts at 0) and reports every dropped duplicate, counted', async () => {
    const t = start({ receiveMode: 'stream', heartbeatIntervalMs: 0, deliver: 'record', seqFloor: '0000000000000000' });
    const conn = t.spawn();
    t.live.register!.next({ type: 'connection.registered' });
    t.live.receive!.next({ type: 'connection.opened' });
    t.live.receive!.next(msg('bo_0000000000000000', { seq: '0000000000000000', cursor: 'bo_0000000000000000' }));
    t.live.receive!.next(msg('bo_0020000000000000', { seq: '0020000000000000', cursor: 'bo_0020000000000000' }));
    t.live.receive!.next(msg('bo_0020000000000001', { seq: '0020000000000001', cursor: 'bo_0020000000000001' }));
    t.live.receive!.next(msg('bo_0020000000000001', { seq: '0020000000000001', cursor: 'bo_0020000000000001' }));
    const ctx: ConnectionContext = conn.getSnapshot().context;
    expect(ctx.counts).toMatchObject({ received: 2, duplicates: 2 });
    expect(ctx).toMatchObject({ lastSeq: '0020000000000001', cursor: 'bo_0020000000000001' });
    expect(ctx.diagnostics.filter((d) => d.code === 'duplicate.dropped').map((d) => d.message)).toEqual([
      'message bo_0000000000000000 dropped as a duplicate (sequence 0000000000000000 is not above 0000000000000000); 1 dropped so far',
      'message bo_0020000000000001 dropped as a duplicate (sequence 0020000000000001 is not above 0020000000000001); 2 dropped so far',
    ]);
  });

  it('one frame out of line (cursor bo_ffffffffffffffff) does not make every later event a duplicate: a live stream that goes back is followed, with a diagnostic', async () => {
    const t = start({ receiveMode: 'stream', heartbeatIntervalMs: 0, deliver: 'record', seqFloor: '0000000000000000' });
    const conn = t.spawn();
    const seq = (n: number | string) => (typeof n === 'string' ? n : n.toString(16).padStart(16, '0'));
    const frame = (n: number | string) => msg(`bo_${seq(n)}`, { seq: seq(n), cursor: `bo_${seq(n)}` });
    t.live.register!.next({ type: 'connection.registered' });
    t.live.receive!.next({ type: 'connection.opened' });
    for (const n of [1, 2, 'ffffffffffffffff', 3, 4, 4, 2, 5]) t.live.receive!.next(frame(n));
    let ctx: ConnectionContext = conn.getSnapshot().context;
    // 3 follows 2, not the rogue frame; the re-sent 4 and the old 2 (already received) are duplicates
    expect(ctx.counts).toMatchObject({ received: 6, duplicates: 2 });
    expect(ctx).toMatchObject({ lastSeq: seq(5), cursor: `bo_${seq(5)}` });
    expect(ctx.diagnostics.filter((d) => d.code === 'sequence.backwards').map((d) => d.message)).toEqual([
      `message bo_${seq(3)}: sequence ${seq(3)} is below ffffffffffffffff, taken last on this connection: the stream went back, so ffffffffffffffff is no longer the last sequence (seed 004 would drop every event up to it)`,
    ]);
    expect(ctx.diagnostics.filter((d) => d.code === 'duplicate.dropped').map((d) => d.message)).toEqual([
      `message bo_${seq(4)} dropped as a duplicate (sequence ${seq(4)} is not above ${seq(4)}); 1 dropped so far`,
      `message bo_${seq(2)} dropped as a duplicate (sequence ${seq(2)} went back to an event already received); 2 dropped so far`,
    ]);
    // at the start of a connection a backend replays from the cursor: anything not above the last sequence is a re-send, as in the seed
    t.live.receive!.next({ type: 'connection.opened' });
    t.live.receive!.next(frame(3));
    t.live.receive!.next(frame(6));
    ctx = conn.getSnapshot().context;
    expect(ctx.counts).toMatchObject({ received: 7, duplicates: 3 });
    expect(ctx.lastSeq).toBe(seq(6));
    t.system.stop('conn-1');
    expect(await verifyReplay(t.store, connectionMachine, 'conn-1')).toMatchObject({ ok: true });
  });

  it('delivers every message marked unkeyed, even when several share an id, each under an id of its own', async () => {
    const t = start({ receiveMode: 'stream', heartbeatIntervalMs: 0, deliver: 'dispatch' });
    const conn = t.spawn();
    t.live.register!.next({ type: 'connection.registered' });
    for (let i = 0; i < 3; i++) t.live.receive!.next(msg('bogus-cursor', { unkeyed: true, cursor: 'bogus-cursor' }));
    expect(conn.getSnapshot().context.counts).toMatchObject({ received: 3, duplicates: 0 });
    expect(t.inputs.dispatch.map((i) => i.idempotencyKey)).toEqual(['conn-1:bogus-cursor#1']);
    t.live.dispatch!.next({ type: 'message.dispatched', messageId: 'bogus-cursor#1', meta: { source: 'child' } });
    t.live.dispatch!.next({ type: 'message.dispatched', messageId: 'bogus-cursor#2', meta: { source: 'child' } });
    expect(t.inputs.dispatch.map((i) => i.idempotencyKey)).toEqual(['conn-1:bogus-cursor#1', 'conn-1:bogus-cursor#2', 'conn-1:bogus-cursor#3']);
  });

  it('drops a message whose dedupe key (MessageID + IdempotencyKey) was dispatched under another id, and the cursor passes it', async () => {
    const t = start({ receiveMode: 'batch', heartbeatIntervalMs: 0 });
    const conn = t.spawn();
    t.live.register!.next({ type: 'connection.registered' });
    t.live.receive!.next(msg('r1', { dedupeKey: '["m-1","k-1"]' }));
    t.live.receive!.complete();
    t.live.dispatch!.next({ type: 'message.dispatched', messageId: 'r1', meta: { source: 'child', cursor: 'r1' } });
    t.live.receive!.next(msg('r2', { dedupeKey: '["m-1","k-1"]' }));
    t.live.receive!.next(msg('r3', { dedupeKey: '["m-1","k-2"]' }));
    t.live.receive!.complete();
    t.live.dispatch!.next({ type: 'message.dispatched', messageId: 'r3', meta: { source: 'child', cursor: 'r3' } });
    expect(t.inputs.dispatch.map((i) => i.idempotencyKey)).toEqual(['conn-1:r1', 'conn-1:r3']);
    expect(conn.getSnapshot().context).toMatchObject({ cursor: 'r3', counts: { dispatched: 2, duplicates: 1 } });
    expect(t.inputs.receive.map((i) => i.cursor)).toEqual([undefined, 'r1', 'r3']);
  });
});

describe('connection machine: losing the receive source stops only the receive (seed 004)', () => {
  it("onReceiveLost 'stop': every loss is retried, then only the receive region stops with the seed's diagnostic; commands go on, retried on transient failures", async () => {
    const t = start({
      receiveMode: 'stream',
      heartbeatIntervalMs: 0,
      deliver: 'dispatch',
      onReceiveLost: 'stop',
      maxReconnects: 2,
      receiveLabel: 'Backend observation stream for r:w',
      deliverDiagnostics: true,
    });
    const conn = t.spawn();
    t.live.register!.next({ type: 'connection.registered' });
    t.live.receive!.error(networkError('ws', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })));
    expect(conn.getSnapshot().matches({ online: { receive: 'reconnecting' } })).toBe(true);
    conn.send({ type: 'connection.command', command: { method: 'run' } }); // send() works while reconnecting
    expect(t.inputs.command).toHaveLength(1);
    t.live.command!.error(httpStatusError('yoi input', 503));
    expect(conn.getSnapshot().matches({ online: { commands: 'backoff' } })).toBe(true);
    for (let i = 1; i <= 2; i++) {
      t.clock.increment(60_000);
      t.live.receive!.error(networkError('ws', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })));
    }
    let snap = conn.getSnapshot();
    expect(snap.matches({ online: { receive: 'stopped' } })).toBe(true);
    expect(snap.status).toBe('active');
    expect(snap.context.receiveStopped).toMatch(/^Backend observation stream for r:w stopped after 2 reconnect attempts/);
    expect(snap.context.diagnostics.at(-1)).toEqual({
      code: 'receive.stopped',
      message: 'Backend observation stream for r:w stopped after 2 reconnect attempts',
    });
    // the command answered 503 was retried with the same key, and later commands still go out
    expect(t.inputs.command.map((i) => [i.idempotencyKey, i.attempt])).toEqual([
      ['conn-1:c1', 1],
      ['conn-1:c1', 2],
    ]);
    t.live.command!.complete();
    conn.send({ type: 'connection.command', command: { method: 'cancel' } });
    expect(t.inputs.command.at(-1)!.idempotencyKey).toBe('conn-1:c2');
    // the diagnostic reached the dispatch actor (the consumer's callback), in order
    expect(t.inputs.dispatch.map((i) => (i.message as ConnectionMessage).diagnostic)).toEqual(['receive.stopped']);
    snap = conn.getSnapshot();
    expect(snap.context.counts).toMatchObject({ commands: 1 });
  });

  it("onReceiveLost 'stop': a permanent loss (close code 4403) stops the receive region at once, never re-invoking the source", async () => {
    const t = start({
      receiveMode: 'stream',
      heartbeatIntervalMs: 0,
      deliver: 'record',
      onReceiveLost: 'stop',
      maxReconnects: 3,
      receiveLabel: 'Backend observation stream for r:w',
    });
    const conn = t.spawn();
    t.live.register!.next({ type: 'connection.registered' });
    t.live.receive!.next({ type: 'connection.opened' });
    t.live.receive!.next({ type: 'connection.closed', code: 4403, reason: 'forbidden' });
    t.live.receive!.error(new ActorlogError('PERMANENT', 'WebSocket closed with code 4403 (forbidden)', { details: { closeCode: 4403 } }));
    t.clock.increment(10 * 60_000);
    const snap = conn.getSnapshot();
    expect(t.inputs.receive).toHaveLength(1);
    expect(snap.matches({ online: { receive: 'stopped' } })).toBe(true);
    expect(snap.status).toBe('active');
    expect(snap.context.diagnostics.at(-1)).toEqual({
      code: 'receive.stopped',
      message: 'Backend observation stream for r:w stopped: WebSocket closed with code 4403 (forbidden) (permanent: not reconnected)',
    });
    conn.send({ type: 'connection.command', command: { method: 'cancel' } }); // commands still go out
    expect(t.inputs.command).toHaveLength(1);
  });

  it("onReceiveLost 'fail' (default) with maxReconnects null never gives up on transient losses", async () => {
    const t = start({ receiveMode: 'batch', heartbeatIntervalMs: 0, maxReconnects: null, maxRetryDelayMs: 200 });
    const conn = t.spawn();
    t.live.register!.next({ type: 'connection.registered' });
    for (let i = 0; i < 50; i++) {
      t.live.receive!.error(httpStatusError('molecule activity', 503));
      t.clock.increment(200);
    }
    expect(conn.getSnapshot().matches({ online: { receive: 'listening' } })).toBe(true);
    expect(t.inputs.receive).toHaveLength(51);
  });
});

describe('connection machine: log', () => {
  it('replays to the live snapshots, and recovery re-runs only the in-flight dispatch with its key', async () => {
    const t = start({ receiveMode: 'batch' });
    t.spawn();
    t.live.register!.next({ type: 'connection.registered' });
    for (const id of ['a1', 'a2', 'a3']) t.live.receive!.next(msg(id));
    t.live.receive!.complete();
    t.live.dispatch!.next({ type: 'message.dispatched', messageId: 'a1', meta: { source: 'child', cursor: 'a1' } });
    expect(t.inputs.dispatch.map((i) => i.idempotencyKey)).toEqual(['conn-1:a1', 'conn-1:a2']);
    t.system.stop('conn-1');
    expect(await verifyReplay(t.store, connectionMachine, 'conn-1')).toMatchObject({ ok: true });
    const dispatched = t.store.readStream('conn-1').filter((r) => r.type === 'message.dispatched');
    expect(dispatched.map((r) => r.meta)).toEqual([expect.objectContaining({ source: 'child', actor: 'dispatch', cursor: 'a1' })]);
  });

  it('after a crash mid-batch, resumes the queue from the log: the in-flight message again (same key), none dispatched twice', async () => {
    const first = start({ receiveMode: 'batch' });
    const conn = first.spawn();
    first.live.register!.next({ type: 'connection.registered' });
    for (const id of ['a1', 'a2', 'a3']) first.live.receive!.next(msg(id));
    first.live.receive!.complete();
    first.live.dispatch!.next({ type: 'message.dispatched', messageId: 'a1', meta: { source: 'child', cursor: 'a1' } });
    expect(conn.getSnapshot().context.cursor).toBe('a1');
    // the process dies with a2 in flight: the system is abandoned, not closed
    const second = start({ receiveMode: 'batch' }, first.log);
    const [recovered] = (await second.system.recover()).recovered as Array<JournaledActor<ConnectionMachine>>;
    expect(recovered.getSnapshot().context.queue.map((m) => m.id)).toEqual(['a2', 'a3']);
    expect(second.inputs.dispatch.map((i) => i.idempotencyKey)).toEqual(['conn-1:a2']);
    second.live.dispatch!.next({ type: 'message.dispatched', messageId: 'a2', meta: { source: 'child', cursor: 'a2' } });
    second.live.dispatch!.next({ type: 'message.dispatched', messageId: 'a3', meta: { source: 'child', cursor: 'a3' } });
    expect(second.inputs.receive.at(-1)!.cursor).toBe('a3');
    // a re-delivery of a dispatched message is dropped
    second.live.receive!.next(msg('a2'));
    expect(recovered.getSnapshot().context.counts.duplicates).toBe(1);
    const ids = second.store
      .readStream('conn-1')
      .filter((r) => r.type === 'message.dispatched')
      .map((r) => (r.data as { messageId: string }).messageId);
    expect(ids).toEqual(['a1', 'a2', 'a3']);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectionMachine, type ConnectionMachine } from '../../machines/connection/machine.ts';
import { encodeBackendCursor, yoiConnectionInput, yoiConnectionMachine, type YoiBindingOptions, type YoiConnectionOptions, type YoiDelivery } from '../../machines/yoi/index.ts';
import { createActorSystem, verifyReplay, type ActorSystem, type JournaledActor } from '../../src/index.ts';
import { openSqliteStore, type SqliteStore } from '../../stores/sqlite/index.ts';
import { startYoiServer, type YoiServerHandle } from '../servers/yoi-server.ts';
import { tempDb } from '../support/tempDb.ts';

let server: YoiServerHandle;
let store: SqliteStore;
const db = tempDb();
const systems: ActorSystem[] = [];

beforeAll(async () => {
  server = await startYoiServer({ token: 'yoi-secret-token' });
  store = openSqliteStore(db.path);
});
afterEach(() => {
  for (const s of systems.splice(0)) s.close();
  for (const key of Object.keys(server.faults)) delete (server.faults as Record<string, unknown>)[key];
});
afterAll(async () => {
  store.close();
  await server.close();
  db.cleanup();
});

type Snapshot = ReturnType<JournaledActor<ConnectionMachine>['getSnapshot']>;
let n = 0;
function observe(opts: Partial<YoiConnectionOptions> = {}, binding: YoiBindingOptions = {}, on: SqliteStore = store) {
  const workerId = opts.workerId ?? `w${++n}`;
  const system = createActorSystem({ store: on, machines: { yoi: yoiConnectionMachine({ headers: { authorization: 'Bearer yoi-secret-token' }, ...binding }) } });
  systems.push(system);
  const input = yoiConnectionInput({ baseUrl: server.url, runtimeId: 'rt', retryDelayMs: 20, ...opts, workerId });
  const actor = system.spawn('yoi', { id: input.connectionId, input });
  return { actor, workerId, system };
}
const until = (actor: JournaledActor<ConnectionMachine>, what: (s: Snapshot) => boolean) => actor.waitFor(what, { timeoutMs: 10_000 });
const received = (id: string, on: SqliteStore = store) => on.readStream(id).filter((r) => r.type === 'connection.message');
const seqsOf = (id: string) => received(id).map((r) => (r.data as { message: { seq?: number } }).message.seq).filter((s) => s !== undefined);
const listening = (s: Snapshot) => s.matches({ online: { receive: 'listening' } }) && s.context.reconnects === 0 && s.context.lastSeq !== undefined;

describe('yoi worker observation (seed 004) on the test backend', () => {
  it('delivers the transcript snapshot first, skips the observation snapshot, then observes events with their cursors', async () => {
    server.setTranscript('rt', 'w-transcript', { items: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }], diagnostics: [{ code: 'transcript.partial', message: 'first page only' }] });
    const { actor } = observe({ workerId: 'w-transcript' });
    await until(actor, listening);
    const c1 = server.emit('rt', 'w-transcript', { type: 'text_delta', text: 'more' });
    const after = await until(actor, (s) => s.context.cursor === c1);
    const kinds = received(actor.id).map((r) => (r.data as { message: { kind: string } }).message.kind);
    expect(kinds).toEqual(['snapshot', 'user_message', 'text_delta', 'text_done', 'snapshot', 'text_delta']);
    expect(after.context.counts).toMatchObject({ received: 6, skipped: 1 });
    expect(after.context.diagnostics.map((d) => d.message)).toContain('Backend transcript diagnostic [transcript.partial]: first page only');
    expect(after.value).toEqual({ online: { heartbeat: 'off', receive: 'listening', dispatch: 'idle', commands: 'idle' } });
    expect(received(actor.id).at(-1)!.meta).toMatchObject({ source: 'ws', actor: 'receive', cursor: c1 });
    expect(JSON.stringify(store.readStream(actor.id))).not.toContain('yoi-secret-token');
  });

  it('reports an unavailable transcript as a diagnostic and then does not skip the observation snapshot', async () => {
    server.faults.transcript = [503];
    const { actor } = observe();
    const s = await until(actor, listening);
    expect(s.context.diagnostics.map((d) => d.message)).toContain(`Backend initial transcript unavailable for rt:${actor.getSnapshot().context.target.workerId}: yoi transcript: HTTP 503`);
    expect(s.context.counts).toMatchObject({ received: 1, skipped: 0 });
  });

  it('resumes a dropped WebSocket from the logged cursor: no gap, no duplicate', async () => {
    const delivered: number[] = [];
    const onEvent = async (d: YoiDelivery) => { if (d.seq !== undefined) delivered.push(d.seq); };
    server.faults.dropAfterFrames = [3];
    const { actor, workerId } = observe({ deliver: 'dispatch' }, { onEvent });
    await until(actor, listening);
    for (let i = 1; i <= 6; i++) server.emit('rt', workerId, { type: 'text_delta', text: `part ${i}` });
    const done = await until(actor, (s) => s.context.lastSeq === 6 && s.context.queue.length === 0 && s.matches({ online: { receive: 'listening' } }));
    const connections = server.stats.connections.filter((c) => c.workerId === workerId);
    expect(connections.map((c) => c.cursor)).toEqual([null, encodeBackendCursor(2)]);
    expect(seqsOf(actor.id)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(store.readStream(actor.id).filter((r) => r.type === 'connection.closed').map((r) => (r.data as { code: number }).code)).toEqual([1006]);
    // the transcript's snapshot and events 1-6 are dispatched; the observation's snapshot (seq 0) is skipped, as the seed does
    expect(done.context.counts).toMatchObject({ duplicates: 0, skipped: 1, dispatched: 7 });
    expect(delivered).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('drops a re-sent frame by its sequence and delivers it once', async () => {
    const delivered: number[] = [];
    const { actor, workerId } = observe({ deliver: 'dispatch' }, { onEvent: async (d) => { if (d.seq !== undefined) delivered.push(d.seq); } });
    await until(actor, listening);
    server.faults.duplicateFrame = 1;
    server.emit('rt', workerId, { type: 'text_delta', text: 'once' });
    server.emit('rt', workerId, { type: 'text_done', text: 'once' });
    const s = await until(actor, (x) => x.context.counts.dispatched === 3);
    expect(s.context.counts.duplicates).toBe(1);
    expect(delivered).toEqual([1, 2]);
    const dup = received(actor.id)[3];
    expect(dup.meta.cursor).toBeUndefined(); // a re-sent frame never moves the logged resume point back
  });

  it('resets an expired cursor and resubscribes without one', async () => {
    const { actor, workerId } = observe();
    await until(actor, listening);
    server.emit('rt', workerId, { type: 'text_delta', text: 'a' });
    await until(actor, (s) => s.context.lastSeq === 1);
    server.dropAll();
    server.emit('rt', workerId, { type: 'text_delta', text: 'b' });
    server.emit('rt', workerId, { type: 'text_delta', text: 'c' });
    server.expire('rt', workerId, 2);
    const s = await until(actor, (x) => x.context.counts.cursorResets === 1 && listening(x) && x.context.lastSeq === 3);
    expect(server.stats.connections.filter((c) => c.workerId === workerId).map((c) => c.cursor)).toEqual([null, encodeBackendCursor(1), null]);
    expect(s.context.diagnostics.map((d) => d.message)).toContain(`Backend observation diagnostic [backend.cursor_unknown_or_expired]: cursor ${encodeBackendCursor(1)} is unknown or expired`);
    expect(store.readStream(actor.id).filter((r) => r.type === 'connection.cursorReset')).toHaveLength(1);
  });

  it('records a malformed frame as connection.invalid, reports frames for another worker and malformed cursors, and goes on', async () => {
    const { actor, workerId } = observe();
    await until(actor, listening);
    server.faults.malformedFrame = 1;
    server.faults.foreignFrame = 1;
    server.emit('rt', workerId, { type: 'text_delta', text: 'after the bad frames' });
    server.faults.malformedCursor = 1;
    server.emit('rt', workerId, { type: 'text_done', text: 'bogus cursor' });
    const last = server.emit('rt', workerId, { type: 'text_delta', text: 'fine again' });
    const s = await until(actor, (x) => x.context.cursor === last);
    const invalid = store.readStream(actor.id).filter((r) => r.type === 'connection.invalid');
    expect(invalid).toHaveLength(1);
    expect(invalid[0].data).toMatchObject({ raw: '{"kind":"event","envelope":', error: expect.stringMatching(/not valid JSON/) });
    expect(invalid[0].meta.source).toBe('ws');
    const messages = s.context.diagnostics.map((d) => d.message);
    expect(messages).toContain(`Backend observation frame target mismatch: got rt:${workerId}-other, expected rt:${workerId}`);
    expect(messages).toContain('Backend observation cursor was malformed: bogus-cursor');
    expect(s.context.counts).toMatchObject({ invalid: 1, received: 5 });
    expect(s.value).toMatchObject({ online: { receive: 'listening' } });
  });

  it('sends input and lifecycle commands with their diagnostics; unsupported ones are reported and never sent', async () => {
    const { actor, workerId } = observe();
    await until(actor, listening);
    const sent = () => server.stats.commands.filter((c) => c.key?.startsWith(`${actor.id}:`));
    actor.send({ type: 'connection.command', command: { method: 'run', input: [{ type: 'text', text: 'hello' }, { type: 'file_ref', path: 'src/lib.rs' }] } });
    await until(actor, (s) => s.context.counts.received >= 5);
    expect(received(actor.id).slice(2).map((r) => (r.data as { message: { body: { type: string; text?: string } } }).message.body))
      .toEqual([{ type: 'user_message', segments: [{ type: 'text', text: 'hello@src/lib.rs' }] }, { type: 'text_delta', text: 'echo: hello@src/lib.rs' }, { type: 'text_done', text: 'echo: hello@src/lib.rs' }]);
    actor.send({ type: 'connection.command', command: { method: 'pause' } });
    actor.send({ type: 'connection.command', command: { method: 'notify', message: 'deploy at noon' } });
    server.faults.lifecycle = [{ state: 'rejected', diagnostics: [{ code: 'worker.idle', message: 'nothing to cancel' }] }];
    actor.send({ type: 'connection.command', command: { method: 'cancel' } });
    server.faults.lifecycle.push(500);
    actor.send({ type: 'connection.command', command: { method: 'shutdown' } });
    server.faults.input = ['malformed'];
    actor.send({ type: 'connection.command', command: { method: 'notify', message: 'again' } });
    const s = await until(actor, (x) => x.context.counts.commands === 6);
    expect(sent().map((c) => [c.op, c.body, c.key])).toEqual([
      ['input', { kind: 'user', content: 'hello@src/lib.rs' }, `${actor.id}:c1`],
      ['input', { kind: 'system', content: 'deploy at noon' }, `${actor.id}:c3`],
      ['cancel', { reason: 'requested from TUI Backend Runtime API client' }, `${actor.id}:c4`],
      ['stop', { reason: 'requested from TUI Backend Runtime API client' }, `${actor.id}:c5`],
      ['input', { kind: 'system', content: 'again' }, `${actor.id}:c6`],
    ]);
    const label = `rt:${workerId}`;
    expect(s.context.diagnostics.map((d) => d.message)).toEqual(expect.arrayContaining([
      'Backend Runtime API does not expose pause/resume for the TUI client yet; command was not sent',
      `Backend runtime cancel was rejected for ${label}`,
      'Backend runtime cancel diagnostic [worker.idle]: nothing to cancel',
      `Backend runtime stop failed for ${label}: yoi stop: HTTP 500`,
      expect.stringMatching(new RegExp(`^Backend runtime input response could not be decoded for ${label}: yoi input: invalid payload`)),
    ]));
  });

  it('stops after maxReconnects failed reconnects in a row, with the reason', async () => {
    server.faults.upgrade = [503, 503, 503, 503];
    const { actor } = observe({ maxReconnects: 3 });
    const s = await until(actor, (x) => x.status === 'done');
    expect(s.value).toBe('failed');
    expect(s.context.reason).toBe('receive stopped after 3 reconnect attempts (WebSocket upgrade: HTTP 503)');
    expect(store.readStream(actor.id).filter((r) => r.type === 'xstate.error.actor.receive')).toHaveLength(4);
    expect(server.faults.upgrade).toEqual([]);
  });

  it('counts a connection that opens as a success: a close right after open resets the reconnect count (seed: attempts = 0 on connect)', async () => {
    server.faults.closeCode = [1011, 1011, 1011, 1011, 1011];
    const { actor } = observe({ maxReconnects: 3 });
    const s = await until(actor, (x) => listening(x) && server.faults.closeCode!.length === 0);
    expect(store.readStream(actor.id).filter((r) => r.type === 'connection.closed').map((r) => (r.data as { code: number }).code)).toEqual([1011, 1011, 1011, 1011, 1011]);
    expect(s.context.lastClose).toEqual({ code: 1011, reason: 'injected close' });
  });

  it('fails with a clear reason when the backend rejects the observation (HTTP 404 on the upgrade: permanent)', async () => {
    server.faults.upgrade = [404];
    const { actor } = observe();
    const s = await until(actor, (x) => x.status === 'done');
    expect(s.value).toBe('failed');
    expect(s.context.reason).toBe('receive failed permanently: WebSocket upgrade: HTTP 404');
    expect(s.context.diagnostics.at(-1)!.message).toMatch(/^Backend observation WebSocket connect failed for rt:w\d+: WebSocket upgrade: HTTP 404$/);
  });

  it('closes a stalled connection (no pong) and reconnects from the cursor', async () => {
    const stalled = await startYoiServer({ autoPong: false });
    try {
      const system = createActorSystem({ store, machines: { yoi: yoiConnectionMachine({ webSocket: { pingIntervalMs: 40, stallTimeoutMs: 120 } }) } });
      systems.push(system);
      const input = yoiConnectionInput({ baseUrl: stalled.url, runtimeId: 'rt', workerId: 'quiet', connectionId: 'yoi-stalled', retryDelayMs: 20 });
      const actor = system.spawn('yoi', { id: input.connectionId, input });
      await until(actor, (s) => s.context.lastClose?.reason === 'stalled');
      expect(store.readStream(actor.id).find((r) => r.type === 'connection.closed')!.data).toMatchObject({ code: 1006, reason: 'stalled' });
      await until(actor, (s) => stalled.stats.connections.length >= 2);
      expect(stalled.stats.connections[1].cursor).toBe(encodeBackendCursor(0));
    } finally {
      await stalled.close();
    }
  });

  it('recovers from the log in a new system after a crash: the observation resumes from the last logged cursor', async () => {
    const t = tempDb();
    const first = openSqliteStore(t.path);
    const { actor, workerId } = observe({}, {}, first);
    await until(actor, listening);
    for (let i = 1; i <= 3; i++) server.emit('rt', workerId, { type: 'text_delta', text: `before ${i}` });
    await until(actor, (s) => s.context.lastSeq === 3);
    first.close(); // the process "dies": the next append fails and the actor stops, its socket closes
    server.emit('rt', workerId, { type: 'text_delta', text: 'while down' });
    const second = openSqliteStore(t.path);
    try {
      const system = createActorSystem({ store: second, machines: { yoi: yoiConnectionMachine({ headers: { authorization: 'Bearer yoi-secret-token' } }) } });
      systems.push(system);
      const [recovered] = system.recover().recovered as Array<JournaledActor<ConnectionMachine>>;
      server.emit('rt', workerId, { type: 'text_delta', text: 'after' });
      await until(recovered, (s) => s.context.lastSeq === 5);
      expect(server.stats.connections.filter((c) => c.workerId === workerId).at(-1)!.cursor).toBe(encodeBackendCursor(3));
      const seqs = received(recovered.id, second).map((r) => (r.data as { message: { seq?: number } }).message.seq).filter((q) => q !== undefined);
      expect(seqs).toEqual([0, 1, 2, 3, 4, 5]);
      expect(recovered.getSnapshot().context.counts).toMatchObject({ received: 7, duplicates: 0 });
      system.stop(recovered.id);
      expect(verifyReplay(second, connectionMachine, recovered.id)).toMatchObject({ ok: true });
    } finally {
      second.close();
      t.cleanup();
    }
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fromPromise } from 'xstate';
import { connectionMachine, type ConnectionMachine } from '../../machines/connection/machine.ts';
import { createMoleculeConnection, moleculeConnectionInput, type MoleculeConnectionOptions, type MoleculeMessage } from '../../machines/molecule/index.ts';
import { createActorSystem, verifyReplay, type ActorSystem, type JournaledActor } from '../../src/index.ts';
import { openSqliteStore, type SqliteStore } from '../../stores/sqlite/index.ts';
import { durableBackend, startMoleculeServer, type MoleculeServerHandle } from '../servers/molecule-server.ts';
import { tempDb } from '../support/tempDb.ts';

let server: MoleculeServerHandle;
let store: SqliteStore;
const db = tempDb();
const systems: ActorSystem[] = [];

beforeAll(async () => {
  server = await startMoleculeServer();
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

let n = 0;
type Opts = Partial<MoleculeConnectionOptions> & { backend?: Parameters<typeof createMoleculeConnection>[0]['backend']; token?: string };
/** A connection to a fresh workspace of the test server, on the shared log. */
function connect(opts: Opts = {}): { actor: JournaledActor<ConnectionMachine>; workspaceId: string } {
  const workspaceId = opts.workspaceId ?? `ws-${++n}`;
  const conn = createMoleculeConnection({
    apiUrl: server.url, token: opts.token ?? server.token, backend: opts.backend ?? durableBackend(server.url),
    pollIntervalMs: 20, heartbeatIntervalMs: 50, retryDelayMs: 10, ...opts, workspaceId,
  });
  const system = createActorSystem({ store, machines: { molecule: conn.machine } });
  systems.push(system);
  return { actor: system.spawn('molecule', { id: conn.id, input: conn.input }), workspaceId };
}
const until = (actor: JournaledActor<ConnectionMachine>, what: (s: ReturnType<JournaledActor<ConnectionMachine>['getSnapshot']>) => boolean) =>
  actor.waitFor(what, { timeoutMs: 10_000 });
/** Resolves once `check` holds (checked every 10 ms, at most 5 s). */
async function eventually(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}
const events = (id: string, type: string) => store.readStream(id).filter((r) => r.type === type);

describe('molecule connect (seed 003) on the test platform', () => {
  it('round trip: registers, beats, polls, dispatches ping to the backend and lands the pong reply at the source (TestRun_RoundTrip_AgentReply)', async () => {
    const { actor, workspaceId } = connect();
    await until(actor, (s) => s.matches('online') && s.context.counts.heartbeats >= 1);
    const rowId = server.addMessage(workspaceId, 'ping', 'ws-caller');
    await until(actor, (s) => s.context.counts.replies === 1);
    expect(server.stats.registrations.find((r) => r.workspaceId === workspaceId)?.body).toEqual({
      id: workspaceId, agent_card: { name: 'actorlog-connect', description: 'molecule connect (CLI bridge)', version: '0.1.0' }, delivery_mode: 'poll',
    });
    const reply = server.stats.replies.find((r) => r.envelope.params?.message?.metadata?.in_reply_to === rowId)!;
    expect(reply.to).toBe('ws-caller');
    expect(reply.envelope.params?.message?.parts).toEqual([{ kind: 'text', text: 'pong: ping' }]);
    expect(reply.envelope.id).toBe(`molecule-${workspaceId}:${rowId}`);
    // the cursor is the log: it moves with the dispatch record
    expect(actor.getSnapshot().context.cursor).toBe(rowId);
    expect(events(actor.id, 'message.dispatched').map((r) => r.meta.cursor)).toEqual([rowId]);
    await eventually(() => server.stats.activityCalls.some((c) => c.workspaceId === workspaceId && c.sinceId === rowId));
    expect(server.stats.activityCalls.find((c) => c.workspaceId === workspaceId)).toMatchObject({ sinceId: null, limit: '100', status: 200 });
    expect(JSON.stringify(store.readStream(actor.id))).not.toContain(server.token); // the bearer token stays in the binding's closure
    actor.send({ type: 'connection.close', reason: 'SIGTERM' });
    expect(actor.getSnapshot().value).toBe('offline');
    expect(verifyReplay(store, connectionMachine, actor.id)).toMatchObject({ ok: true });
  });

  it('dispatches a canvas-origin message (no source) but sends no reply; the cursor still moves (TestRun_CanvasOriginMessageNotReplied)', async () => {
    const seen: MoleculeMessage[] = [];
    const { actor, workspaceId } = connect({ backend: async (m) => { seen.push(m); return `pong: ${m.text}`; } });
    await until(actor, (s) => s.matches('online'));
    const rowId = server.addMessage(workspaceId, 'hello from the canvas', null);
    await until(actor, (s) => s.context.counts.dispatched === 1);
    expect(seen).toEqual([expect.objectContaining({ id: rowId, sourceId: null, text: 'hello from the canvas' })]);
    const ctx = actor.getSnapshot().context;
    expect(ctx).toMatchObject({ cursor: rowId, counts: { replies: 0, notReplied: 1 } });
    expect(ctx.diagnostics.map((d) => d.code)).toContain('reply.no_source');
    expect(server.stats.replies.filter((r) => r.envelope.params?.message?.metadata?.in_reply_to === rowId)).toEqual([]);
  });

  it('on 410 resets the cursor and refetches, dispatching the fresh row once and not the old one again (TestRun_CursorPruned410ResetsAndContinues)', async () => {
    const calls: string[] = [];
    const { actor, workspaceId } = connect({ backend: async (m) => { calls.push(m.text); } });
    await until(actor, (s) => s.matches('online'));
    const first = server.addMessage(workspaceId, 'first');
    await until(actor, (s) => s.context.cursor === first);
    server.faults.activity = [410];
    const fresh = server.addMessage(workspaceId, 'fresh');
    await until(actor, (s) => s.context.counts.dispatched === 2);
    expect(calls).toEqual(['first', 'fresh']);
    const ctx = actor.getSnapshot().context;
    expect(ctx).toMatchObject({ cursor: fresh, counts: { cursorResets: 1, duplicates: 1 } });
    const polls = server.stats.activityCalls.filter((c) => c.workspaceId === workspaceId);
    const gone = polls.findIndex((c) => c.status === 410);
    expect(polls[gone].sinceId).toBe(first);
    expect(polls[gone + 1].sinceId).toBeNull();
    expect(events(actor.id, 'connection.cursorReset')).toHaveLength(1);
  });

  it('a pruned since_id (the platform dropped the row) also answers 410 and recovers', async () => {
    const { actor, workspaceId } = connect({ backend: async () => undefined });
    await until(actor, (s) => s.matches('online'));
    const first = server.addMessage(workspaceId, 'one');
    await until(actor, (s) => s.context.cursor === first);
    server.prune(workspaceId, 1);
    const next = server.addMessage(workspaceId, 'two');
    await until(actor, (s) => s.context.cursor === next);
    expect(actor.getSnapshot().context.counts).toMatchObject({ dispatched: 2, cursorResets: 1 });
  });

  it('fails at once on a permanent register error (401: wrong token), with a clear reason and no retry (TestRun_PermanentRegisterErrorAborts)', async () => {
    const before = server.stats.unauthorized;
    const { actor, workspaceId } = connect({ token: 'wrong-token' });
    const final = await until(actor, (s) => s.status === 'done');
    expect(final.value).toBe('failed');
    expect(final.context.reason).toBe('register failed permanently: molecule register: HTTP 401');
    expect(final.context.lastError).toMatchObject({ code: 'PERMANENT', status: 401 });
    expect(server.stats.unauthorized - before).toBe(1);
    expect(server.stats.heartbeats.filter((h) => h.workspaceId === workspaceId)).toEqual([]);
    expect(JSON.stringify(store.readStream(actor.id))).not.toContain('wrong-token');
  });

  it('retries a transient register error: 503 then 200 registers on the second attempt (TestRun_TransientRegisterErrorRetries)', async () => {
    server.faults.register = [503];
    const { actor, workspaceId } = connect();
    await until(actor, (s) => s.matches('online'));
    expect(server.stats.registrations.filter((r) => r.workspaceId === workspaceId)).toHaveLength(1);
    const errors = events(actor.id, 'xstate.error.actor.register');
    expect(errors.map((r) => (r.data as { error: { status: number } }).error.status)).toEqual([503]);
  });

  it('validates options before any I/O: no backend, no workspace id, a bad URL (TestRun_OptionsValidation)', () => {
    const requests = () => server.stats.registrations.length + server.stats.heartbeats.length + server.stats.activityCalls.length + server.stats.unauthorized;
    const before = requests();
    const streams = store.listStreams().length;
    expect(() => createMoleculeConnection({ apiUrl: server.url, token: server.token, workspaceId: 'ws-x', backend: undefined as never }))
      .toThrowError(expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringContaining('backend') }));
    expect(() => createMoleculeConnection({ apiUrl: server.url, token: server.token, workspaceId: ' ', backend: async () => undefined }))
      .toThrowError(expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringContaining('workspaceId') }));
    expect(() => createMoleculeConnection({ apiUrl: 'ftp://x', token: server.token, workspaceId: 'ws-x', backend: async () => undefined }))
      .toThrowError(expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringContaining('apiUrl') }));
    expect(() => moleculeConnectionInput({} as never)).toThrowError(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(requests()).toBe(before);
    expect(store.listStreams()).toHaveLength(streams);
  });

  it('keeps beating while a slow dispatch runs (heartbeat and receive are independent)', async () => {
    server.faults.dispatchDelayMs = 600;
    const { actor, workspaceId } = connect();
    await until(actor, (s) => s.matches('online'));
    server.addMessage(workspaceId, 'slow one');
    await until(actor, (s) => s.matches({ online: { dispatch: 'dispatching' } }));
    const started = Date.now();
    await until(actor, (s) => s.context.counts.dispatched === 1);
    const during = server.stats.heartbeats.filter((h) => h.workspaceId === workspaceId && h.at >= started && h.at <= Date.now());
    expect(during.length).toBeGreaterThanOrEqual(3);
  });

  it('a permanent heartbeat error stops the heartbeat only: messages are still dispatched and replied', async () => {
    server.faults.heartbeat = [401];
    const { actor, workspaceId } = connect();
    await until(actor, (s) => s.matches({ online: { heartbeat: 'stopped' } }));
    server.addMessage(workspaceId, 'still there?', 'ws-caller');
    const after = await until(actor, (s) => s.context.counts.replies === 1);
    expect(after.matches({ online: { heartbeat: 'stopped' } })).toBe(true);
    expect(after.context.heartbeatStopped).toMatchObject({ code: 'PERMANENT', status: 401 });
    expect(after.context.diagnostics.map((d) => d.message)).toContain('heartbeat stopped: molecule heartbeat: HTTP 401');
  });

  it('records a malformed activity answer and a bad row as connection.invalid and carries on (invariant 6)', async () => {
    const calls: string[] = [];
    const { actor, workspaceId } = connect({ backend: async (m) => { calls.push(m.id); } });
    await until(actor, (s) => s.matches('online'));
    server.faults.activity = ['malformed', 'badRow'];
    const good = server.addMessage(workspaceId, 'good');
    await until(actor, (s) => s.context.cursor === good);
    const invalid = events(actor.id, 'connection.invalid');
    expect(invalid).toHaveLength(2);
    expect((invalid[0].data as { raw: string }).raw).toBe('<html>502 Bad Gateway</html>');
    expect(invalid[1].data).toMatchObject({ messageId: expect.stringMatching(/^bad-/) });
    expect(calls).toEqual([good]);
    expect(actor.getSnapshot().context.counts).toMatchObject({ invalid: 2, skipped: 1, dispatched: 1 });
  });

  it('backs off transient poll failures (503) and records each retry', async () => {
    const { actor, workspaceId } = connect({ backend: async () => undefined });
    await until(actor, (s) => s.matches('online'));
    server.faults.activity = [503, 503];
    const row = server.addMessage(workspaceId, 'after the outage');
    await until(actor, (s) => s.context.cursor === row);
    const retries = events(actor.id, 'connection.retry');
    expect(retries.map((r) => (r.data as { attempt: number }).attempt)).toEqual([1, 2]);
    expect(retries.every((r) => r.meta.source === 'poll')).toBe(true);
  });

  it('takes an XState actor as the backend', async () => {
    const backend = fromPromise(async ({ input }: { input: { message: MoleculeMessage; idempotencyKey: string } }) => ({ text: `actor got ${input.message.text}` }));
    const { actor, workspaceId } = connect({ backend });
    await until(actor, (s) => s.matches('online'));
    const row = server.addMessage(workspaceId, 'hi', 'ws-caller');
    await until(actor, (s) => s.context.counts.replies === 1);
    const reply = server.stats.replies.find((r) => r.envelope.params?.message?.metadata?.in_reply_to === row)!;
    expect(reply.envelope.params?.message?.parts).toEqual([{ kind: 'text', text: 'actor got hi' }]);
  });
});

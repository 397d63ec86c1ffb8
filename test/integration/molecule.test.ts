import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fromPromise } from 'xstate';
import { connectionMachine, type ConnectionMachine } from '../../machines/connection/machine.ts';
import { createMoleculeConnection, moleculeConnectionInput, type MoleculeConnectionOptions, type MoleculeMessage } from '../../machines/molecule/index.ts';
import { createActorSystem, verifyReplay, type ActorSystem, type JournaledActor } from '../../src/index.ts';
import type { SqliteStore } from '../../stores/sqlite/index.ts';
import { durableBackend, startMoleculeServer, type MoleculeServerHandle } from '../servers/molecule-server.ts';
import { suiteLog } from '../support/kit/index.ts';

let server: MoleculeServerHandle;
let store: SqliteStore;
const db = suiteLog();
const systems: ActorSystem[] = [];

beforeAll(async () => {
  server = await startMoleculeServer();
  store = db.open();
});
afterEach(async () => {
  for (const s of systems.splice(0)) await s.close();
  for (const key of Object.keys(server.faults)) delete (server.faults as Record<string, unknown>)[key];
});
afterAll(async () => {
  await server.close();
});

let n = 0;
type Opts = Partial<MoleculeConnectionOptions> & { backend?: Parameters<typeof createMoleculeConnection>[0]['backend']; token?: string };
/** A connection to a fresh workspace of the test server, on the shared log. */
function connect(opts: Opts = {}): { actor: JournaledActor<ConnectionMachine>; workspaceId: string } {
  const workspaceId = opts.workspaceId ?? `ws-${++n}`;
  const conn = createMoleculeConnection({
    apiUrl: server.url,
    token: opts.token ?? server.token,
    backend: opts.backend ?? durableBackend(server.url),
    pollIntervalMs: 20,
    heartbeatIntervalMs: 50,
    retryDelayMs: 10,
    ...opts,
    workspaceId,
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
      id: workspaceId,
      agent_card: { name: 'actorlog-connect', description: 'molecule connect (CLI bridge)', version: '0.1.0' },
      delivery_mode: 'poll',
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
    expect(await verifyReplay(store, connectionMachine, actor.id)).toMatchObject({ ok: true });
  });

  it('dispatches a canvas-origin message (no source) but sends no reply; the cursor still moves (TestRun_CanvasOriginMessageNotReplied)', async () => {
    const seen: MoleculeMessage[] = [];
    const { actor, workspaceId } = connect({
      backend: async (m) => {
        seen.push(m);
        return `pong: ${m.text}`;
      },
    });
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
    const { actor, workspaceId } = connect({
      backend: async (m) => {
        calls.push(m.text);
      },
    });
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
    expect(final.context.reason).toBe('register failed permanently: molecule register: HTTP 401: {"error":"unauthorized"}');
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
    expect(() => createMoleculeConnection({ apiUrl: server.url, token: server.token, workspaceId: 'ws-x', backend: undefined as never })).toThrowError(
      expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringContaining('backend') }),
    );
    expect(() => createMoleculeConnection({ apiUrl: server.url, token: server.token, workspaceId: ' ', backend: async () => undefined })).toThrowError(
      expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringContaining('workspaceId') }),
    );
    expect(() => createMoleculeConnection({ apiUrl: 'ftp://x', token: server.token, workspaceId: 'ws-x', backend: async () => undefined })).toThrowError(
      expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringContaining('apiUrl') }),
    );
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
    expect(after.context.diagnostics.map((d) => d.message)).toContain('heartbeat stopped: molecule heartbeat: HTTP 401: {"error":"injected 401"}');
  });

  it('records a malformed activity answer and a bad row as connection.invalid and carries on (invariant 6)', async () => {
    const calls: string[] = [];
    const { actor, workspaceId } = connect({
      backend: async (m) => {
        calls.push(m.id);
      },
    });
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
    const backend = fromPromise(async ({ input }: { input: { message: MoleculeMessage; idempotencyKey: string } }) => ({
      text: `actor got ${input.message.text}`,
    }));
    const { actor, workspaceId } = connect({ backend });
    await until(actor, (s) => s.matches('online'));
    const row = server.addMessage(workspaceId, 'hi', 'ws-caller');
    await until(actor, (s) => s.context.counts.replies === 1);
    const reply = server.stats.replies.find((r) => r.envelope.params?.message?.metadata?.in_reply_to === row)!;
    expect(reply.envelope.params?.message?.parts).toEqual([{ kind: 'text', text: 'actor got hi' }]);
  });

  it('never drops a message whose dispatch fails: it stays at the cursor and is retried with capped backoff until it succeeds', async () => {
    let failures = 0;
    const calls: string[] = [];
    const backend = async (m: MoleculeMessage) => {
      calls.push(m.text);
      if (m.text === 'flaky' && failures < 6) {
        failures += 1;
        throw new Error(`backend down ${failures}`);
      }
      return `pong: ${m.text}`;
    };
    const { actor, workspaceId } = connect({ backend, maxRetryDelayMs: 40 });
    await until(actor, (s) => s.matches('online'));
    const flaky = server.addMessage(workspaceId, 'flaky', 'ws-caller');
    const next = server.addMessage(workspaceId, 'next', 'ws-caller');
    const s = await until(actor, (x) => x.context.cursor === next);
    expect(calls).toEqual([...Array(7).fill('flaky'), 'next']);
    expect(s.context.counts).toMatchObject({ dispatched: 2, dispatchFailures: 6, parked: 0, skipped: 0 });
    expect(events(actor.id, 'message.dispatched').map((r) => r.meta.cursor)).toEqual([flaky, next]);
    expect(events(actor.id, 'message.parked')).toEqual([]);
  });

  it('parks a poison message only when asked to (parkAfterAttempts), recording message.parked', async () => {
    const { actor, workspaceId } = connect({
      backend: async (m) => {
        if (m.text === 'poison') throw new Error('cannot handle');
        return undefined;
      },
      parkAfterAttempts: 3,
    });
    await until(actor, (s) => s.matches('online'));
    const poison = server.addMessage(workspaceId, 'poison');
    const fine = server.addMessage(workspaceId, 'fine');
    const s = await until(actor, (x) => x.context.cursor === fine);
    expect(events(actor.id, 'message.parked').map((r) => r.data)).toEqual([
      { messageId: poison, attempts: 3, error: expect.objectContaining({ message: 'cannot handle' }) },
    ]);
    expect(s.context.counts).toMatchObject({ parked: 1, dispatched: 1 });
    expect(await verifyReplay(store, connectionMachine, actor.id)).toMatchObject({ ok: true });
  });

  it('decodes rows as Go\'s decoder does: missing or null status, created_at, workspace_id, activity_type become "" and the row is dispatched', async () => {
    const seen: MoleculeMessage[] = [];
    const { actor, workspaceId } = connect({
      backend: async (m) => {
        seen.push(m);
      },
    });
    await until(actor, (s) => s.matches('online'));
    const body = {
      jsonrpc: '2.0',
      id: 'rpc-x',
      method: 'message/send',
      params: { message: { role: 'user', messageId: 'm-sparse', parts: [{ kind: 'text', text: 'sparse' }] } },
    };
    const sparse = server.addRawRow(workspaceId, { source_id: null, request_body: body });
    const nulls = server.addRawRow(workspaceId, {
      workspace_id: null,
      activity_type: null,
      status: null,
      created_at: null,
      source_id: 'ws-x',
      method: null,
      summary: null,
      request_body: { ...body, params: { message: { ...body.params.message, messageId: 'm-nulls' } } },
    });
    const s = await until(actor, (x) => x.context.cursor === nulls);
    expect(seen.map((m) => [m.id, m.text, m.createdAt, m.sourceId])).toEqual([
      [sparse, 'sparse', '', null],
      [nulls, 'sparse', '', 'ws-x'],
    ]);
    expect(s.context.counts).toMatchObject({ dispatched: 2, invalid: 0 });
    const row = (events(actor.id, 'connection.message').at(-1)!.data as { message: { body: Record<string, unknown> } }).message.body;
    expect(row).toMatchObject({ workspace_id: '', activity_type: '', status: '', created_at: '', target_id: null });
  });

  it('takes a null or empty 200 activity body as zero rows, as seed 003 does, never as invalid', async () => {
    const { actor, workspaceId } = connect({ backend: async () => undefined });
    await until(actor, (s) => s.matches('online'));
    server.faults.activity = ['null', 'empty', 'null'];
    await eventually(() => server.faults.activity!.length === 0);
    const row = server.addMessage(workspaceId, 'after the empty answers');
    const s = await until(actor, (x) => x.context.cursor === row);
    expect(events(actor.id, 'connection.invalid')).toEqual([]);
    expect(s.context.counts.invalid).toBe(0);
  });

  it('retries network errors and 5xx for ever (backoff capped at maxRetryDelayMs, 60 s by default): a 100-poll outage does not end the connection', async () => {
    expect(moleculeConnectionInput({ workspaceId: 'x' })).toMatchObject({ target: { maxPollFailures: null, maxRetryDelayMs: 60_000 } });
    const { actor, workspaceId } = connect({ backend: async () => undefined, retryDelayMs: 1, maxRetryDelayMs: 8 });
    await until(actor, (s) => s.matches('online'));
    server.faults.activity = Array(100).fill(503);
    const row = server.addMessage(workspaceId, 'after the outage');
    const s = await until(actor, (x) => x.context.cursor === row);
    expect(s.matches('online')).toBe(true);
    const retries = events(actor.id, 'connection.retry');
    expect(retries.length).toBeGreaterThanOrEqual(100);
    expect(Math.max(...retries.map((r) => (r.data as { delayMs: number }).delayMs))).toBeLessThanOrEqual(8);
  }, 30_000);

  it('quotes the server\'s body in error messages, cut to 200 bytes plus "..." (seed 003 truncate)', async () => {
    const { actor } = connect({ backend: async () => undefined });
    await until(actor, (s) => s.matches('online'));
    server.faults.activity = [{ status: 400, body: `${'x'.repeat(250)}` }];
    const s = await until(actor, (x) => x.status === 'done');
    expect(s.context.reason).toBe(`receive failed permanently: molecule activity: HTTP 400: ${'x'.repeat(200)}...`);
    const short = connect({ token: 'wrong-token' });
    const f = await until(short.actor, (x) => x.status === 'done');
    expect(f.context.reason).toBe('register failed permanently: molecule register: HTTP 401: {"error":"unauthorized"}');
  });

  it('drops a message stored again under a new row by its MessageID + IdempotencyKey, and the cursor passes it', async () => {
    const calls: string[] = [];
    const { actor, workspaceId } = connect({
      backend: async (m) => {
        calls.push(m.id);
      },
    });
    await until(actor, (s) => s.matches('online'));
    const first = server.addMessage(workspaceId, 'once', 'ws-caller', { idempotencyKey: 'k-1' });
    await until(actor, (s) => s.context.cursor === first);
    const again = server.redeliver(workspaceId, first);
    const other = server.addMessage(workspaceId, 'another', 'ws-caller', { idempotencyKey: 'k-2' });
    const s = await until(actor, (x) => x.context.cursor === other);
    expect(calls).toEqual([first, other]);
    expect(s.context.counts).toMatchObject({ dispatched: 2, duplicates: 1 });
    expect(s.context.diagnostics.map((d) => d.message)).toContain(
      `message ${again} dropped as a duplicate (its key ["ws-caller","m-${first}","k-1"] was already received); 1 dropped so far`,
    );
  });
});

describe('molecule under stress: replies never given up, ids scoped to their sender, slow and big answers', () => {
  const repliesTo = (rowId: string) => server.stats.replies.filter((r) => r.envelope.params?.message?.metadata?.in_reply_to === rowId);

  it('two senders that reuse messageId "1" (and one idempotency key) send two messages: both dispatched, each replied to its sender (item 4)', async () => {
    const seen: MoleculeMessage[] = [];
    const { actor, workspaceId } = connect({
      backend: async (m) => {
        seen.push(m);
        return `pong to ${m.sourceId}`;
      },
    });
    await until(actor, (s) => s.matches('online'));
    const fromA = server.addMessage(workspaceId, 'hello from a', 'ws-a', { messageId: '1', idempotencyKey: 'k' });
    const fromB = server.addMessage(workspaceId, 'hello from b', 'ws-b', { messageId: '1', idempotencyKey: 'k' });
    const s = await until(actor, (x) => x.context.counts.replies === 2);
    expect(seen.map((m) => [m.id, m.sourceId])).toEqual([
      [fromA, 'ws-a'],
      [fromB, 'ws-b'],
    ]);
    expect(s.context.counts).toMatchObject({ dispatched: 2, duplicates: 0 });
    expect([...repliesTo(fromA), ...repliesTo(fromB)].map((r) => [r.to, r.envelope.params?.message?.parts?.[0]?.text])).toEqual([
      ['ws-a', 'pong to ws-a'],
      ['ws-b', 'pong to ws-b'],
    ]);
    // the same sender re-sending its messageId "1" is still one message
    const again = server.addMessage(workspaceId, 'hello from a', 'ws-a', { messageId: '1', idempotencyKey: 'k' });
    const later = server.addMessage(workspaceId, 'next', 'ws-a', { messageId: '2' });
    const t = await until(actor, (x) => x.context.cursor === later && x.context.pendingReply === undefined);
    expect(t.context.counts).toMatchObject({ dispatched: 3, duplicates: 1 });
    expect(seen.map((m) => m.id)).not.toContain(again);
  });

  it('retries a failing reply past the old bound of 5 attempts (12 x 503) until it lands, once; the backend runs once (items 1 and 10)', async () => {
    const { actor, workspaceId } = connect({ retryDelayMs: 5, maxRetryDelayMs: 20 });
    await until(actor, (s) => s.matches('online'));
    server.faults.reply = Array(12).fill(503);
    const row = server.addMessage(workspaceId, 'answer me', 'ws-caller');
    const s = await until(actor, (x) => x.context.counts.replies === 1);
    expect(server.stats.replyAttempts.filter((a) => a.id === `molecule-${workspaceId}:${row}`).map((a) => a.status)).toEqual([...Array(12).fill(503), 200]);
    expect(repliesTo(row)).toHaveLength(1);
    expect(server.stats.executions.filter((e) => e.messageId === row)).toHaveLength(1);
    expect(server.stats.dispatchCalls.filter((c) => c.messageId === row)).toHaveLength(1);
    expect(s.context.counts.replyFailures).toBe(0);
    expect(events(actor.id, 'xstate.error.actor.reply')).toHaveLength(12);
  });

  it('a reply answered 4xx is a recorded permanent failure, not retried; the next message goes on (item 1)', async () => {
    const { actor, workspaceId } = connect();
    await until(actor, (s) => s.matches('online'));
    server.faults.reply = [404];
    const lost = server.addMessage(workspaceId, 'to a removed workspace', 'ws-gone');
    const next = server.addMessage(workspaceId, 'next', 'ws-caller');
    const s = await until(actor, (x) => x.context.counts.replies === 1);
    expect(server.stats.replyAttempts.filter((a) => a.to === 'ws-gone').map((a) => a.status)).toEqual([404]);
    expect(s.context.counts).toMatchObject({ dispatched: 2, replyFailures: 1 });
    expect(s.context.diagnostics.map((d) => d.message)).toContain(
      `reply to ws-gone for message ${lost} failed permanently: molecule reply: HTTP 404: {"error":"injected 404"}`,
    );
    expect(repliesTo(next)).toHaveLength(1);
    expect(events(actor.id, 'xstate.error.actor.reply').map((r) => (r.data as { error: { status: number } }).error.status)).toEqual([404]);
  });

  it('a reply answered slower than the client timeout is sent again with the same envelope id, which the platform can recognise (item 12)', async () => {
    const { actor, workspaceId } = connect({ backend: durableBackend(server.url), retryDelayMs: 5, timeoutMs: 100 } as Opts);
    await until(actor, (s) => s.matches('online'));
    server.faults.slow = { reply: [1_500] }; // undici checks its timeouts about every 0.5 s
    const row = server.addMessage(workspaceId, 'slow platform', 'ws-caller');
    const s = await until(actor, (x) => x.context.counts.replies === 1);
    const attempts = server.stats.replyAttempts.filter((a) => a.id === `molecule-${workspaceId}:${row}`);
    expect(attempts).toHaveLength(2);
    expect(repliesTo(row)).toHaveLength(1);
    expect(server.stats.duplicateReplies).toBeGreaterThanOrEqual(1);
    expect(events(actor.id, 'xstate.error.actor.reply').map((r) => (r.data as { error: { code: string } }).error.code)).toEqual(['TRANSIENT']);
    expect(s.context.counts.replyFailures).toBe(0);
  });

  it('an activity answer over 1 MiB is recorded as connection.invalid saying so, and the poll goes on (item 12)', async () => {
    const { actor, workspaceId } = connect({ backend: async () => undefined });
    await until(actor, (s) => s.matches('online'));
    server.faults.bigBody = 1;
    const row = server.addMessage(workspaceId, 'after the big answer');
    await until(actor, (s) => s.context.cursor === row);
    const invalid = events(actor.id, 'connection.invalid');
    expect(invalid).toHaveLength(1);
    expect((invalid[0].data as { error: string }).error).toMatch(/^answer over maxBodyBytes \(1048576 bytes\)/);
    expect(Buffer.byteLength((invalid[0].data as { raw: string }).raw)).toBeLessThanOrEqual(4096);
  });

  it('an activity answer that drips past the overall deadline is cut (a dripping body does not extend it), retried, and the poll goes on (item 15)', async () => {
    const { actor, workspaceId } = connect({ backend: async () => undefined, timeoutMs: 300 } as Opts);
    await until(actor, (s) => s.matches('online'));
    const row = server.addMessage(workspaceId, 'behind a slow answer');
    server.faults.drip = [40]; // ~300 bytes at 40 ms a byte: 12 s, though a byte comes every 40 ms
    await until(actor, (s) => s.context.cursor === row);
    const retries = events(actor.id, 'connection.retry').map((r) => (r.data as { error: { code: string; message: string } }).error);
    expect(retries).toEqual([{ name: 'ActorlogError', code: 'TRANSIENT', message: 'molecule activity: timed out after 300 ms' }]);
  });

  it("waits out a 503's Retry-After on a reply: it is logged with the error, so the journaled retry timer honours it (item 14)", async () => {
    const { actor, workspaceId } = connect({ retryDelayMs: 5 });
    await until(actor, (s) => s.matches('online'));
    server.faults.retryAfter = '1';
    server.faults.reply = [503];
    const row = server.addMessage(workspaceId, 'wait for it', 'ws-caller');
    await until(actor, (s) => s.context.counts.replies === 1);
    expect(events(actor.id, 'xstate.error.actor.reply').map((r) => (r.data as { error: { status: number; retryAfterMs?: number } }).error)).toEqual([
      expect.objectContaining({ status: 503, retryAfterMs: 1_000 }),
    ]);
    expect(repliesTo(row)).toHaveLength(1);
  });

  it("refuses push mode before any I/O with the seed's M4 error (item 11)", () => {
    const before = server.stats.registrations.length + server.stats.unauthorized;
    expect(() =>
      createMoleculeConnection({ apiUrl: server.url, token: server.token, workspaceId: 'ws-push', mode: 'push', backend: async () => undefined }),
    ).toThrowError(expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringContaining('(M4)') }));
    expect(moleculeConnectionInput({ workspaceId: 'ws-poll', mode: 'poll' })).toMatchObject({ receiveMode: 'batch' });
    expect(server.stats.registrations.length + server.stats.unauthorized).toBe(before);
  });

  it('scrubs the error excerpt before cutting it: a URL password whose "@" falls past byte 200 never reaches connection.invalid (item 18)', async () => {
    const { actor } = connect({ backend: async () => undefined });
    await until(actor, (s) => s.matches('online'));
    const body = `<html>${'x'.repeat(160)} https://deploy:hunter2-secret-password@internal.example/</html>`; // the '@' at byte 205, past the cut
    server.faults.activity = [{ status: 200, body }];
    await eventually(() => events(actor.id, 'connection.invalid').length === 1);
    const [invalid] = events(actor.id, 'connection.invalid');
    expect(JSON.stringify(invalid.data)).not.toContain('hunter2');
    expect((invalid.data as { error: string }).error).toContain('https://deploy:[redacted]');
  });
});

import { readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualTimeScheduler } from 'rxjs';
import type { AnyMachineSnapshot } from 'xstate';
import {
  createOpencodeClient,
  opencodeMessageId,
  opencodeSessionId,
  opencodeSessionMachine,
  type OpencodeBindingOptions,
} from '../../machines/opencode/index.ts';
import { sessionMachine, type SessionMachine } from '../../machines/session/index.ts';
import { createActorSystem, replaySteps, verifyReplay, type ActorSystem, type EventRecord, type JournaledActor } from '../../src/index.ts';
import type { SqliteStore } from '../../stores/sqlite/index.ts';
import { startOpencodeServer, type OpencodeServer } from '../servers/opencode-server.ts';
import { startSseFaultProxy, type SseFaultProxy } from '../servers/sse-fault-proxy.ts';
import { suiteLog } from '../support/kit/index.ts';

const PASSWORD = 'oc-pass-7f3a9c1e';
const WORDS = [' alpha', ' beta', ' gamma', ' delta'];
let oc: OpencodeServer;
let proxy: SseFaultProxy;
let store: SqliteStore;
const db = suiteLog();
const systems: ActorSystem[] = [];

function system(extra: Partial<OpencodeBindingOptions> = {}, url = proxy.url): ActorSystem {
  const s = createActorSystem({
    store,
    machines: { session: opencodeSessionMachine({ url, password: PASSWORD, retry: { baseMs: 50, maxAttempts: 4 }, ...extra }) },
  });
  systems.push(s);
  return s;
}

beforeAll(async () => {
  oc = await startOpencodeServer({ password: PASSWORD, stub: { words: WORDS, chunkDelayMs: 10 } });
  proxy = await startSseFaultProxy(oc.url);
  store = db.open();
}, 60_000);
afterAll(async () => {
  for (const s of systems) await s.close();
  await proxy?.close();
  await oc?.close();
});

let n = 0;
function spawn(on: ActorSystem, input: Record<string, unknown> = {}): { s: JournaledActor<SessionMachine>; live: AnyMachineSnapshot[] } {
  const id = `oc-${++n}`;
  const s = on.spawn('session', { id, input: { sessionKey: `${id}-${process.pid}`, retryDelayMs: 20, ...input } });
  const live: AnyMachineSnapshot[] = [];
  s.subscribe((snap) => live.push(snap));
  return { s, live };
}
const turnState = (snap: AnyMachineSnapshot) => (snap.value as { open?: { turn?: unknown } }).open?.turn;
/** Idle, and for the global stream (v1: it has no cursor, so events sent before it connects are missed) connected. */
const idle = (s: JournaledActor<SessionMachine>, connected = false) =>
  s.waitFor((x) => turnState(x) === 'idle' && (!connected || x.context.channels.events === 'connected'), { timeoutMs: 20_000 });
const sse = (records: EventRecord[]) => records.filter((r) => r.meta.source === 'sse' && r.meta.cursor !== undefined);
const seqs = (records: EventRecord[]) => sse(records).map((r) => Number(r.meta.cursor));

async function promptAndWait(s: JournaledActor<SessionMachine>, text: string, turns: number) {
  s.send({ type: 'session.prompt', prompt: { kind: 'text', text } });
  await s.waitFor((x) => turnState(x) !== 'idle', { timeoutMs: 5_000 });
  return s.waitFor((x) => x.context.turns === turns && turnState(x) !== undefined && !JSON.stringify(x.value).includes('busy'), { timeoutMs: 30_000 });
}

describe('OpenCode session on the real opencode server (v2 durable stream)', () => {
  it('prompt -> busy -> idle, every streamed event logged with its durable seq, replay equal to live', async () => {
    const { s, live } = spawn(system());
    await idle(s);
    const done = await promptAndWait(s, 'say the four words', 1);
    expect(turnState(done)).toBe('idle');
    expect(done.context).toMatchObject({ lastEnd: 'completed', output: WORDS.join('') });
    expect(live.some((x) => JSON.stringify(x.value).includes('busy'))).toBe(true);
    expect(done.context.parts.find((p) => p.type === 'text')?.text).toBe(WORDS.join(''));
    const records = store.readStream(s.id);
    const cursors = seqs(records);
    expect(cursors).toEqual(cursors.map((_, i) => i + 1)); // seq 1..N, no gap, none twice
    expect(records.map((r) => r.type)).toEqual(expect.arrayContaining(['session.opened', 'session.status', 'session.part', 'session.ended']));
    s.send({ type: 'session.close' });
    await s.waitFor((x) => x.status === 'done', { timeoutMs: 5_000 });
    const steps = await replaySteps(store, sessionMachine, s.id);
    expect(steps.map((x) => JSON.parse(JSON.stringify([x.snapshot.value, x.snapshot.context])))).toEqual(
      live.map((x) => JSON.parse(JSON.stringify([x.value, x.context]))),
    );
    expect(await verifyReplay(store, sessionMachine, s.id)).toMatchObject({ ok: true });
  });

  it('aborts a busy turn (interrupt) and takes the next prompt', async () => {
    const { s } = spawn(system());
    await idle(s);
    oc.stub.options.chunkDelayMs = 300;
    oc.stub.options.words = Array.from({ length: 40 }, (_, i) => ` w${i}`);
    try {
      s.send({ type: 'session.prompt', prompt: { kind: 'text', text: 'talk slowly' } });
      await s.waitFor((x) => x.context.sawBusy && x.context.parts.some((p) => p.type === 'text'), { timeoutMs: 20_000 });
      s.send({ type: 'session.abort' });
      const aborted = await s.waitFor((x) => turnState(x) === 'aborted', { timeoutMs: 15_000 });
      expect(aborted.context).toMatchObject({ lastEnd: 'aborted', turns: 1 });
      expect(store.readStream(s.id).map((r) => r.type)).toContain('xstate.done.actor.abort');
    } finally {
      oc.stub.options.chunkDelayMs = 10;
      oc.stub.options.words = WORDS;
    }
    const next = await promptAndWait(s, 'again', 2);
    expect(next.context).toMatchObject({ lastEnd: 'completed', output: WORDS.join('') });
    expect((await verifyReplay(store, sessionMachine, s.id)).ok).toBe(true);
  });

  it('resumes a dropped stream from the logged seq (?after=SEQ): no gap, no event twice', async () => {
    const { s } = spawn(system());
    await idle(s);
    proxy.faults.drop = { path: /\/api\/session\/[^/]+\/event/, afterEvents: 3 };
    const done = await promptAndWait(s, 'through a drop', 1);
    expect(proxy.fired).toContain(`drop /api/session/${done.context.remoteId}/event`);
    expect(done.context).toMatchObject({ lastEnd: 'completed', output: WORDS.join('') });
    expect(done.context.reconnects).toBeGreaterThanOrEqual(1);
    const records = store.readStream(s.id);
    expect(records.some((r) => r.type === 'session.stream' && (r.data as { state: string }).state === 'reconnecting')).toBe(true);
    const cursors = seqs(records);
    expect(cursors.length).toBeGreaterThan(3);
    expect(cursors).toEqual(cursors.map((_, i) => i + 1));
    // the reconnection asked the server for what followed the last seq logged before the drop
    const drop = records.findIndex((r) => r.type === 'session.stream' && (r.data as { state: string }).state === 'reconnecting');
    const lastBeforeDrop = records
      .slice(0, drop)
      .filter((r) => r.meta.cursor !== undefined)
      .at(-1)!.meta.cursor;
    expect(proxy.requests.map((r) => r.path)).toContain(`/api/session/${done.context.remoteId}/event?after=${lastBeforeDrop}`);
    expect((await verifyReplay(store, sessionMachine, s.id)).ok).toBe(true);
  });

  it('records a malformed SSE payload as session.invalid and finishes the turn', async () => {
    const { s } = spawn(system());
    await idle(s);
    proxy.faults.malformed = { path: /\/api\/session\/[^/]+\/event/, afterEvents: 2 };
    const done = await promptAndWait(s, 'with a bad frame', 1);
    expect(done.context).toMatchObject({ invalid: 1, lastEnd: 'completed', output: WORDS.join('') });
    const bad = store.readStream(s.id).filter((r) => r.type === 'session.invalid');
    expect(bad).toHaveLength(1);
    expect(bad[0].meta.source).toBe('sse');
    expect(bad[0].meta.cursor).toBeUndefined(); // a bad frame does not move the cursor
    expect((bad[0].data as { raw: string }).raw).toContain('"sessionID":');
    expect((await verifyReplay(store, sessionMachine, s.id)).ok).toBe(true);
  });
});

describe('OpenCode session on the real opencode server (v1: seed 001 API, global /event)', () => {
  it('prompt_async: busy -> idle with the streamed deltas logged, and the answer merged', async () => {
    const { s } = spawn(system({ api: 'v1' }), { title: 'v1 async' });
    await idle(s, true);
    const done = await promptAndWait(s, 'say the words', 1);
    expect(done.context).toMatchObject({ lastEnd: 'completed', output: WORDS.join(''), title: 'v1 async' });
    const records = store.readStream(s.id);
    expect(records.filter((r) => r.type === 'session.part' && (r.data as { kind: string }).kind === 'message.part.delta').length).toBeGreaterThanOrEqual(
      WORDS.length,
    );
    expect(records.filter((r) => r.type === 'session.synced')).toHaveLength(1);
    expect((await verifyReplay(store, sessionMachine, s.id)).ok).toBe(true);
  });

  it('a sync prompt (POST /session/:id/message) and a shell command answer in their request', async () => {
    const { s } = spawn(system({ api: 'v1', promptMode: 'sync' }));
    await idle(s, true);
    const done = await promptAndWait(s, 'sync please', 1);
    expect(done.context).toMatchObject({ lastEnd: 'completed', output: WORDS.join('') });
    s.send({ type: 'session.prompt', prompt: { kind: 'shell', command: 'echo shell-$((40+2))' } });
    const shell = await s.waitFor((x) => x.context.turns === 2, { timeoutMs: 20_000 });
    expect(shell.context.output).toContain('shell-42');
    expect((await verifyReplay(store, sessionMachine, s.id)).ok).toBe(true);
  });

  it('re-reads the session over HTTP after the global stream drops (it has no cursor) and ends the turn', async () => {
    proxy.faults.drop = { path: /^\/event/, afterEvents: 8 }; // armed before the session's stream connects
    const { s } = spawn(system({ api: 'v1' }));
    await idle(s, true);
    const done = await promptAndWait(s, 'through a drop', 1);
    expect(proxy.fired).toContain('drop /event');
    expect(done.context).toMatchObject({ lastEnd: 'completed', output: WORDS.join('') });
    const records = store.readStream(s.id);
    expect(records.filter((r) => r.type === 'session.synced').length).toBe(2); // at connect, and after the reconnection
    expect((await verifyReplay(store, sessionMachine, s.id)).ok).toBe(true);
  });

  it("a prompt carries the seed's model, agent, system and tools (SendMessageRequest), async and sync", async () => {
    const { s } = spawn(system({ api: 'v1' }));
    await idle(s, true);
    s.send({
      type: 'session.prompt',
      prompt: { kind: 'text', text: 'with options', model: 'fake/fast', agent: 'plan', system: 'Answer tersely.', tools: ['bash'] },
    });
    await s.waitFor((x) => x.context.turns === 1 && x.context.lastEnd !== undefined && !JSON.stringify(x.value).includes('busy'), { timeoutMs: 30_000 });
    const client = createOpencodeClient({ url: oc.url, password: PASSWORD });
    const remoteId = s.getSnapshot().context.remoteId!;
    const infos = async () => (await client.messages(remoteId)).map((m) => m.info as Record<string, unknown>);
    await expect.poll(async () => (await infos()).length, { timeout: 10_000 }).toBe(2);
    const [user, answer] = await infos();
    expect(user).toMatchObject({
      role: 'user',
      model: { providerID: 'fake', modelID: 'fast' },
      agent: 'plan',
      system: 'Answer tersely.',
      tools: { bash: true },
    });
    expect(answer).toMatchObject({ role: 'assistant', providerID: 'fake', modelID: 'fast', agent: 'plan' });
    expect(s.getSnapshot().context.lastEnd).toBe('completed');

    const sync = spawn(system({ api: 'v1', promptMode: 'sync' })).s;
    await idle(sync, true);
    sync.send({
      type: 'session.prompt',
      prompt: { kind: 'text', text: 'sync with options', model: { providerID: 'fake', modelID: 'fast' }, system: 'Be brief.', tools: { bash: false } },
    });
    const done = await sync.waitFor((x) => x.context.turns === 1, { timeoutMs: 30_000 });
    expect(done.context).toMatchObject({ lastEnd: 'completed', output: WORDS.join('') });
    expect((await client.messages(done.context.remoteId!))[0].info).toMatchObject({
      model: { providerID: 'fake', modelID: 'fast' },
      system: 'Be brief.',
      tools: { bash: false },
    });
  });

  it('creates a child session with parentID (seed CreateSessionRequest.ParentID)', async () => {
    const client = createOpencodeClient({ url: oc.url, password: PASSWORD });
    const parent = await client.createSession({ title: 'parent' });
    const { s } = spawn(system({ api: 'v1' }), { parentId: parent.id, title: 'child' });
    const opened = await idle(s);
    expect(await client.getSession(opened.context.remoteId!)).toMatchObject({ title: 'child', parentID: parent.id });
  });

  it('aborts a busy turn (POST /session/:id/abort): MessageAbortedError -> aborted', async () => {
    const { s } = spawn(system({ api: 'v1' }));
    await idle(s, true);
    oc.stub.options.chunkDelayMs = 300;
    oc.stub.options.words = Array.from({ length: 40 }, (_, i) => ` w${i}`);
    try {
      s.send({ type: 'session.prompt', prompt: { kind: 'text', text: 'talk slowly' } });
      await s.waitFor((x) => x.context.sawBusy && x.context.parts.some((p) => p.type === 'text' && (p.text ?? '').length > 0), { timeoutMs: 20_000 });
      s.send({ type: 'session.abort' });
      const aborted = await s.waitFor((x) => turnState(x) === 'aborted', { timeoutMs: 15_000 });
      expect(aborted.context.lastEnd).toBe('aborted');
      expect(store.readStream(s.id).some((r) => r.type === 'session.ended' && (r.data as { reason: string }).reason === 'aborted')).toBe(true);
    } finally {
      oc.stub.options.chunkDelayMs = 10;
      oc.stub.options.words = WORDS;
    }
  });
});

describe('OpenCode v2: what the durable API cannot carry fails PERMANENT, never dropped silently', () => {
  it('a prompt with model, agent, system or tools, and a session with parentID', async () => {
    const { s } = spawn(system());
    await idle(s);
    s.send({ type: 'session.prompt', prompt: { kind: 'text', text: 'x', model: 'fake/fast', tools: ['bash'] } });
    const failed = await s.waitFor((x) => x.context.turns === 1, { timeoutMs: 10_000 });
    expect(failed.context).toMatchObject({ lastEnd: 'failed', lastError: { code: 'PERMANENT', message: expect.stringContaining('take no model, tools') } });
    const child = spawn(system(), { parentId: 'ses_parent' }).s;
    const ended = await child.waitFor((x) => x.status === 'done', { timeoutMs: 10_000 });
    expect(ended.value).toBe('failed');
    expect(ended.context.lastError).toMatchObject({ code: 'PERMANENT', message: expect.stringContaining('parentID') });
  });
});

describe('OpenCode client (the calls of seed 001)', () => {
  it("bounds every request by the seed's 30 s timeout, the synchronous /message and /shell included (virtual time)", async () => {
    const client = createOpencodeClient({ url: oc.url, password: PASSWORD });
    oc.stub.options.chunkDelayMs = 300;
    oc.stub.options.words = Array.from({ length: 40 }, (_, i) => ` w${i}`);
    const session = await client.createSession({ title: 'timeouts' });
    try {
      const settled = (p: Promise<unknown>) => {
        let state = 'pending';
        p.then(
          () => (state = 'resolved'),
          () => (state = 'rejected'),
        );
        return () => state;
      };
      for (const [label, start] of [
        ['message', (c: typeof client) => c.sendMessage(session.id, { parts: [{ type: 'text', text: 'talk slowly' }] })],
        ['shell', (c: typeof client) => c.shell(session.id, { command: 'sleep 20', agent: 'build' })],
      ] as const) {
        const scheduler = new VirtualTimeScheduler(); // virtual time starts at 0 for each request
        const pending = start(createOpencodeClient({ url: oc.url, password: PASSWORD, scheduler }));
        const state = settled(pending);
        await expect.poll(async () => (await client.sessionStatus())[session.id]?.type, { timeout: 15_000 }).toBe('busy');
        scheduler.maxFrames = 29_999;
        scheduler.flush();
        await new Promise((r) => setTimeout(r, 50));
        expect(state(), label).toBe('pending');
        scheduler.maxFrames = 30_000;
        scheduler.flush();
        const err = await pending.catch((e: unknown) => e);
        expect(err, label).toMatchObject({ code: 'TRANSIENT', details: { timeoutMs: 30_000 } });
        expect((err as Error).message).toMatch(new RegExp(`^OpenCode POST /session/${session.id}/${label}: timed out after 30000 ms`));
        await client.abort(session.id);
        await expect.poll(async () => (await client.sessionStatus())[session.id]?.type ?? 'idle', { timeout: 15_000 }).toBe('idle');
      }
    } finally {
      oc.stub.options.chunkDelayMs = 10;
      oc.stub.options.words = WORDS;
    }
  });

  it('health, create and get a session, status, with basic auth as user "opencode"; a trailing / in the URL is trimmed', async () => {
    const client = createOpencodeClient({ url: `${oc.url}/`, password: PASSWORD });
    expect(await client.health()).toMatchObject({ healthy: true, version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    const created = await client.createSession({ title: 'seed 001' });
    expect(created.id).toMatch(/^ses/);
    expect(await client.getSession(created.id)).toMatchObject({ id: created.id, title: 'seed 001' });
    expect(await client.sessionStatus()).not.toHaveProperty(created.id); // idle sessions are absent
  });

  it('a prompt re-sent with its idempotency key (as after a crash mid-send) is admitted and answered once (invariant 5)', async () => {
    const client = createOpencodeClient({ url: oc.url, password: PASSWORD });
    const v2 = await client.createSessionV2(opencodeSessionId(`idem-${process.pid}`));
    expect((await client.createSessionV2(opencodeSessionId(`idem-${process.pid}`))).id).toBe(v2.id); // creation is idempotent too
    const key = opencodeMessageId(v2.id, 'idem:p1');
    const first = await client.promptV2(v2.id, { id: key, text: 'once' });
    const again = await client.promptV2(v2.id, { id: key, text: 'once' });
    expect(again.admittedSeq).toBe(first.admittedSeq);
    const v1 = await client.createSession({ title: 'idempotent v1' });
    const v1Key = opencodeMessageId(v1.id, 'idem:p1');
    const roles = async () => (await client.messages(v1.id)).map((m) => m.info.role);
    await client.promptAsync(v1.id, { messageID: v1Key, parts: [{ type: 'text', text: 'once' }] });
    await expect.poll(roles, { timeout: 20_000 }).toEqual(['user', 'assistant']);
    await expect.poll(async () => (await client.sessionStatus())[v1.id]?.type ?? 'idle', { timeout: 20_000 }).toBe('idle');
    await client.promptAsync(v1.id, { messageID: v1Key, parts: [{ type: 'text', text: 'once' }] });
    await new Promise((r) => setTimeout(r, 1_500)); // time enough for a second answer, were one coming
    expect(await roles()).toEqual(['user', 'assistant']);
  });

  it('an HTTP error keeps its context (method, path, status, body) and is classified once', async () => {
    const err = await createOpencodeClient({ url: oc.url, password: PASSWORD })
      .getSession('ses_unknown')
      .catch((e) => e);
    expect(err).toMatchObject({ code: 'PERMANENT', details: { status: 404 } });
    expect(err.message).toMatch(/^OpenCode GET \/session\/ses_unknown: HTTP 404: .+/);
    const noAuth = await createOpencodeClient({ url: oc.url, password: '' })
      .health()
      .catch((e) => e);
    expect(noAuth).toMatchObject({ code: 'PERMANENT', details: { status: 401 } });
  });
});

describe('OpenCode session failures', () => {
  it('a wrong password fails at once with PERMANENT 401, and no password reaches the log', async () => {
    const { s } = spawn(system({ password: 'wrong-pass-1b2c' }));
    const failed = await s.waitFor((x) => x.status === 'done', { timeoutMs: 10_000 });
    expect(failed.value).toBe('failed');
    expect(failed.context).toMatchObject({ connectAttempts: 1, lastError: { code: 'PERMANENT', status: 401 } });
    const bytes = ['', '-wal'].map((x) => (existsSync(db.path + x) ? readFileSync(db.path + x).toString('latin1') : '')).join('');
    expect(bytes).toContain(s.id);
    expect(bytes).not.toContain(PASSWORD);
    expect(bytes).not.toContain('wrong-pass-1b2c');
    expect(bytes).not.toContain(Buffer.from(`opencode:${PASSWORD}`).toString('base64'));
  });

  it('a server that went away (connection refused) ends failed with TRANSIENT after bounded retries', async () => {
    const gone = createServer();
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(gone.address() as AddressInfo).port}`;
    await new Promise((r) => gone.close(r));
    const { s } = spawn(system({}, url), { maxConnectAttempts: 3, retryDelayMs: 10 });
    const failed = await s.waitFor((x) => x.status === 'done', { timeoutMs: 10_000 });
    expect(failed.value).toBe('failed');
    expect(failed.context).toMatchObject({ connectAttempts: 3, lastError: { code: 'TRANSIENT' } });
    expect(store.readStream(s.id).filter((r) => r.type === 'xstate.error.actor.open')).toHaveLength(3);
  });
});

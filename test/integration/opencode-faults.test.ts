import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpencodeClient, opencodeMessageId, opencodeSessionMachine, type OpencodeBindingOptions } from '../../machines/opencode/index.ts';
import { sessionMachine, type SessionMachine } from '../../machines/session/index.ts';
import { createActorSystem, verifyReplay, type ActorSystem, type JournaledActor } from '../../src/index.ts';
import type { SqliteStore } from '../../stores/sqlite/index.ts';
import { startOpencodeServer, type OpencodeServer } from '../servers/opencode-server.ts';
import { startSseFaultProxy, type SseFaultProxy } from '../servers/sse-fault-proxy.ts';
import { suiteLog } from '../support/kit/index.ts';

let oc: OpencodeServer;
let proxy: SseFaultProxy;
let store: SqliteStore;
const db = suiteLog();
const systems: ActorSystem[] = [];
const servers: Server[] = [];

function system(extra: Partial<OpencodeBindingOptions> = {}, url = proxy.url): ActorSystem {
  const s = createActorSystem({
    store,
    machines: { session: opencodeSessionMachine({ url, api: 'v1', retry: { baseMs: 50, maxAttempts: 4 }, shellPollIntervalMs: 100, ...extra }) },
    onError: () => {},
  });
  systems.push(s);
  return s;
}

beforeAll(async () => {
  oc = await startOpencodeServer({ stub: { words: [' ok'], chunkDelayMs: 5 } });
  proxy = await startSseFaultProxy(oc.url);
  store = db.open();
}, 60_000);
afterAll(async () => {
  for (const s of systems) await s.close();
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await proxy?.close();
  await oc?.close();
});

let n = 0;
function spawn(on: ActorSystem, input: Record<string, unknown> = {}): JournaledActor<SessionMachine> {
  const id = `ocf-${++n}`;
  return on.spawn('session', { id, input: { sessionKey: `${id}-${process.pid}`, retryDelayMs: 20, ...input } });
}
const connected = (s: JournaledActor<SessionMachine>) =>
  s.waitFor((x) => x.context.channels.events === 'connected' && x.context.remoteId !== undefined, { timeoutMs: 20_000 });
/** How many times the real server ran the command sent with `messageID`: its answers (assistant messages whose parentID it is). */
async function runsOf(remoteId: string, messageID: string): Promise<number> {
  const messages = await createOpencodeClient({ url: oc.url }).messages(remoteId);
  return messages.filter((m) => m.info.role === 'assistant' && m.info.parentID === messageID).length;
}

describe('OpenCode /shell is never re-sent blindly (real opencode binary)', () => {
  it('a command that outlasts the request timeout is looked up by its messageID and followed to its end: it runs once', async () => {
    const s = spawn(system({ timeoutMs: 1_500 }), { maxPromptAttempts: 1 }); // no machine retry: the binding itself follows the command
    await connected(s);
    s.send({ type: 'session.prompt', prompt: { kind: 'shell', command: 'sleep 4; echo shell-$((40+2))' } });
    const done = await s.waitFor((x) => x.context.turns === 1, { timeoutMs: 30_000 });
    expect(done.context).toMatchObject({ lastEnd: 'completed' });
    expect(done.context.output).toContain('shell-42');
    const messageID = opencodeMessageId(done.context.remoteId!, done.context.promptId!);
    expect(await runsOf(done.context.remoteId!, messageID)).toBe(1);
    const records = store.readStream(s.id);
    expect(records.filter((r) => r.type === 'session.event' && (r.data as { kind: string }).kind === 'opencode.shell-sent')).toHaveLength(1);
    expect((await verifyReplay(store, sessionMachine, s.id)).ok).toBe(true);
  });

  it('after a crash mid-command, the recovered session finds the logged shell-sent cursor and follows the command instead of re-sending it', async () => {
    const first = system({ timeoutMs: 30_000 });
    const s = spawn(first);
    await connected(s);
    s.send({ type: 'session.prompt', prompt: { kind: 'shell', command: 'sleep 2; echo survived-$((6*7))' } });
    await s.waitFor((x) => x.context.promptCursor === '', { timeoutMs: 10_000 }); // shell-sent is logged
    const remoteId = s.getSnapshot().context.remoteId!;
    const promptId = s.getSnapshot().context.promptId!;
    const messageID = opencodeMessageId(remoteId, promptId);
    const reader = createOpencodeClient({ url: oc.url });
    while (!(await reader.messages(remoteId)).some((m) => m.info.id === messageID)) await new Promise((r) => setTimeout(r, 20)); // the server has it
    await first.close(); // the process goes away mid-command (no more events are logged)
    const second = system({ timeoutMs: 30_000 });
    await second.recover();
    const again = second.get<SessionMachine>(s.id)!;
    const done = await again.waitFor((x) => x.context.turns === 1, { timeoutMs: 30_000 });
    expect(done.context.output).toContain('survived-42');
    expect(await runsOf(remoteId, opencodeMessageId(remoteId, promptId))).toBe(1);
  });

  it('a timed-out command absent from the session is OUTCOME_UNKNOWN, unless marked idempotent (then re-sent once)', async () => {
    // A server that holds the first /shell for ever and never stores it; later ones answer.
    let shells = 0;
    const fake = createServer((req: IncomingMessage, res: ServerResponse) => {
      const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const path = (req.url ?? '').split('?')[0];
      req.resume();
      if (path === '/global/health') return json({ healthy: true, version: 'fake' });
      if (path === '/session' && req.method === 'POST') return json({ id: 'ses_fake', title: 'fake' });
      if (path === '/session/status') return json({});
      if (path === '/event') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.flushHeaders();
        return;
      }
      if (path === '/session/ses_fake/message') return json([]);
      if (path === '/session/ses_fake/shell') {
        if (++shells <= 2) return; // the first two are held: the answer never comes, the command is never stored
        return json({
          info: { id: 'msg_answer', role: 'assistant', time: { created: 1, completed: 2 } },
          parts: [{ id: 'p', type: 'tool', tool: 'bash', state: { status: 'completed', output: 'ran\n' } }],
        });
      }
      res.writeHead(404).end();
    });
    servers.push(fake);
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    const sys = system({ timeoutMs: 300, stallTimeoutMs: 0 }, url);

    const unknown = spawn(sys, { maxPromptAttempts: 3 });
    await connected(unknown);
    unknown.send({ type: 'session.prompt', prompt: { kind: 'shell', command: 'rm -rf build' } });
    const failed = await unknown.waitFor((x) => x.context.turns === 1, { timeoutMs: 20_000 });
    expect(failed.context.lastEnd).toBe('failed');
    expect(failed.context.lastError).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    expect(shells).toBe(1);

    const idempotent = spawn(sys, { maxPromptAttempts: 3 });
    await connected(idempotent);
    idempotent.send({ type: 'session.prompt', prompt: { kind: 'shell', command: 'make test', idempotent: true } });
    const ran = await idempotent.waitFor((x) => x.context.turns === 1, { timeoutMs: 20_000 });
    expect(ran.context).toMatchObject({ lastEnd: 'completed', output: 'ran\n' });
    expect(shells).toBe(3);
  });
});

describe('OpenCode v1 under faults (real opencode binary)', () => {
  it('a 503 on the re-read after a reconnection (GET /session/status) is retried, not fatal', async () => {
    proxy.faults.drop = { path: /^\/event/, afterEvents: 3 };
    const s = spawn(system());
    await connected(s);
    proxy.faults.fail = { path: /^\/session\/status/, method: 'GET', status: 503, times: 1, retryAfter: '0' };
    s.send({ type: 'session.prompt', prompt: { kind: 'text', text: 'through a drop and a 503' } });
    const done = await s.waitFor((x) => x.context.turns === 1, { timeoutMs: 30_000 });
    expect(proxy.fired).toEqual(expect.arrayContaining(['drop /event', 'fail 503 /session/status']));
    expect(done.status).toBe('active');
    expect(done.context.lastEnd).toBe('completed');
    expect(store.readStream(s.id).filter((r) => r.type === 'session.synced').length).toBeGreaterThanOrEqual(2);
  });

  it("an SSE event over the parser's 4 MiB buffer is recorded as session.invalid (raw, bounded) before the stream fails", async () => {
    proxy.faults.oversized = { path: /^\/event/, afterEvents: 1, bytes: 5 * 1024 * 1024 }; // after server.connected
    const s = spawn(system({ retry: { baseMs: 20, maxAttempts: 1 } }));
    await s.waitFor((x) => x.context.invalid > 0, { timeoutMs: 30_000 });
    const invalid = store.readStream(s.id).filter((r) => r.type === 'session.invalid');
    expect(invalid).toHaveLength(1);
    const { raw, error } = invalid[0].data as { raw: string; error: string };
    expect(raw.startsWith('data: {"type":"oversized","pad":"xxx')).toBe(true);
    expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(4096);
    expect(error).toMatch(/maxEventChars/);
  });

  it('an event the server sends twice (its durable seq reused) is logged and applied once (v2 durable stream)', async () => {
    const s = spawn(system({ api: 'v2' }));
    await s.waitFor((x) => (x.value as { open?: { turn?: unknown } }).open?.turn === 'idle', { timeoutMs: 20_000 });
    const firedBefore = proxy.fired.length;
    proxy.faults.repeat = { path: /^\/api\/session\/[^/]+\/event/, afterEvents: 2 };
    s.send({ type: 'session.prompt', prompt: { kind: 'text', text: 'say ok' } });
    const done = await s.waitFor((x) => x.context.turns === 1 && x.context.lastEnd !== undefined, { timeoutMs: 30_000 });
    expect(done.context.lastEnd).toBe('completed');
    expect(proxy.fired.slice(firedBefore).filter((f) => f.startsWith('repeat'))).toHaveLength(1);
    const cursors = store
      .readStream(s.id)
      .filter((r) => r.meta.source === 'sse' && r.meta.cursor !== undefined)
      .map((r) => Number(r.meta.cursor));
    expect(cursors.length).toBeGreaterThanOrEqual(2);
    expect(cursors).toEqual([...new Set(cursors)].sort((a, b) => a - b)); // each seq once, in order: the second copy was dropped
    expect(done.context.output).toBe(' ok');
  });

  it('a session history over 1 MiB is an ordinary answer: the re-read after a reconnection takes it whole (64 MiB bound); a 1 MiB bound refuses it', async () => {
    const words = oc.stub.options.words;
    const long = ['a'.repeat(700 * 1024), 'b'.repeat(700 * 1024)];
    oc.stub.options.words = long;
    try {
      const first = system();
      const s = spawn(first);
      await connected(s);
      s.send({ type: 'session.prompt', prompt: { kind: 'text', text: 'a long answer' } });
      const done = await s.waitFor((x) => x.context.turns === 1, { timeoutMs: 30_000 });
      expect(done.context.lastEnd).toBe('completed');
      const synced = () => store.readStream(s.id).filter((r) => r.type === 'session.synced');
      const before = synced().length;
      // a new process recovers the session: its first connection re-reads the idle session's last answer
      await first.close();
      const second = system();
      await second.recover();
      await second.get(s.id)!.waitFor((x) => x.context.channels.events === 'connected' && synced().length > before, { timeoutMs: 30_000 });
      expect((synced().at(-1)!.data as { output?: string }).output).toBe(long.join(''));
      expect(store.readStream(s.id).filter((r) => r.type === 'session.invalid')).toHaveLength(0);
      const remoteId = done.context.remoteId!;
      expect(
        await createOpencodeClient({ url: oc.url, maxBodyBytes: 1024 * 1024 })
          .messages(remoteId)
          .catch((e: unknown) => e),
      ).toMatchObject({
        code: 'INVALID_PAYLOAD',
        message: expect.stringContaining('larger than maxBytes 1048576'),
      });
    } finally {
      oc.stub.options.words = words;
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpClient, mcpSessionMachine, type McpBindingOptions } from '../../machines/mcp/index.ts';
import type { SessionMachine } from '../../machines/session/index.ts';
import { createActorSystem, type ActorSystem, type JournaledActor } from '../../src/index.ts';
import type { SqliteStore } from '../../stores/sqlite/index.ts';
import { startMcpServer, type McpTestServer } from '../servers/mcp-server.ts';
import { suiteLog, until, virtualTime } from '../support/kit/index.ts';

let mcp: McpTestServer;
let store: SqliteStore;
const db = suiteLog();
const systems: ActorSystem[] = [];

function system(extra: Partial<McpBindingOptions> = {}): ActorSystem {
  const s = createActorSystem({
    store,
    machines: { session: mcpSessionMachine({ url: mcp.url, retry: { baseMs: 20, maxAttempts: 3 }, ...extra }) },
    onError: () => {},
  });
  systems.push(s);
  return s;
}

beforeAll(async () => {
  mcp = await startMcpServer({ stepMs: 10 });
  store = db.open();
});
afterAll(async () => {
  for (const s of systems) await s.close();
  await mcp?.close();
});

let n = 0;
const spawn = (on: ActorSystem, input: Record<string, unknown> = {}): JournaledActor<SessionMachine> => {
  const id = `mcpf-${++n}`;
  return on.spawn('session', { id, input: { sessionKey: id, retryDelayMs: 20, ...input } });
};
/** Lets real I/O run until `cond` holds. */
describe('MCP under faults: malformed, trickled and refused answers, big results', () => {
  it('a malformed initialize answer is recorded raw (bounded) as session.invalid, and the session fails INVALID_PAYLOAD', async () => {
    mcp.faults.malformedInitialize = 1;
    const s = spawn(system());
    const end = await s.waitFor((x) => x.status !== 'active', { timeoutMs: 10_000 });
    expect(end.value).toBe('failed');
    expect(end.context.lastError).toMatchObject({ code: 'INVALID_PAYLOAD' });
    const invalid = store.readStream(s.id).filter((r) => r.type === 'session.invalid');
    expect(invalid).toHaveLength(1);
    expect((invalid[0].data as { raw: string }).raw).toBe('{"jsonrpc":"2.0","id":"initialize","result":{"protocolVer');
    expect(invalid[0].meta.source).toBe('sse');
  });

  it('an initialize answer that trickles for ever ends at the deadline (timeoutMs), TRANSIENT cause timeout', async () => {
    mcp.faults.dripInitialize = 1;
    const vt = virtualTime();
    const client = createMcpClient({ url: mcp.url, timeoutMs: 20_000, stallTimeoutMs: 45_000, scheduler: vt.scheduler });
    let settled = false;
    const init = client
      .initialize()
      .catch((e: unknown) => e)
      .finally(() => {
        settled = true;
      });
    await until(() => mcp.faults.dripInitialize === 0, 'the dripped initialize to start');
    await new Promise((r) => setTimeout(r, 100)); // bytes drip in
    vt.advance(19_999);
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toBe(false);
    vt.advance(1);
    expect(await init).toMatchObject({ code: 'TRANSIENT', details: { cause: 'timeout', timeoutMs: 20_000 } });
  });

  it('an initialize whose answer is lost (the server made the session) is sent again: the session opens; the first server session is left idle, nothing ran in it', async () => {
    const before = mcp.stats();
    mcp.faults.loseInitializeAnswers = 1;
    const s = spawn(system());
    const open = await s.waitFor((x) => x.context.remoteId !== undefined, { timeoutMs: 10_000 });
    expect(mcp.faults.loseInitializeAnswers).toBe(0);
    expect(mcp.stats().sessions - before.sessions).toBe(2); // the lost one and the one we use
    const failed = store.readStream(s.id).filter((r) => r.type === 'xstate.error.actor.open');
    expect(failed).toHaveLength(1);
    expect(failed[0].data).toMatchObject({ error: { code: 'TRANSIENT' } });
    expect(open.context.remoteId).toBeDefined();
    s.send({ type: 'session.prompt', prompt: { kind: 'tool', name: 'echo', arguments: { text: 'once' } } });
    const done = await s.waitFor((x) => x.context.turns === 1, { timeoutMs: 10_000 });
    expect(done.context.output).toBe('once');
  });

  it('a 503 with Retry-After on initialize is TRANSIENT with details.retryAfterMs, and the session retries and opens', async () => {
    mcp.faults.fail = { status: 503, times: 1, retryAfter: '7' };
    const err = await createMcpClient({ url: mcp.url })
      .initialize()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TRANSIENT', details: { status: 503, retryAfterMs: 7000 } });
    mcp.faults.fail = { status: 503, times: 1, retryAfter: '0' };
    const s = spawn(system());
    const open = await s.waitFor((x) => x.context.remoteId !== undefined, { timeoutMs: 10_000 });
    expect(open.context.connectAttempts).toBe(2);
  });

  it('a tool result over 1 MiB (3 MiB of text in one SSE event) arrives whole', async () => {
    const s = spawn(system());
    await s.waitFor((x) => x.context.remoteId !== undefined, { timeoutMs: 10_000 });
    s.send({ type: 'session.prompt', prompt: { kind: 'tool', name: 'big', arguments: { bytes: 3 * 1024 * 1024 } } });
    const done = await s.waitFor((x) => x.context.turns === 1, { timeoutMs: 20_000 });
    expect(done.context.lastEnd).toBe('completed');
    expect(done.context.output).toHaveLength(3 * 1024 * 1024);
  });

  it('a server that reuses SSE event ids: each event with a reused id and new content is delivered (logged mcp.event-id-reused), none taken for a replay', async () => {
    const s = spawn(system());
    await s.waitFor((x) => x.context.remoteId !== undefined, { timeoutMs: 10_000 });
    // the call's priming event, progress 1..3 and the answer all carry the id of the event stored before them (initialize's)
    mcp.faults.reuseEventIds = 5;
    s.send({ type: 'session.prompt', prompt: { kind: 'tool', name: 'count', arguments: { n: 3 } } });
    const done = await s.waitFor((x) => x.context.turns === 1, { timeoutMs: 10_000 });
    expect(mcp.faults.reuseEventIds).toBe(0);
    expect(done.context.lastEnd).toBe('completed');
    expect(done.context.output).toBe('Counted to 3');
    const records = store.readStream(s.id);
    const progress = records.filter((r) => r.type === 'session.part').map((r) => (r.data as { part: { progress: number } }).part.progress);
    expect(progress).toEqual([1, 2, 3]);
    const reused = records.filter((r) => r.type === 'session.event' && (r.data as { kind: string }).kind === 'mcp.event-id-reused');
    expect(reused).toHaveLength(4);
    const ids = new Set(reused.map((r) => (r.data as { data: { id: string } }).data.id));
    expect(ids.size).toBe(1);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyMachineSnapshot } from 'xstate';
import { createMcpClient, mcpSessionMachine, type McpBindingOptions } from '../../machines/mcp/index.ts';
import { sessionMachine, type SessionMachine } from '../../machines/session/index.ts';
import { createActorSystem, replaySteps, verifyReplay, type ActorSystem, type EventRecord, type JournaledActor } from '../../src/index.ts';
import type { SqliteStore } from '../../stores/sqlite/index.ts';
import { startMcpServer, type McpTestServer } from '../servers/mcp-server.ts';
import { startSseFaultProxy, type SseFaultProxy } from '../servers/sse-fault-proxy.ts';
import { suiteLog } from '../support/kit/index.ts';

let mcp: McpTestServer;
let proxy: SseFaultProxy;
let store: SqliteStore;
const db = suiteLog();
const systems: ActorSystem[] = [];

function system(extra: Partial<McpBindingOptions> = {}, url = `${proxy.url}/mcp`): ActorSystem {
  const s = createActorSystem({ store, machines: { session: mcpSessionMachine({ url, retry: { baseMs: 20, maxAttempts: 3 }, ...extra }) } });
  systems.push(s);
  return s;
}

beforeAll(async () => {
  mcp = await startMcpServer({ stepMs: 20 });
  proxy = await startSseFaultProxy(mcp.url.replace(/\/mcp$/, ''));
  store = db.open();
});
afterAll(async () => {
  for (const s of systems) await s.close();
  await proxy?.close();
  await mcp?.close();
});

let n = 0;
function spawn(on: ActorSystem, input: Record<string, unknown> = {}) {
  const id = `mcp-${++n}`;
  const s = on.spawn('session', { id, input: { sessionKey: id, retryDelayMs: 20, ...input } });
  const live: AnyMachineSnapshot[] = [];
  s.subscribe((snap) => live.push(snap));
  return { s, live };
}
const turn = (x: AnyMachineSnapshot) => (x.value as { open?: { turn?: unknown } }).open?.turn;
const ready = (s: JournaledActor<SessionMachine>) => s.waitFor((x) => turn(x) === 'idle', { timeoutMs: 10_000 });
const call = (s: JournaledActor<SessionMachine>, args: Record<string, unknown>) =>
  s.send({ type: 'session.prompt', prompt: { kind: 'tool', name: 'count', arguments: args } });
const progress = (records: EventRecord[]) =>
  records.filter((r) => r.type === 'session.part').map((r) => (r.data as { part: { progress: number } }).part.progress);

describe('MCP session on a real @modelcontextprotocol/sdk server (Streamable HTTP)', () => {
  it('initialize, tools/call with progress streamed over SSE -> busy -> idle, DELETE to close; replay equals live', async () => {
    const { s, live } = spawn(system());
    const opened = await ready(s);
    expect(opened.context.remoteId).toMatch(/^[0-9a-f-]{36}$/); // the mcp-session-id header
    call(s, { n: 4 });
    await s.waitFor((x) => JSON.stringify(x.value).includes('busy'), { timeoutMs: 5_000 });
    const done = await s.waitFor((x) => x.context.turns === 1, { timeoutMs: 10_000 });
    expect(turn(done)).toBe('idle');
    expect(done.context).toMatchObject({ lastEnd: 'completed', output: 'Counted to 4', result: { content: [{ type: 'text', text: 'Counted to 4' }] } });
    expect(done.context.parts).toEqual([{ id: `${s.id}:p1`, type: 'progress', progress: 4, total: 4, text: 'step 4 of 4' }]);
    const records = store.readStream(s.id);
    expect(progress(records)).toEqual([1, 2, 3, 4]);
    const streamed = records.filter((r) => (r.data as { channel?: string }).channel === 'prompt' && r.meta.cursor);
    expect(streamed.map((r) => r.type)).toEqual(['session.event', 'session.part', 'session.part', 'session.part', 'session.part', 'session.ended']);
    expect(new Set(streamed.map((r) => r.meta.cursor)).size).toBe(streamed.length); // each SSE event id logged once
    s.send({ type: 'session.close' });
    await s.waitFor((x) => x.status === 'done', { timeoutMs: 5_000 });
    expect(s.getSnapshot().value).toBe('closed');
    expect(mcp.stats()).toMatchObject({ deleted: 1, toolRuns: { [`${s.id}:p1`]: 1 } });
    // the server forgot the session: 404 with JSON-RPC -32001
    const again = await createMcpClient({ url: mcp.url })
      .notify(done.context.remoteId!, 'notifications/initialized', {})
      .catch((e) => e);
    expect(again).toMatchObject({ code: 'PERMANENT', details: { status: 404 } });
    expect((again.details as { body: string }).body).toContain('-32001');
    const steps = await replaySteps(store, sessionMachine, s.id);
    expect(steps.map((x) => JSON.parse(JSON.stringify([x.snapshot.value, x.snapshot.context])))).toEqual(
      live.map((x) => JSON.parse(JSON.stringify([x.value, x.context]))),
    );
    expect(await verifyReplay(store, sessionMachine, s.id)).toMatchObject({ ok: true });
  });

  it('aborts a running tool call with notifications/cancelled and takes the next call', async () => {
    const { s } = spawn(system());
    await ready(s);
    const before = mcp.stats().cancelled;
    call(s, { n: 200, stepMs: 20 });
    await s.waitFor((x) => (x.context.parts[0]?.progress ?? 0) >= 2, { timeoutMs: 10_000 });
    s.send({ type: 'session.abort' });
    const aborted = await s.waitFor((x) => turn(x) === 'aborted', { timeoutMs: 10_000 });
    expect(aborted.context.lastEnd).toBe('aborted');
    await expect.poll(() => mcp.stats().cancelled, { timeout: 5_000 }).toBe(before + 1);
    call(s, { n: 2 });
    const next = await s.waitFor((x) => x.context.turns === 2, { timeoutMs: 10_000 });
    expect(next.context).toMatchObject({ lastEnd: 'completed', output: 'Counted to 2' });
    expect((await verifyReplay(store, sessionMachine, s.id)).ok).toBe(true);
  });

  it('resumes a dropped tool-call stream with Last-Event-ID: every progress once, the tool run once', async () => {
    const { s } = spawn(system());
    await ready(s);
    proxy.faults.drop = { path: /^\/mcp/, method: 'POST', afterEvents: 3 }; // the priming event and progress 1, 2
    call(s, { n: 6, stepMs: 30 });
    const done = await s.waitFor((x) => x.context.turns === 1, { timeoutMs: 15_000 });
    expect(proxy.fired).toContain('drop /mcp');
    expect(done.context).toMatchObject({ lastEnd: 'completed', output: 'Counted to 6' });
    const records = store.readStream(s.id);
    expect(progress(records)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(records.some((r) => r.type === 'session.stream' && (r.data as { state: string; channel: string }).state === 'reconnecting')).toBe(true);
    expect(mcp.stats().toolRuns[`${s.id}:p1`]).toBe(1);
    // the resumption was a GET with the id of the last event logged before the drop
    const drop = records.findIndex((r) => r.type === 'session.stream' && (r.data as { state: string }).state === 'reconnecting');
    const lastBeforeDrop = records
      .slice(0, drop)
      .filter((r) => r.meta.cursor !== undefined)
      .at(-1)!.meta.cursor;
    expect(proxy.requests).toContainEqual({ method: 'GET', path: '/mcp', lastEventId: lastBeforeDrop });
    expect((await verifyReplay(store, sessionMachine, s.id)).ok).toBe(true);
  });

  it('records a malformed SSE payload as session.invalid and finishes the call', async () => {
    const { s } = spawn(system());
    await ready(s);
    proxy.faults.malformed = { path: /^\/mcp/, method: 'POST', afterEvents: 2, frame: 'event: message\ndata: {"jsonrpc":"2.0","method":\n\n' };
    call(s, { n: 3 });
    const done = await s.waitFor((x) => x.context.turns === 1, { timeoutMs: 10_000 });
    expect(done.context).toMatchObject({ invalid: 1, lastEnd: 'completed', output: 'Counted to 3' });
    const bad = store.readStream(s.id).filter((r) => r.type === 'session.invalid');
    expect(bad).toHaveLength(1);
    expect((bad[0].data as { raw: string; error: string }).raw).toBe('{"jsonrpc":"2.0","method":');
    expect(progress(store.readStream(s.id))).toEqual([1, 2, 3]);
  });
});

describe('a tools/call whose answer is lost before any event id', () => {
  it('is not sent again: the turn fails OUTCOME_UNKNOWN and the tool ran once', async () => {
    const { s } = spawn(system());
    await ready(s);
    mcp.faults.loseAnswers = 1;
    call(s, { n: 2, stepMs: 10 });
    const done = await s.waitFor((x) => x.context.turns === 1, { timeoutMs: 10_000 });
    expect(done.context.lastEnd).toBe('failed');
    expect(done.context.lastError).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    expect(done.context.lastError!.message).toContain(`id "${s.id}:p1"`);
    await new Promise((r) => setTimeout(r, 200)); // the first run ends on the server meanwhile
    expect(mcp.stats().callsReceived[`${s.id}:p1`]).toBe(1);
    expect(mcp.stats().toolRuns[`${s.id}:p1`]).toBe(1);
    const sent = store.readStream(s.id).filter((r) => (r.data as { kind?: string }).kind === 'mcp.request-sent');
    expect(sent.map((r) => r.meta.cursor)).toEqual(['']); // logged before the POST: the call may have run
    expect((await verifyReplay(store, sessionMachine, s.id)).ok).toBe(true);
  });

  it('is sent again, with the same id, when the caller marked the call idempotent', async () => {
    const { s } = spawn(system());
    await ready(s);
    mcp.faults.loseAnswers = 1;
    s.send({ type: 'session.prompt', prompt: { kind: 'tool', name: 'count', arguments: { n: 2, stepMs: 10 }, idempotent: true } });
    const done = await s.waitFor((x) => x.context.turns === 1, { timeoutMs: 10_000 });
    expect(done.context).toMatchObject({ lastEnd: 'completed', output: 'Counted to 2' });
    expect(mcp.stats().callsReceived[`${s.id}:p1`]).toBe(2);
    expect(mcp.stats().toolRuns[`${s.id}:p1`]).toBe(2); // explicit: the caller allowed a second run
    expect((await verifyReplay(store, sessionMachine, s.id)).ok).toBe(true);
  });
});

describe('MCP session failures', () => {
  it('a server that goes away mid-session: failed with TRANSIENT after bounded reconnections', async () => {
    const doomed = await startMcpServer({ stepMs: 20 });
    const { s } = spawn(system({ retry: { baseMs: 20, maxAttempts: 2 } }, doomed.url));
    await ready(s);
    await doomed.close();
    const failed = await s.waitFor((x) => x.status === 'done', { timeoutMs: 10_000 });
    expect(failed.value).toBe('failed');
    expect(failed.context.lastError).toMatchObject({ code: 'TRANSIENT' });
    expect(failed.context.reconnects).toBe(2);
  });

  it('connection refused at start: failed with TRANSIENT after maxConnectAttempts', async () => {
    const gone = await startMcpServer();
    const url = gone.url;
    await gone.close();
    const { s } = spawn(system({}, url), { maxConnectAttempts: 2 });
    const failed = await s.waitFor((x) => x.status === 'done', { timeoutMs: 10_000 });
    expect(failed.context).toMatchObject({ connectAttempts: 2, lastError: { code: 'TRANSIENT' } });
  });

  it('attaching to a session the server no longer knows fails PERMANENT (404), without retrying', async () => {
    const { s } = spawn(system(), { remoteId: '00000000-0000-0000-0000-000000000000' });
    const failed = await s.waitFor((x) => x.status === 'done', { timeoutMs: 10_000 });
    expect(failed.context.lastError).toMatchObject({ code: 'PERMANENT', status: 404 });
    expect(failed.context.reconnects).toBe(0);
  });
});

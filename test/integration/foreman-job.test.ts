import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobMachine, type JobMachine } from '../../machines/job/machine.ts';
import { createForemanClient, submitAndWait, waitForForemanJob } from '../../machines/foreman/index.ts';
import { isActorlogError, replay, type JournaledActor } from '../../src/index.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { MODELS } from '../servers/foreman.ts';
import { startForemanFixture, TOKEN, type ForemanFixture } from '../servers/foreman-fixture.ts';
import { until } from '../support/orchestrator.ts';
import { tempDb } from '../support/tempDb.ts';

let f: ForemanFixture;
beforeAll(async () => {
  f = await startForemanFixture('fj');
});
afterAll(async () => {
  await f.close();
});

describe('foreman jobs (seed 000) on a foreman test daemon', () => {
  it('happy path by webhook: verified state webhooks drive the job to done with result, attempt and artifacts', async () => {
    const id = f.nextId();
    const before = f.server.stats();
    const result = await submitAndWait(f.system, { id, request: f.chat('summarise the report'), ...f.fast });
    expect(result).toMatchObject({ state: 'done', model: 'llama3:8b', attempt: 1, result: { message: { content: 'echo: summarise the report' } } });
    expect(result.error).toBeUndefined();
    const inline = result.artifacts.find((a) => a.name === 'answer.txt')!;
    expect(Buffer.from(inline.data!, 'base64').toString()).toBe('echo: summarise the report');
    expect(result.artifacts.find((a) => a.name === 'trace.json')).toMatchObject({ url: expect.stringContaining('/artifacts/'), size: 2048, content_type: 'application/json' });
    expect(result.createdAt).toMatch(/^\d{4}-/);
    expect(result.completedAt).toMatch(/^\d{4}-/);
    const hooks = f.updates(id, 'webhook');
    expect(hooks.map(f.stateOf)).toContain('done');
    expect(hooks.at(-1)!.meta.cursor).toBe('a1.done');
    expect(f.server.stats().gets - before.gets).toBeLessThanOrEqual(1); // the catch-up GET only
    expect(f.server.job(result.jobId)!.webhook).toBe(f.receiver.urlFor(id));
    expect(f.events(id).filter((r) => r.type === 'job.accepted')).toHaveLength(1);
    f.expectReplayEqualsLive(id);
  });

  it('happy path by polling: a job told to poll gives the daemon no webhook URL and polls GET /jobs/{id} until done', async () => {
    const id = f.nextId();
    const result = await submitAndWait(f.system, { id, request: f.chat('translate hello'), follow: 'poll', ...f.fast });
    expect(result).toMatchObject({ state: 'done', attempt: 1, result: { message: { content: 'echo: translate hello' } } });
    expect(f.server.job(result.jobId)!.webhook).toBeUndefined();
    expect(f.updates(id, 'webhook')).toHaveLength(0);
    expect(f.updates(id, 'poll').length).toBeGreaterThanOrEqual(2);
    expect(f.updates(id, 'poll').at(-1)!.meta.cursor).toBe(result.jobId);
    f.expectReplayEqualsLive(id);
  });

  it('polling mode for the whole binding (behind NAT): no listener is used, every job is polled', async () => {
    const natted = f.makeSystem({ polling: true });
    const id = f.nextId();
    const result = await submitAndWait(natted, { id, request: f.chat('behind a firewall'), ...f.fast });
    expect(result.state).toBe('done');
    expect(f.server.job(result.jobId)!.webhook).toBeUndefined();
    expect(f.updates(id, 'webhook')).toHaveLength(0);
    const followErrors = f.events(id).filter((r) => r.type === 'xstate.error.actor.follow');
    expect(followErrors).toHaveLength(1); // no receiver: straight to polling, no retries
    expect(f.store.getStream(id)!.status).toBe('done');
  });

  it('a job that fails on the daemon resolves with state failed and its error text', async () => {
    const id = f.nextId();
    const result = await submitAndWait(f.system, { id, request: f.chat('please fail'), ...f.fast });
    expect(result).toMatchObject({ state: 'failed', error: 'model runner crashed: exit status 2', artifacts: [] });
    expect(f.system.get(id)).toBeUndefined();
    expect((f.store.loadSnapshot(id)!.snapshot as { state: { value: string } }).state.value).toBe('failed');
    f.expectReplayEqualsLive(id);
  });

  it('reports the daemon\'s retry: attempt 2 after a failed first attempt', async () => {
    const id = f.nextId();
    const result = await submitAndWait(f.system, { id, request: f.chat('flaky work'), ...f.fast });
    expect(result).toMatchObject({ state: 'done', attempt: 2 });
    const orders = f.updates(id, 'webhook').map((r) => r.meta.cursor);
    expect(orders).toContain('a2.running');
  });

  it('times out: the job ends timed-out by its logged timer and the call rejects TIMEOUT', async () => {
    const id = f.nextId();
    const err = await submitAndWait(f.system, { id, request: f.chat('slow job'), ...f.fast, timeoutMs: 250 }).catch((e: unknown) => e);
    expect(isActorlogError(err, 'TIMEOUT')).toBe(true);
    expect(f.events(id).at(-1)).toMatchObject({ type: 'xstate.after.jobTimeout.job.active', meta: { source: 'timer' } });
    f.expectReplayEqualsLive(id);
  });

  it('cancels by AbortSignal: the job ends canceled, the call rejects ABORTED; an aborted signal submits nothing', async () => {
    const id = f.nextId();
    const abort = new AbortController();
    const pending = submitAndWait(f.system, { id, request: f.chat('slow and long'), ...f.fast, signal: abort.signal });
    await f.system.get<JobMachine>(id)!.waitFor((s) => s.context.remoteId !== undefined, { timeoutMs: 5_000 });
    abort.abort();
    const err = await pending.catch((e: unknown) => e);
    expect(isActorlogError(err, 'ABORTED')).toBe(true);
    expect((f.store.loadSnapshot(id)!.snapshot as { state: { value: string } }).state.value).toBe('canceled');

    const created = f.server.stats().jobsCreated;
    const again = await submitAndWait(f.system, { id: f.nextId(), request: f.chat('never'), signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(isActorlogError(again, 'ABORTED')).toBe(true);
    expect(f.server.stats().jobsCreated).toBe(created);
  });

  it('checks the request before any I/O: no model -> INVALID_OPTIONS, no stream, no request', async () => {
    const id = f.nextId();
    const before = f.server.stats();
    const err = await submitAndWait(f.system, { id, request: { model: '', messages: [] } }).catch((e: unknown) => e);
    expect(isActorlogError(err, 'INVALID_OPTIONS')).toBe(true);
    expect(f.store.getStream(id)).toBeUndefined();
    expect(f.server.stats().jobsCreated).toBe(before.jobsCreated);
  });

  it('auth: a missing or wrong bearer token fails the job at once with PERMANENT 401 and the daemon\'s message', async () => {
    for (const [token, message] of [[undefined, 'missing bearer token'], ['wrong-token', 'invalid token']] as const) {
      const s = f.makeSystem({ token });
      const id = f.nextId();
      const err = await submitAndWait(s, { id, request: f.chat('hello'), ...f.fast }).catch((e: unknown) => e);
      expect(isActorlogError(err, 'PERMANENT'), String(err)).toBe(true);
      expect((err as Error).message).toContain(message);
      const ctx = (f.store.loadSnapshot(id)!.snapshot as { state: { context: { submitAttempts: number; lastError: { status: number } } } }).state.context;
      expect(ctx.submitAttempts).toBe(1);
      expect(ctx.lastError.status).toBe(401);
    }
  });

  it('tags lists the installed models; embed answers while the queue is busy (it bypasses the queue)', async () => {
    const client = createForemanClient({ url: f.server.url, token: TOKEN });
    expect((await client.tags()).map((m) => m.name)).toEqual(MODELS.map((m) => m.name));
    const busy = f.makeSystem();
    const ids = [f.nextId(), f.nextId(), f.nextId(), f.nextId(), f.nextId()];
    const jobs = ids.map((id) => submitAndWait(busy, { id, request: f.chat('slow queue filler'), ...f.fast }));
    const res = await client.embed({ model: 'nomic-embed-text:latest', input: ['hello', 'world!'] });
    expect(res).toEqual({ model: 'nomic-embed-text:latest', embeddings: [[5, 0.5, -0.25], [6, 0.5, -0.25]] });
    expect(ids.some((id) => busy.get(id)?.getSnapshot().status === 'active')).toBe(true);
    await expect(createForemanClient({ url: f.server.url }).tags()).rejects.toMatchObject({ code: 'PERMANENT', details: { status: 401 } });
    await Promise.all(jobs);
  });

  it('re-sends the logged idempotency key after a crash mid-submit: the daemon creates one job (invariant 5)', async () => {
    const crashed = tempDb();
    const store1 = openSqliteStore(crashed.path);
    const first = f.makeSystem({}, store1);
    const before = f.server.stats();
    f.server.faults.holdAcceptMs = 300; // the 202 arrives after the "crash"
    const id = f.nextId();
    const lost = submitAndWait(first, { id, request: f.chat('submitted once'), ...f.fast }).catch((e: unknown) => e);
    await until(() => f.server.stats().jobsCreated > before.jobsCreated, 5_000, 'the POST /jobs');
    store1.close(); // the process "dies" with the POST in flight: its 202 is never logged
    expect(isActorlogError(await lost, 'APPEND_FAILED')).toBe(true);
    f.server.faults.holdAcceptMs = 0;
    const store2 = openSqliteStore(crashed.path);
    const second = f.makeSystem({}, store2);
    const [recovered] = second.recover().recovered as Array<JournaledActor<JobMachine>>;
    expect(recovered.id).toBe(id);
    expect((await waitForForemanJob(recovered)).state).toBe('done');
    expect(f.server.stats().jobsCreated).toBe(before.jobsCreated + 1);
    expect(f.server.stats().duplicateSubmits).toBe(before.duplicateSubmits + 1);
    expect(store2.readStream(id).filter((r) => r.type === 'job.accepted')).toHaveLength(1);
    second.close();
    first.close();
    store2.close();
    crashed.cleanup();
  });

  it('replays every job offline to the live snapshots', () => {
    for (const stream of f.store.listStreams()) {
      const steps = [...replay(f.store, jobMachine, stream.streamId)];
      expect(steps.length, stream.streamId).toBe(stream.version);
      if (stream.status !== 'active') f.expectReplayEqualsLive(stream.streamId);
    }
  });

  it('never writes the bearer token or the webhook secret to the log (db, -wal, -shm)', () => {
    f.expectNoSecretsInLog();
  });
});

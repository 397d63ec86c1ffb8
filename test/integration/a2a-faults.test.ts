import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIG_CHUNK_CHARS, startA2AServer, type A2AServerHandle } from '../../examples/a2a-agent-server.ts';
import { a2aJobMachine, createA2AClient } from '../../machines/a2a/index.ts';
import type { JobMachine } from '../../machines/job/machine.ts';
import { backoffMs, type JobContext } from '../../machines/job/context.ts';
import { createActorSystem, type ActorSystem, type JournaledActor } from '../../src/index.ts';
import type { SqliteStore } from '../../stores/sqlite/index.ts';
import { suiteLog, until, virtualTime } from '../support/kit/index.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { tempDb } from '../support/tempDb.ts';

// An agent like the SDK's own request handler: every message/send makes a new task (messageId is no key).
let agent: A2AServerHandle;
let store: SqliteStore;
let system: ActorSystem;
const db = suiteLog();

beforeAll(async () => {
  agent = await startA2AServer({ stepMs: 20, dedupeMessageIds: false });
  store = db.open();
  system = createActorSystem({ store, machines: { job: a2aJobMachine({ url: agent.url }) }, onError: () => {} });
});
afterAll(async () => {
  await system.close();
  await agent.close();
});

let n = 0;
async function run(text: string) {
  const id = `a2af-${++n}`;
  const job: JournaledActor<JobMachine> = system.spawn('job', { id, input: { jobId: id, request: { text }, retryDelayMs: 10 } });
  return { job, final: await job.waitFor((s) => s.status !== 'active', { timeoutMs: 20_000 }) };
}
/** Lets real I/O run until `cond` holds. */
describe('A2A against an agent that does not take messageId as a key: never two tasks for one job', () => {
  it('a message/send whose answer is lost after the agent made the task ends OUTCOME_UNKNOWN, sent once', async () => {
    const before = agent.stats();
    agent.faults.loseSendAnswers = 1;
    const { final } = await run('answer lost');
    expect(final.value).toBe('failed');
    expect(final.context.lastError).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    expect(final.context.submitAttempts).toBe(1);
    expect(agent.stats().messagesReceived - before.messagesReceived).toBe(1);
    expect(agent.stats().tasksCreated - before.tasksCreated).toBe(1);
  });

  it('an unreadable message/send answer is recorded as job.invalid and ends OUTCOME_UNKNOWN at once, sent once', async () => {
    const before = agent.stats();
    agent.faults.truncatedSendAnswers = 1;
    const { job, final } = await run('answer cut short');
    expect(final.context.lastError).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    expect(final.context.lastError!.message).toContain('dedupesMessageId');
    expect(store.readStream(job.id).filter((r) => r.type === 'job.invalid')).toHaveLength(1);
    expect(agent.stats().messagesReceived - before.messagesReceived).toBe(1);
  });

  it("a 503's Retry-After is logged with the error and the submit's retry waits at least that long (the journaled backoff reads it)", async () => {
    agent.faults.unavailable = 1;
    agent.faults.retryAfter = '2';
    try {
      const { job, final } = await run('after a 503 with Retry-After');
      expect(final.value).toBe('done');
      const failed = store.readStream(job.id).find((r) => r.type === 'xstate.error.actor.submit')!;
      expect(failed.data).toMatchObject({ error: { code: 'TRANSIENT', status: 503, retryAfterMs: 2_000 } });
      // the submit backoff after that error: retryDelayMs is 10 ms, the agent asked for 2 s
      const lastError = (failed.data as { error: JobContext['lastError'] }).error;
      expect(backoffMs({ jobId: job.id, retryDelayMs: 10, lastError }, 1)).toBeGreaterThanOrEqual(2_000);
      expect(backoffMs({ jobId: job.id, retryDelayMs: 10, lastError: undefined }, 1)).toBeLessThan(100);
    } finally {
      delete agent.faults.retryAfter;
    }
  });

  it('a 503 (the agent did not act) is still retried: one task, done', async () => {
    const before = agent.stats();
    agent.faults.unavailable = 1;
    const { final } = await run('after a 503');
    expect(final.value).toBe('done');
    expect(agent.stats().tasksCreated - before.tasksCreated).toBe(1);
  });

  it('a tasks/get whose body drips is ended by the stall bound after the headers (a drip does not re-arm it)', async () => {
    const client = createA2AClient({ url: agent.url });
    const task = await client.sendMessage({ messageId: 'drip-1', text: 'hello' });
    const vt = virtualTime();
    const dripping = createA2AClient({ url: agent.url, stallTimeoutMs: 11_000, scheduler: vt.scheduler });
    agent.faults.dripGet = 1;
    let settled = false;
    const get = dripping
      .getTask(task.kind === 'task' ? task.id : '')
      .catch((e: unknown) => e)
      .finally(() => {
        settled = true;
      });
    await until(() => agent.faults.dripGet === 0, 'the dripped GET to start');
    await new Promise((r) => setTimeout(r, 100)); // headers and a few bytes arrived
    vt.advance(6_000);
    await new Promise((r) => setTimeout(r, 100)); // more bytes
    vt.advance(4_999);
    expect(settled).toBe(false);
    vt.advance(1);
    expect(await get).toMatchObject({ code: 'TRANSIENT', details: { cause: 'stall', stallTimeoutMs: 11_000 } });
  });

  it("a message/send answered with another message's task is never followed: job.invalid (the task raw), OUTCOME_UNKNOWN, not sent again", async () => {
    const first = await run('the first job');
    expect(first.final.value).toBe('done');
    const before = agent.stats();
    agent.faults.answerWithLastTask = 1; // the agent answers with the first job's task
    const { job, final } = await run('the second job');
    expect(agent.faults.answerWithLastTask).toBe(0);
    expect(final.value).toBe('failed');
    expect(final.context.lastError).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    expect(final.context.lastError!.message).toContain(`holds no message with our messageId "${job.id}:m1"`);
    expect(final.context.remoteId).toBeUndefined(); // never followed: none of the first job's answer is taken
    expect(final.context.artifacts ?? []).toHaveLength(0);
    const invalid = store.readStream(job.id).filter((r) => r.type === 'job.invalid');
    expect(invalid).toHaveLength(1);
    expect((invalid[0].data as { raw: string }).raw).toContain(`"messageId":"${first.job.id}:m1"`);
    expect(agent.stats().messagesReceived - before.messagesReceived).toBe(1);
  });

  it("two senders reuse one messageId against an agent that keys by it: the second is told the task is not its own (OUTCOME_UNKNOWN), never given the first one's answer", async () => {
    const keyed = await startA2AServer({ stepMs: 10 }); // takes messageId as an idempotency key
    const dbs = [tempDb(), tempDb()];
    const stores = dbs.map((d) => openSqliteStore(d.path));
    const systems = stores.map((st) => createActorSystem({ store: st, machines: { job: a2aJobMachine({ url: keyed.url }) }, onError: () => {} }));
    try {
      const ends = [];
      for (const [i, text] of ['sender one: summarise', 'sender two: translate'].entries()) {
        // both applications name their job "job-1": both send messageId "job-1:m1"
        const job: JournaledActor<JobMachine> = systems[i].spawn('job', { id: 'job-1', input: { jobId: 'job-1', request: { text }, retryDelayMs: 10 } });
        ends.push(await job.waitFor((x) => x.status !== 'active', { timeoutMs: 20_000 }));
      }
      expect(ends[0].value).toBe('done');
      expect(keyed.stats().duplicateMessageIds).toBe(1);
      expect(ends[1].value).toBe('failed');
      expect(ends[1].context.lastError).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
      expect(ends[1].context.lastError!.message).toContain('was made for another message with messageId "job-1:m1" (another sender reused it)');
      expect(ends[1].context.artifacts ?? []).toHaveLength(0);
    } finally {
      for (const sy of systems) await sy.close();
      for (const st of stores) st.close();
      for (const d of dbs) d.cleanup();
      await keyed.close();
    }
  });

  it('an answer over 1 MiB (a 1.5 MiB artifact chunk) is ordinary, followed by stream and by polling; over the bound it is recorded and ends the job', async () => {
    for (const follow of ['push', 'poll'] as const) {
      const id = `a2af-big-${follow}`;
      const job: JournaledActor<JobMachine> = system.spawn('job', {
        id,
        input: { jobId: id, request: { text: 'a big answer' }, follow, retryDelayMs: 10, pollIntervalMs: 20 },
      });
      const final = await job.waitFor((s) => s.status !== 'active', { timeoutMs: 20_000 });
      expect(final.value, follow).toBe('done');
      const text = final.context.artifacts
        .flatMap((a) => a.parts)
        .map((p) => (p as { text?: string }).text ?? '')
        .join('');
      expect(text).toBe(`${'chunk one;'.padEnd(BIG_CHUNK_CHARS, '.')} chunk two.`);
      expect(store.readStream(id).filter((r) => r.type === 'job.invalid')).toHaveLength(0);
    }
    // Over the binding's bound (1 MiB here) it is recorded and ends the job with the error, by stream or by polling: never a silent wait.
    const bounded = createActorSystem({ store, machines: { job: a2aJobMachine({ url: agent.url, maxBodyBytes: 1024 * 1024 }) }, onError: () => {} });
    try {
      for (const follow of ['push', 'poll'] as const) {
        const id = `a2af-over-${follow}`;
        const job: JournaledActor<JobMachine> = bounded.spawn('job', {
          id,
          input: { jobId: id, request: { text: 'a big answer' }, follow, retryDelayMs: 10, pollIntervalMs: 20, maxFollowRetries: 1 },
        });
        const final = await job.waitFor((s) => s.status !== 'active', { timeoutMs: 20_000 });
        expect(final.value, follow).toBe('failed');
        expect(final.context.lastError).toMatchObject({ code: 'INVALID_PAYLOAD', message: expect.stringContaining('larger than maxBytes 1048576') });
        const invalid = store.readStream(id).filter((r) => r.type === 'job.invalid');
        // polling: once; by stream: each failed follow (the event over the parser's bound first), then the poll
        expect(invalid.length, follow).toBe(follow === 'poll' ? 1 : 1 + 1 + 1);
        expect((invalid[0].data as { error: string }).error).toMatch(follow === 'poll' ? /larger than maxBytes/ : /max buffer size of 1048576/);
      }
    } finally {
      await bounded.close();
    }
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VirtualTimeScheduler } from 'rxjs';
import type { AnyMachineSnapshot } from 'xstate';
import { startA2AServer, type A2AServerHandle } from '../../examples/a2a-agent-server.ts';
import { a2aJobMachine } from '../../machines/a2a/index.ts';
import { jobMachine, type JobMachine } from '../../machines/job/machine.ts';
import type { JobInput } from '../../machines/job/context.ts';
import { createActorSystem, replaySteps, verifyReplay, type ActorSystem, type JournaledActor } from '../../src/index.ts';
import { openSqliteStore, type SqliteStore } from '../../stores/sqlite/index.ts';
import { tempDb } from '../support/tempDb.ts';
import { advance, suiteLog } from '../support/kit/index.ts';

let agent: A2AServerHandle;
let store: SqliteStore;
let system: ActorSystem;
const db = suiteLog();

beforeAll(async () => {
  agent = await startA2AServer({ stepMs: 40 });
  store = db.open();
  system = createActorSystem({ store, machines: { job: a2aJobMachine({ url: agent.url, dedupesMessageId: true }) } });
});
afterEach(() => {
  Object.keys(agent.faults).forEach((k) => delete (agent.faults as Record<string, unknown>)[k]);
});
afterAll(async () => {
  await system.close();
  await agent.close();
});

let n = 0;
function spawnJob(text: string, extra: Partial<JobInput> = {}, on = system): { job: JournaledActor<JobMachine>; live: AnyMachineSnapshot[] } {
  const jobId = `job-${++n}`;
  const job = on.spawn('job', { id: jobId, input: { jobId, request: { text }, pollIntervalMs: 50, retryDelayMs: 20, ...extra } });
  const live: AnyMachineSnapshot[] = [];
  job.subscribe((s) => {
    live.push(s);
    if (
      s.matches({ active: 'input-required' }) &&
      s.context.pendingInput === undefined &&
      live.filter((x) => x.matches({ active: 'input-required' })).length === 1
    ) {
      queueMicrotask(() => job.send({ type: 'job.input', text: 'blue' }));
    }
  });
  return { job, live };
}
const finished = (job: JournaledActor<JobMachine>) => job.waitFor((s) => s.status !== 'active', { timeoutMs: 20_000 });

describe('job machine on a real A2A agent', () => {
  it('replays every job to the live snapshots, event by event (invariant 2)', async () => {
    const runs = ['summarise', 'ask me something', 'please fail'].map((text) => spawnJob(text));
    const finals = await Promise.all(runs.map((r) => finished(r.job)));
    expect(finals.map((s) => s.value)).toEqual(['done', 'done', 'failed']);
    for (const { job, live } of runs) {
      const steps = await replaySteps(store, jobMachine, job.id);
      expect(steps.length).toBe(live.length);
      steps.forEach((step, i) => {
        expect({ value: step.snapshot.value, context: step.snapshot.context, status: step.snapshot.status }).toEqual(
          JSON.parse(JSON.stringify({ value: live[i].value, context: live[i].context, status: live[i].status })),
        );
      });
      expect((await verifyReplay(store, jobMachine, job.id)).ok).toBe(true);
    }
    const asked = runs[1].job.getSnapshot().context;
    expect(asked.history).toEqual(expect.arrayContaining(['input-required', 'completed']));
    expect(asked.replies).toBe(1);
    expect(runs[0].job.getSnapshot().context.artifacts[0].parts.length).toBe(2);
  });

  it('records a malformed SSE frame as job.invalid and finishes the job (invariant 6)', async () => {
    agent.faults.malformedStreamFrames = 1;
    const { job } = spawnJob('summarise');
    const final = await finished(job);
    expect(final.value).toBe('done');
    expect(final.context.invalid).toBe(1);
    const invalid = store.readStream(job.id).filter((r) => r.type === 'job.invalid');
    expect(invalid).toHaveLength(1);
    expect(invalid[0].meta.source).toBe('sse');
    expect((invalid[0].data as { raw: string }).raw.length).toBeGreaterThan(0);
  });

  it('records a non-JSON tasks/get answer as job.invalid and keeps polling', async () => {
    agent.faults.nonJsonGet = 1;
    const { job } = spawnJob('summarise', { follow: 'poll' });
    const final = await finished(job);
    expect(final.value).toBe('done');
    const invalid = store.readStream(job.id).filter((r) => r.type === 'job.invalid');
    expect(invalid.map((r) => r.meta.source)).toEqual(['poll']);
    expect((invalid[0].data as { raw: string }).raw).toMatch(/</);
  });

  it('resubscribes after the stream drops and merges artifact chunks once', async () => {
    agent.faults.dropStreamAfterFrames = 2;
    const { job } = spawnJob('summarise');
    const final = await finished(job);
    expect(final.value).toBe('done');
    expect(final.context.followRetries).toBeGreaterThanOrEqual(1);
    expect(final.context.artifacts).toHaveLength(1);
    expect(final.context.artifacts[0].parts).toHaveLength(2);
  });

  it('cancels a running job', async () => {
    const { job } = spawnJob('slow work');
    await job.waitFor((s) => s.context.remoteState === 'working', { timeoutMs: 10_000 });
    job.send({ type: 'job.cancel' });
    expect((await finished(job)).value).toBe('canceled');
  });

  it('ends timed-out when the overall timeout passes first', async () => {
    const { job } = spawnJob('slow work', { timeoutMs: 300 });
    const final = await finished(job);
    expect(final.value).toBe('timed-out');
    expect(store.readStream(job.id).at(-1)).toMatchObject({ type: 'xstate.after.jobTimeout.job.active', meta: { source: 'timer' } });
  });

  it('retries a 503 as transient, then succeeds with one task', async () => {
    agent.faults.unavailable = 2;
    const before = agent.stats().tasksCreated;
    const { job } = spawnJob('summarise');
    const final = await finished(job);
    expect(final.value).toBe('done');
    expect(final.context.submitAttempts).toBe(3);
    expect(agent.stats().tasksCreated).toBe(before + 1);
  });

  it('fails with a clear transient error when the agent is gone (connection refused), after bounded retries', async () => {
    const gone = await startA2AServer({ stepMs: 40 });
    const url = gone.url;
    await gone.close();
    const other = createActorSystem({ store, machines: { job: a2aJobMachine({ url }) } });
    const { job } = spawnJob('summarise', { maxSubmitAttempts: 3 }, other);
    const final = await finished(job);
    expect(final.value).toBe('failed');
    expect(final.context.submitAttempts).toBe(3);
    expect(final.context.lastError).toMatchObject({ code: 'TRANSIENT' });
    await other.close();
  });

  it('re-sends the logged messageId after a crash mid-submit: one task, no double dispatch (invariant 5)', async () => {
    const crashed = tempDb();
    const store1 = openSqliteStore(crashed.path);
    const first = createActorSystem({ store: store1, machines: { job: a2aJobMachine({ url: agent.url, dedupesMessageId: true }) } });
    const before = agent.stats();
    agent.faults.holdSendMs = 300; // the answer to the send arrives after the "crash"
    const { job } = spawnJob('summarise', {}, first);
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 5_000;
      const tick = () =>
        agent.stats().messagesReceived > before.messagesReceived ? resolve() : Date.now() > deadline ? reject(new Error('no send')) : setTimeout(tick, 2);
      tick();
    });
    store1.close(); // the process "dies" with the request in flight: its answer is never logged
    expect(store1.readonly).toBe(false);
    const store2 = openSqliteStore(crashed.path);
    const second = createActorSystem({ store: store2, machines: { job: a2aJobMachine({ url: agent.url, dedupesMessageId: true }) } });
    const [recovered] = (await second.recover()).recovered as Array<JournaledActor<JobMachine>>;
    expect(recovered.id).toBe(job.id);
    expect((await finished(recovered)).value).toBe('done');
    expect(job.error?.code).toBe('STORE_UNAVAILABLE'); // its store is closed: the write did not happen
    expect(agent.stats().tasksCreated).toBe(before.tasksCreated + 1);
    expect(agent.stats().duplicateMessageIds).toBe(before.duplicateMessageIds + 1);
    expect(store2.readStream(job.id).filter((r) => r.type === 'job.accepted')).toHaveLength(1);
    await second.close();
    store2.close();
    crashed.cleanup();
  });

  it('a message/send answer cut short (the task exists) is recorded, and the re-sent messageId finds that task: one task, done', async () => {
    agent.faults.truncatedSendAnswers = 1;
    const before = agent.stats();
    const { job } = spawnJob('summarise');
    const final = await finished(job);
    expect(final.value).toBe('done');
    expect(agent.stats().tasksCreated).toBe(before.tasksCreated + 1);
    expect(agent.stats().duplicateMessageIds).toBe(before.duplicateMessageIds + 1); // the lookup: same messageId, no new task
    const log = store.readStream(job.id);
    const invalid = log.filter((r) => r.type === 'job.invalid');
    expect(invalid).toHaveLength(1);
    expect((invalid[0].data as { raw: string }).raw).toMatch(/^\{"jsonrpc":"2.0"/);
    const accepted = log.filter((r) => r.type === 'job.accepted');
    expect(accepted).toHaveLength(1);
    expect(final.context.submitAttempts).toBe(1);
    expect(final.context.remoteId).toBe((accepted[0].data as { remoteId: string }).remoteId);
    expect((await verifyReplay(store, jobMachine, job.id)).ok).toBe(true);
  });

  it('when no re-send of the messageId gives a readable answer, the job fails OUTCOME_UNKNOWN naming the messageId, one task, nothing sent again', async () => {
    agent.faults.truncatedSendAnswers = 3; // the send and both lookups
    const before = agent.stats();
    const { job } = spawnJob('summarise');
    const final = await finished(job);
    expect(final.value).toBe('failed');
    expect(final.context.lastError).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    expect(final.context.lastError!.message).toContain(`messageId "${final.context.messageId}"`);
    expect(final.context.lastError!.message).toContain('the agent may hold a task');
    expect(agent.stats().tasksCreated).toBe(before.tasksCreated + 1);
    expect(agent.stats().messagesReceived).toBe(before.messagesReceived + 3);
    expect(store.readStream(job.id).filter((r) => r.type === 'job.invalid')).toHaveLength(3);
    expect((await verifyReplay(store, jobMachine, job.id)).ok).toBe(true);
  });

  it('cancels a job whose cancel arrived before the agent accepted it, once its task id is known', async () => {
    agent.faults.holdSendMs = 200;
    const { job } = spawnJob('slow work');
    job.send({ type: 'job.cancel' });
    expect(job.getSnapshot().context.cancelRequested).toBe(true);
    const final = await finished(job);
    expect(final.value).toBe('canceled');
    expect(final.context.remoteId).toBeDefined();
    expect(final.context.remoteState).toBe('canceled');
    expect((await verifyReplay(store, jobMachine, job.id)).ok).toBe(true);
  });
});

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('A2A streams and polls have the 45 s stall bound (virtual time)', () => {
  it('a tasks/resubscribe stream silent for 45 s fails TRANSIENT (stall) and is resubscribed: the job finishes done', async () => {
    const scheduler = new VirtualTimeScheduler();
    const stalling = createActorSystem({ store, machines: { job: a2aJobMachine({ url: agent.url, scheduler, dedupesMessageId: true }) } });
    try {
      agent.faults.stallStreams = 1;
      const { job } = spawnJob('summarise', {}, stalling);
      await expect.poll(() => store.readStream(job.id).filter((r) => r.meta.source === 'sse').length, { timeout: 5_000 }).toBe(1);
      await settle(400); // the task ends after 4 steps of 40 ms: on a live stream the job would be done by now
      expect(job.getSnapshot().matches({ active: { working: 'streaming' } })).toBe(true);
      advance(scheduler, 44_999);
      await settle(50);
      expect(job.getSnapshot().matches({ active: { working: 'streaming' } })).toBe(true); // not before 45 s
      advance(scheduler, 1);
      const final = await finished(job);
      expect(final.value).toBe('done');
      expect(final.context.followRetries).toBe(1);
      const failure = store.readStream(job.id).find((r) => r.type === 'xstate.error.actor.follow');
      expect(JSON.stringify(failure?.data)).toContain('no data for 45000 ms (stalled)');
      expect(final.context.artifacts[0].parts).toHaveLength(2);
      expect((await verifyReplay(store, jobMachine, job.id)).ok).toBe(true);
    } finally {
      await stalling.close();
    }
  });

  it('a tasks/get poll unanswered for 45 s fails TRANSIENT (stall) and is polled again: the job finishes done', async () => {
    const scheduler = new VirtualTimeScheduler();
    const stalling = createActorSystem({
      store,
      machines: { job: a2aJobMachine({ url: agent.url, scheduler, stallTimeoutMs: 30_000, dedupesMessageId: true }) },
    });
    try {
      agent.faults.stallGet = 1;
      const { job } = spawnJob('summarise', { follow: 'poll' }, stalling);
      await expect.poll(() => agent.faults.stallGet, { timeout: 5_000 }).toBe(0);
      await settle(400);
      expect(job.getSnapshot().matches({ active: { working: 'polling' } })).toBe(true);
      expect(store.readStream(job.id).some((r) => r.type === 'xstate.error.actor.poll')).toBe(false);
      advance(scheduler, 30_000); // the option: 30 s here
      const final = await finished(job);
      expect(final.value).toBe('done');
      const failure = store.readStream(job.id).find((r) => r.type === 'xstate.error.actor.poll');
      expect(JSON.stringify(failure?.data)).toContain('no complete answer within 30000 ms (stalled)');
      expect((await verifyReplay(store, jobMachine, job.id)).ok).toBe(true);
    } finally {
      await stalling.close();
    }
  });
});

import { of, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { fromEventObservable, SimulatedClock } from 'xstate';
import { workerMachine, type WorkerWireEvent } from '../../machines/ironclaw/index.ts';
import { JobDescriptionSchema, parseFinishReason } from '../../machines/ironclaw/schemas.ts';
import { enqueue, initialWorkerContext } from '../../machines/ironclaw/context.ts';
import { ActorlogError, createActorSystem, verifyReplay } from '../../src/index.ts';
import { createMemoryStore } from '../../stores/memory.ts';

/** The worker machine with synchronous fake actors: a scripted orchestrator, no network, time by SimulatedClock. */
function fakeWorker(
  script: { llmFailures?: number; llmRetryAfterMs?: number; prompts?: Array<'none' | 'prompt' | 'done' | 'invalid'>; finishInvalid?: boolean } = {},
) {
  const calls: string[] = [];
  const llmInputs: unknown[] = [];
  const finishInputs: unknown[] = [];
  const invalid = (what: string) =>
    throwError(() => new ActorlogError('INVALID_PAYLOAD', `LlmProxyFailed: ${what}: not JSON`, { details: { kind: 'LlmProxyFailed' } }));
  let llmFailures = script.llmFailures ?? 0;
  const prompts = [...(script.prompts ?? [])];
  const emit = (name: string, events: (input: never) => WorkerWireEvent[]) =>
    fromEventObservable<WorkerWireEvent, never>(({ input }) => {
      calls.push(name);
      return of(...events(input));
    });
  const machine = workerMachine.provide({
    actors: {
      fetchJob: emit('job', () => [{ type: 'worker.job', job: { title: 'T', description: 'D' } }]),
      fetchCredentials: emit('credentials', () => [{ type: 'worker.credentials', names: ['A'], count: 1 }]),
      llm: fromEventObservable<WorkerWireEvent, never>(({ input }) => {
        calls.push('llm');
        llmInputs.push(input);
        if (llmFailures-- > 0)
          return throwError(
            () =>
              new ActorlogError(
                'TRANSIENT',
                'LlmProxyFailed: 502',
                script.llmRetryAfterMs === undefined ? {} : { details: { status: 503, retryAfterMs: script.llmRetryAfterMs } },
              ),
          );
        return of<WorkerWireEvent>({
          type: 'llm.completed',
          content: 'answer',
          toolCalls: [],
          finishReason: 'stop',
          usage: { inputTokens: 1, outputTokens: 2, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
        });
      }),
      pollPrompt: fromEventObservable<WorkerWireEvent, never>(() => {
        calls.push('prompt');
        const next = prompts.shift() ?? 'none';
        if (next === 'invalid') return invalid('GET /prompt: failed to parse prompt response');
        return of<WorkerWireEvent>(
          next === 'none' ? { type: 'prompt.none' } : { type: 'prompt.received', content: next === 'done' ? '' : 'more', done: next === 'done' },
        );
      }),
      report: emit('report', (input: { item: { seq: number } }) => [{ type: 'report.done', seq: input.item.seq, ok: true }]),
      finish: fromEventObservable<WorkerWireEvent, never>(({ input }) => {
        calls.push('finish');
        finishInputs.push(input);
        return script.finishInvalid && finishInputs.length === 1
          ? invalid('report complete: failed to parse response')
          : of<WorkerWireEvent>({ type: 'worker.completed' });
      }),
    } as never,
  });
  const clock = new SimulatedClock();
  clock.set(1_000_000);
  const store = createMemoryStore();
  const system = createActorSystem({ store, clock, machines: { ironclaw: machine } });
  return { calls, llmInputs, finishInputs, clock, store, system, machine };
}

describe('ironclaw worker machine (SimulatedClock, fake actors)', () => {
  it('polls for prompts every promptPollMs and completes when promptWaitMs passes without one (timers from the clock)', async () => {
    const { calls, clock, store, system } = fakeWorker({ prompts: ['none', 'none', 'none', 'none'] });
    const w = system.spawn('ironclaw', { id: 'w-1', input: { jobId: 'j', promptPollMs: 1_000, promptWaitMs: 2_500 } });
    expect(w.getSnapshot().matches({ running: { main: { awaitingPrompt: 'idle' } } })).toBe(true);
    expect(calls.filter((c) => c === 'prompt')).toHaveLength(1);
    clock.increment(1_000);
    clock.increment(1_000);
    expect(calls.filter((c) => c === 'prompt')).toHaveLength(3);
    expect(w.getSnapshot().status).toBe('active');
    clock.increment(500);
    expect(w.getSnapshot().value).toBe('done');
    expect(w.getSnapshot().context).toMatchObject({ emptyPolls: 3, iteration: 1, outcome: { success: true, message: 'answer' } });
    expect(calls.at(-1)).toBe('finish');
    expect((await verifyReplay(store, workerMachine, 'w-1')).ok).toBe(true);
  });

  it('retries a transient LLM failure after its backoff, then goes on; a prompt starts another turn, done ends the job', async () => {
    const { calls, clock, system } = fakeWorker({ llmFailures: 1, prompts: ['prompt', 'done'] });
    const w = system.spawn('ironclaw', { id: 'w-2', input: { jobId: 'j', retryDelayMs: 100, promptPollMs: 10 } });
    expect(w.getSnapshot().matches({ running: { main: 'thinkingBackoff' } })).toBe(true);
    expect(w.getSnapshot().context.lastError).toMatchObject({ code: 'TRANSIENT' });
    clock.increment(99);
    expect(calls.filter((c) => c === 'llm')).toHaveLength(1);
    clock.increment(30); // 100 ms plus at most 20% jitter
    expect(w.getSnapshot().value).toBe('done');
    expect(calls.filter((c) => c === 'llm')).toHaveLength(3);
    expect(w.getSnapshot().context).toMatchObject({ prompts: 2, iteration: 2, attempts: 0 });
  });

  it("waits out a 503's Retry-After before retrying (capped at 60 s), live and on replay", async () => {
    const { calls, clock, store, system } = fakeWorker({ llmFailures: 2, llmRetryAfterMs: 7_000, prompts: ['done'] });
    const w = system.spawn('ironclaw', { id: 'w-ra', input: { jobId: 'j', retryDelayMs: 100, maxAttempts: 5 } });
    expect(calls.filter((c) => c === 'llm')).toHaveLength(1);
    expect(w.getSnapshot().context.lastError).toMatchObject({ code: 'TRANSIENT', retryAfterMs: 7_000 });
    clock.increment(6_999);
    expect(calls.filter((c) => c === 'llm')).toHaveLength(1); // the backoff alone would be about 100 ms
    clock.increment(1);
    expect(calls.filter((c) => c === 'llm')).toHaveLength(2);
    clock.increment(7_000);
    expect(calls.filter((c) => c === 'llm')).toHaveLength(3);
    expect((await w.waitFor((s) => s.status === 'done', { timeoutMs: 1_000 })).value).toBe('done');
    expect(await verifyReplay(store, workerMachine, 'w-ra')).toMatchObject({ ok: true });
  });

  it('re-arms a pending prompt-wait timer with its remaining time after recovery', async () => {
    const first = fakeWorker({ prompts: ['none', 'none', 'none'] });
    first.system.spawn('ironclaw', { id: 'w-3', input: { jobId: 'j', promptPollMs: 10_000, promptWaitMs: 3_000 } });
    first.clock.increment(1_000);
    await first.system.close();
    const second = createActorSystem({ store: first.store, clock: first.clock, machines: { ironclaw: first.machine } });
    const [w] = (await second.recover()).recovered;
    expect(w.getSnapshot().status).toBe('active');
    first.clock.increment(1_999);
    expect(w.getSnapshot().status).toBe('active');
    first.clock.increment(1);
    expect(w.getSnapshot().value).toBe('done');
    expect((await verifyReplay(first.store, workerMachine, 'w-3')).ok).toBe(true);
  });

  it("passes the caller's LLM endpoint to every completion (default complete_with_tools, whatever the tools)", async () => {
    const a = fakeWorker({ prompts: ['done'] });
    a.system.spawn('ironclaw', { id: 'w-e1', input: { jobId: 'j' } });
    const b = fakeWorker({ prompts: ['done'] });
    b.system.spawn('ironclaw', { id: 'w-e2', input: { jobId: 'j', llmEndpoint: 'complete' } });
    expect(a.llmInputs).toEqual([expect.objectContaining({ llmEndpoint: 'complete_with_tools' })]);
    expect(b.llmInputs).toEqual([expect.objectContaining({ llmEndpoint: 'complete' })]);
  });

  it('a malformed prompt answer fails the job (no poll after it), reported failed', async () => {
    const { calls, system, finishInputs } = fakeWorker({ prompts: ['invalid', 'done'] });
    const w = system.spawn('ironclaw', { id: 'w-p', input: { jobId: 'j', promptPollMs: 10 } });
    expect(w.getSnapshot().value).toBe('failed');
    expect(calls.filter((c) => c === 'prompt')).toHaveLength(1);
    expect(w.getSnapshot().context.lastError).toMatchObject({ code: 'INVALID_PAYLOAD', message: expect.stringMatching(/^LlmProxyFailed: GET \/prompt/) });
    expect(finishInputs).toEqual([expect.objectContaining({ report: expect.objectContaining({ success: false }) })]);
  });

  it('a completion report answered with no JSON ends the job failed without a second, contradicting report', async () => {
    const { system, finishInputs } = fakeWorker({ prompts: ['done'], finishInvalid: true });
    const w = system.spawn('ironclaw', { id: 'w-c', input: { jobId: 'j' } });
    expect(w.getSnapshot().value).toBe('failed');
    expect(w.getSnapshot().context).toMatchObject({ outcome: { success: false }, lastError: { code: 'INVALID_PAYLOAD' } });
    expect(finishInputs).toHaveLength(1);
  });

  it('bounds the outbox: past maxOutbox the oldest waiting event is dropped, never the one in flight', async () => {
    let c = { ...initialWorkerContext({ jobId: 'j', maxOutbox: 3 }) };
    for (let i = 0; i < 5; i++) c = { ...c, ...enqueue(c, { kind: 'event', body: { event_type: `e${i}`, data: null } }) };
    expect(c.outbox.map((r) => (r.kind === 'event' ? r.body.event_type : r.kind))).toEqual(['e0', 'e3', 'e4']);
    expect(c.reportsDropped).toBe(2);
  });
});

describe('ironclaw wire format (seed 002 unit tests)', () => {
  it('parse_finish_reason: stop, length, tool_use and tool_calls, content_filter; anything else unknown', async () => {
    expect(parseFinishReason('stop')).toBe('stop');
    expect(parseFinishReason('length')).toBe('length');
    expect(parseFinishReason('tool_use')).toBe('tool_use');
    expect(parseFinishReason('tool_calls')).toBe('tool_use');
    expect(parseFinishReason('content_filter')).toBe('content_filter');
    for (const other of ['unknown', '', 'STOP', 'end_turn']) expect(parseFinishReason(other), other).toBe('unknown');
  });

  it('JobDescription: a null or absent project_dir is none (test_job_description_deserialization)', async () => {
    expect(JobDescriptionSchema.parse(JSON.parse('{"title":"Test","description":"desc","project_dir":null}'))).toEqual({
      title: 'Test',
      description: 'desc',
      project_dir: null,
    });
    expect(JobDescriptionSchema.parse({ title: 'Test', description: 'desc' })).toEqual({ title: 'Test', description: 'desc' });
    expect(JobDescriptionSchema.parse({ title: 'T', description: 'd', project_dir: '/w' }).project_dir).toBe('/w');
    expect(JobDescriptionSchema.safeParse({ title: 'T', description: 'd', project_dir: 7 }).success).toBe(false);
  });
});

import { of, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { fromEventObservable, SimulatedClock } from 'xstate';
import { workerMachine, type WorkerWireEvent } from '../../machines/ironclaw/index.ts';
import { enqueue, initialWorkerContext } from '../../machines/ironclaw/context.ts';
import { ActorlogError, createActorSystem, verifyReplay } from '../../src/index.ts';
import { createMemoryStore } from '../../stores/memory.ts';

/** The worker machine with synchronous fake actors: a scripted orchestrator, no network, time by SimulatedClock. */
function fakeWorker(script: { llmFailures?: number; prompts?: Array<'none' | 'prompt' | 'done'> } = {}) {
  const calls: string[] = [];
  let llmFailures = script.llmFailures ?? 0;
  const prompts = [...(script.prompts ?? [])];
  const emit = (name: string, events: (input: never) => WorkerWireEvent[]) => fromEventObservable<WorkerWireEvent, never>(({ input }) => {
    calls.push(name);
    return of(...events(input));
  });
  const machine = workerMachine.provide({
    actors: {
      fetchJob: emit('job', () => [{ type: 'worker.job', job: { title: 'T', description: 'D' } }]),
      fetchCredentials: emit('credentials', () => [{ type: 'worker.credentials', names: ['A'], count: 1 }]),
      llm: fromEventObservable<WorkerWireEvent, never>(() => {
        calls.push('llm');
        if (llmFailures-- > 0) return throwError(() => new ActorlogError('TRANSIENT', 'LlmProxyFailed: 502'));
        return of<WorkerWireEvent>({ type: 'llm.completed', content: 'answer', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 2, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 } });
      }),
      pollPrompt: emit('prompt', () => {
        const next = prompts.shift() ?? 'none';
        return [next === 'none' ? { type: 'prompt.none' } : { type: 'prompt.received', content: next === 'done' ? '' : 'more', done: next === 'done' }];
      }),
      report: emit('report', (input: { item: { seq: number } }) => [{ type: 'report.done', seq: input.item.seq, ok: true }]),
      finish: emit('finish', () => [{ type: 'worker.completed' }]),
    } as never,
  });
  const clock = new SimulatedClock();
  clock.set(1_000_000);
  const store = createMemoryStore();
  const system = createActorSystem({ store, clock, machines: { ironclaw: machine } });
  return { calls, clock, store, system, machine };
}

describe('ironclaw worker machine (SimulatedClock, fake actors)', () => {
  it('polls for prompts every promptPollMs and completes when promptWaitMs passes without one (timers from the clock)', () => {
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
    expect(verifyReplay(store, workerMachine, 'w-1').ok).toBe(true);
  });

  it('retries a transient LLM failure after its backoff, then goes on; a prompt starts another turn, done ends the job', () => {
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

  it('re-arms a pending prompt-wait timer with its remaining time after recovery', () => {
    const first = fakeWorker({ prompts: ['none', 'none', 'none'] });
    first.system.spawn('ironclaw', { id: 'w-3', input: { jobId: 'j', promptPollMs: 10_000, promptWaitMs: 3_000 } });
    first.clock.increment(1_000);
    first.system.close();
    const second = createActorSystem({ store: first.store, clock: first.clock, machines: { ironclaw: first.machine } });
    const [w] = second.recover().recovered;
    expect(w.getSnapshot().status).toBe('active');
    first.clock.increment(1_999);
    expect(w.getSnapshot().status).toBe('active');
    first.clock.increment(1);
    expect(w.getSnapshot().value).toBe('done');
    expect(verifyReplay(first.store, workerMachine, 'w-3').ok).toBe(true);
  });

  it('bounds the outbox: past maxOutbox the oldest waiting event is dropped, never the one in flight', () => {
    let c = { ...initialWorkerContext({ jobId: 'j', maxOutbox: 3 }) };
    for (let i = 0; i < 5; i++) c = { ...c, ...enqueue(c, { kind: 'event', body: { event_type: `e${i}`, data: null } }) };
    expect(c.outbox.map((r) => (r.kind === 'event' ? r.body.event_type : r.kind))).toEqual(['e0', 'e3', 'e4']);
    expect(c.reportsDropped).toBe(2);
  });
});

import { existsSync, readFileSync } from 'node:fs';
import { VirtualTimeScheduler } from 'rxjs';
import { Agent, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyMachineSnapshot } from 'xstate';
import {
  createWorkerClient,
  ironclawWorkerMachine,
  workerMachine,
  type IronclawWorkerOptions,
  type WorkerInput,
  type WorkerTool,
} from '../../machines/ironclaw/index.ts';
import { createActorSystem, replaySteps, verifyReplay } from '../../src/index.ts';
import type { SqliteStore } from '../../stores/sqlite/index.ts';
import { startIronclawOrchestrator, type IronclawOrchestrator, type OrchestratorJob } from '../servers/ironclaw-orchestrator.ts';
import { suiteLog } from '../support/kit/index.ts';

const GITHUB = 'ghp_SECRETVALUE_9f8e7d6c5b4a';
const NPM = 'npm_SECRETVALUE_0a1b2c3d';
const token = (n: string) => `tok-${n}-SECRETTOKEN`;
const job = (jobId: string, extra: Partial<OrchestratorJob> = {}): OrchestratorJob => ({
  jobId,
  token: token(jobId),
  title: `Job ${jobId}`,
  description: 'Find the failing test and explain it.',
  projectDir: '/workspace/app',
  ...extra,
});
const JOBS: OrchestratorJob[] = [
  job('loop', {
    credentials: [
      { env_var: 'GITHUB_TOKEN', value: GITHUB },
      { env_var: 'NPM_TOKEN', value: NPM },
    ],
    prompts: [
      { content: 'Now summarise it', afterPolls: 1 },
      { content: '', done: true, afterPolls: 1 },
    ],
  }),
  job('cred-204', { credentials: 204, prompts: [{ content: '', done: true }] }),
  job('cred-404', { credentials: 404, prompts: [{ content: '', done: true }] }),
  job('cred-500', { credentials: 500 }),
  job('silent', { prompts: [] }),
  job('leaky', { credentials: [{ env_var: 'GITHUB_TOKEN', value: GITHUB }], prompts: [{ content: '', done: true }] }),
  job('rejected'),
  job('llm-transient', { prompts: [{ content: '', done: true }] }),
  job('llm-down'),
  job('llm-bad-request'),
  job('events-down', { prompts: [{ content: '', done: true }] }),
  job('bad-prompt', { prompts: [{ content: '', done: true }] }),
  job('cancel', { prompts: [] }),
  job('max-iterations', { prompts: [] }),
  job('endpoint-complete', { projectDir: undefined, prompts: [{ content: '', done: true }] }),
  job('endpoint-no-tools', { prompts: [{ content: '', done: true }] }),
  job('bad-job'),
  job('bad-llm'),
  job('bad-complete', { prompts: [{ content: '', done: true }] }),
  job('finish-reasons', { prompts: [{ content: '', done: true }] }),
  job('client'),
  job('fail-report', { credentials: 500 }),
  job('big-job', { prompts: [{ content: '', done: true }] }),
  job('reused-ids', {
    prompts: [
      { content: 'again', afterPolls: 1 },
      { content: '', done: true },
    ],
  }),
  job('slow-complete', { prompts: [{ content: '', done: true }] }),
];

let orchestrator: IronclawOrchestrator;
let store: SqliteStore;
const db = suiteLog();
const closers: Array<() => Promise<void>> = [];

const search: WorkerTool = {
  description: 'Search the project',
  parameters: { type: 'object', properties: { query: { type: 'string' } } },
  run: async (args, { env }) => `3 results for "${(args as { query: string }).query}" (github auth: ${env.GITHUB_TOKEN ? 'yes' : 'no'})`,
};
const leak: WorkerTool = { description: 'Prints a credential (a bug)', parameters: {}, run: async (_a, { env }) => ({ leaked: env.GITHUB_TOKEN }) };
const fast: Partial<WorkerInput> = { promptPollMs: 30, promptWaitMs: 5_000, retryDelayMs: 20 };

function run(jobId: string, input: Partial<WorkerInput> = {}, binding: Partial<IronclawWorkerOptions> = {}) {
  const machine = ironclawWorkerMachine({ orchestratorUrl: orchestrator.url, jobId, token: token(jobId), tools: { search }, ...binding });
  const system = createActorSystem({ store, machines: { ironclaw: machine } });
  closers.push(() => system.close());
  const worker = system.spawn('ironclaw', { id: `ironclaw-${jobId}`, input: { jobId, ...fast, ...input } });
  const live: AnyMachineSnapshot[] = [];
  worker.subscribe((s) => live.push(s));
  return { worker, live, finished: () => worker.waitFor((s) => s.status !== 'active', { timeoutMs: 15_000 }) };
}
const events = (jobId: string) => store.readStream(`ironclaw-${jobId}`);
const requests = (jobId: string, path: string) => orchestrator.requests.filter((r) => r.path === `${jobId}/${path}`);
const expectReplayEqualsLive = async (jobId: string, live?: AnyMachineSnapshot[]) => {
  const id = `ironclaw-${jobId}`;
  expect(await verifyReplay(store, workerMachine, id), id).toMatchObject({ ok: true });
  if (!live) return;
  const steps = await replaySteps(store, workerMachine, id);
  const norm = (s: AnyMachineSnapshot) => JSON.parse(JSON.stringify({ value: s.value, context: s.context, status: s.status }));
  expect(steps.map((s) => norm(s.snapshot))).toEqual(live.slice(0, steps.length).map(norm));
};

beforeAll(async () => {
  orchestrator = await startIronclawOrchestrator(JOBS);
  store = db.open();
});
afterAll(async () => {
  for (const close of closers) await close();
  await orchestrator.close();
});

describe('ironclaw worker (seed 002) against a test orchestrator', () => {
  it('runs the whole loop: job, credentials, LLM and tool completions, status and events, a follow-up prompt, completion', async () => {
    const { worker, live, finished } = run('loop');
    const final = await finished();
    expect(final.value).toBe('done');
    const c = final.context;
    expect(c.job).toEqual({ title: 'Job loop', description: 'Find the failing test and explain it.', projectDir: '/workspace/app' });
    expect(c.credentials).toEqual({ names: ['GITHUB_TOKEN', 'NPM_TOKEN'], count: 2 });
    expect(c).toMatchObject({ iteration: 4, toolCalls: 2, prompts: 2, reportsFailed: 0, outcome: { success: true } });
    expect(c.usage.outputTokens).toBe(48);
    expect(c.messages.filter((m) => m.role === 'tool').map((m) => m.content)).toEqual([
      '3 results for "Job loop\n\nFind the failing test and explain it.\n\nProject directory: /workspace/app" (github auth: yes)',
      '3 results for "Now summarise it" (github auth: yes)',
    ]);
    expect(orchestrator.completions('loop')).toEqual([{ success: true, message: 'Done: 3 results for "Now summarise it" (github auth: yes)', iterations: 4 }]);
    expect(orchestrator.llmKeys('loop')).toEqual([1, 2, 3, 4].map((n) => `loop:llm:${n}`));
    expect(requests('loop', 'llm/complete_with_tools')).toHaveLength(4);
    const states = orchestrator.statuses('loop').map((s) => (s as { state: string }).state);
    expect(states[0]).toBe('started');
    expect(states).toEqual(expect.arrayContaining(['in_progress', 'waiting_for_prompt', 'completed']));
    expect(states.at(-1)).toBe('completed');
    expect(orchestrator.events('loop').map((e) => e.event_type)).toEqual([
      'message',
      'tool_use',
      'tool_result',
      'message',
      'prompt',
      'message',
      'tool_use',
      'tool_result',
      'message',
      'prompt',
    ]);
    // the completion report comes after every status and event
    const paths = orchestrator.requests.filter((r) => r.path.startsWith('loop/')).map((r) => r.path);
    expect(paths.at(-1)).toBe('loop/complete');
    expect(requests('loop', 'credentials')).toHaveLength(1);
    expect(orchestrator.requests.filter((r) => r.path.startsWith('loop/')).every((r) => r.auth === 'ok')).toBe(true);
    const delivered = events('loop').find((r) => r.type === 'worker.credentials')!;
    expect(delivered.data).toEqual({ names: ['GITHUB_TOKEN', 'NPM_TOKEN'], count: 2 });
    expect(worker.getSnapshot().status).toBe('done');
    await expectReplayEqualsLive('loop', live);
  });

  it('credentials: 204 and 404 both mean none; another failure status fails the job (SecretResolveFailed)', async () => {
    for (const jobId of ['cred-204', 'cred-404']) {
      const { finished, live } = run(jobId, { llmEndpoint: 'complete' }, { tools: {} });
      const final = await finished();
      expect(final.value, jobId).toBe('done');
      expect(final.context.credentials).toEqual({ names: [], count: 0 });
      expect(requests(jobId, 'llm/complete')).toHaveLength(1); // the caller chose llm/complete
      expect(final.context.messages.at(-1)).toMatchObject({ role: 'assistant', content: expect.stringMatching(/^Answer: Job /) });
      await expectReplayEqualsLive(jobId, live);
    }
    const { finished } = run('cred-500', { maxAttempts: 2 });
    const final = await finished();
    expect(final.value).toBe('failed');
    expect(final.context.lastError).toMatchObject({ code: 'TRANSIENT', message: expect.stringMatching(/^SecretResolveFailed/) });
    expect(requests('cred-500', 'credentials')).toHaveLength(2);
    expect(orchestrator.completions('cred-500')).toEqual([expect.objectContaining({ success: false, message: expect.stringMatching(/SecretResolveFailed/) })]);
  });

  it('prompt polling: 204 means nothing yet; with no prompt the worker completes after promptWaitMs (a logged timer)', async () => {
    const { finished, live } = run('silent', { promptWaitMs: 300 });
    const final = await finished();
    expect(final.value).toBe('done');
    expect(final.context.prompts).toBe(0);
    expect(final.context.emptyPolls).toBeGreaterThanOrEqual(2);
    const timer = events('silent').find((r) => r.type.startsWith('xstate.after.promptWait'));
    expect(timer?.meta.source).toBe('timer');
    expect(events('silent').filter((r) => r.type === 'prompt.none').length).toBe(final.context.emptyPolls);
    expect(orchestrator.completions('silent')).toEqual([expect.objectContaining({ success: true, iterations: 2 })]);
    await expectReplayEqualsLive('silent', live);
  });

  it('keeps credential values out of tool output, LLM text, the log and the orchestrator-bound reports', async () => {
    const { finished } = run('leaky', {}, { tools: { leak } });
    const final = await finished();
    expect(final.value).toBe('done');
    const tool = final.context.messages.find((m) => m.role === 'tool')!;
    expect(tool.content).toBe('{"leaked":"[credential]"}');
    expect(JSON.stringify(orchestrator.events('leaky'))).not.toContain(GITHUB);
  });

  it('fails at once when the orchestrator rejects the token (403, not retried); no token at all is refused before any I/O', async () => {
    const { finished } = run('rejected', {}, { token: token('loop') });
    const final = await finished();
    expect(final.value).toBe('failed');
    expect(final.context.lastError).toMatchObject({
      code: 'PERMANENT',
      status: 403,
      message: expect.stringMatching(/^OrchestratorRejected: GET \/job returned 403/),
    });
    expect(requests('rejected', 'job')).toHaveLength(1);
    expect(requests('rejected', 'job')[0].auth).toBe('wrong');

    const saved = process.env.IRONCLAW_WORKER_TOKEN;
    delete process.env.IRONCLAW_WORKER_TOKEN;
    const before = orchestrator.requests.length;
    try {
      expect(() => ironclawWorkerMachine({ orchestratorUrl: orchestrator.url, jobId: 'rejected' })).toThrow(/MissingToken: IRONCLAW_WORKER_TOKEN is not set/);
      // an empty token is refused as a missing one, however it is given
      process.env.IRONCLAW_WORKER_TOKEN = '';
      expect(() => ironclawWorkerMachine({ orchestratorUrl: orchestrator.url, jobId: 'rejected' })).toThrow(/MissingToken: IRONCLAW_WORKER_TOKEN is empty/);
      expect(() => ironclawWorkerMachine({ orchestratorUrl: orchestrator.url, jobId: 'rejected', token: '' })).toThrowError(
        expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringMatching(/^MissingToken: the token option is empty/) }),
      );
      process.env.IRONCLAW_WORKER_TOKEN = token('cred-204');
      expect(() => ironclawWorkerMachine({ orchestratorUrl: orchestrator.url, jobId: 'cred-204' })).not.toThrow();
    } finally {
      if (saved === undefined) delete process.env.IRONCLAW_WORKER_TOKEN;
      else process.env.IRONCLAW_WORKER_TOKEN = saved;
    }
    expect(orchestrator.requests.length).toBe(before);
  });

  it('LLM proxy failure: transient ones are retried with the same idempotency key; persistent or permanent ones fail the job', async () => {
    orchestrator.faults.llmFailures = 2;
    const ok = await run('llm-transient', { maxAttempts: 3 }).finished();
    expect(ok.value).toBe('done');
    expect(orchestrator.llmKeys('llm-transient').slice(0, 3)).toEqual(['llm-transient:llm:1', 'llm-transient:llm:1', 'llm-transient:llm:1']);

    orchestrator.faults.llmFailures = 100;
    const down = await run('llm-down', { maxAttempts: 3 }).finished();
    orchestrator.faults.llmFailures = 0;
    expect(down.value).toBe('failed');
    expect(down.context.lastError).toMatchObject({
      code: 'TRANSIENT',
      status: 502,
      message: expect.stringMatching(/^LlmProxyFailed: LLM tool complete: orchestrator returned 502/),
    });
    expect(orchestrator.llmKeys('llm-down')).toEqual(['llm-down:llm:1', 'llm-down:llm:1', 'llm-down:llm:1']);
    expect(orchestrator.completions('llm-down')).toEqual([expect.objectContaining({ success: false, iterations: 0 })]);

    orchestrator.faults.llmFailures = 1;
    orchestrator.faults.llmFailureStatus = 400;
    const bad = await run('llm-bad-request').finished();
    orchestrator.faults.llmFailureStatus = undefined;
    expect(bad.value).toBe('failed');
    expect(bad.context.lastError).toMatchObject({ code: 'PERMANENT', status: 400 });
    expect(orchestrator.llmKeys('llm-bad-request')).toHaveLength(1);
  });

  it('job events and status reports are fire-and-forget: failures are recorded, never fatal', async () => {
    orchestrator.faults.eventFailures = 100;
    orchestrator.faults.statusFailures = 1;
    const final = await run('events-down').finished();
    orchestrator.faults.eventFailures = 0;
    expect(final.value).toBe('done');
    expect(final.context.reportsFailed).toBeGreaterThanOrEqual(4);
    expect(final.context.lastReportError).toMatch(/job event POST rejected: 500|status report failed with 503/);
    expect(final.context.outbox).toEqual([]);
    expect(orchestrator.completions('events-down')).toEqual([expect.objectContaining({ success: true })]);
    const failed = events('events-down').filter((r) => r.type === 'report.done' && (r.data as { ok: boolean }).ok === false);
    expect(failed.length).toBe(final.context.reportsFailed);
  });

  it('a malformed prompt answer is reported as the seed does (LlmProxyFailed), not swallowed while polling goes on', async () => {
    orchestrator.faults.malformedPrompts = 1;
    const final = await run('bad-prompt').finished();
    expect(final.value).toBe('failed');
    expect(final.context.invalid).toBe(1);
    expect(final.context.lastError).toMatchObject({
      code: 'INVALID_PAYLOAD',
      message: expect.stringMatching(/^LlmProxyFailed: GET \/prompt: failed to parse prompt response: not JSON/),
    });
    const invalid = events('bad-prompt').find((r) => r.type === 'worker.invalid')!;
    expect((invalid.data as { raw: string }).raw).toBe('<html>oops</html>');
    expect(requests('bad-prompt', 'prompt')).toHaveLength(1); // no poll after the bad answer
    expect(orchestrator.completions('bad-prompt')).toEqual([
      expect.objectContaining({ success: false, message: expect.stringMatching(/^LlmProxyFailed: GET \/prompt/) }),
    ]);
  });

  it("a body that does not parse keeps the seed's error kind: GET job and the LLM answer are LlmProxyFailed", async () => {
    orchestrator.faults.malformedJobs = 1;
    const job = await run('bad-job').finished();
    expect(job.value).toBe('failed');
    expect(job.context.lastError).toMatchObject({
      code: 'INVALID_PAYLOAD',
      message: expect.stringMatching(/^LlmProxyFailed: GET \/job: failed to parse response: not JSON/),
    });
    orchestrator.faults.malformedLlm = 1;
    const llm = await run('bad-llm').finished();
    expect(llm.value).toBe('failed');
    expect(llm.context.lastError).toMatchObject({
      code: 'INVALID_PAYLOAD',
      message: expect.stringMatching(/^LlmProxyFailed: LLM tool complete: failed to parse response: not JSON/),
    });
    expect(requests('bad-llm', 'llm/complete_with_tools')).toHaveLength(1); // not retried: the orchestrator answered
    const client = createWorkerClient({ orchestratorUrl: orchestrator.url, jobId: 'client', token: token('client') });
    orchestrator.faults.malformedJobs = 1;
    await expect(client.getJob()).rejects.toMatchObject({ code: 'INVALID_PAYLOAD', details: { kind: 'LlmProxyFailed', raw: '{"title":' } });
    orchestrator.faults.malformedPrompts = 1;
    await expect(client.pollPrompt()).rejects.toMatchObject({ code: 'INVALID_PAYLOAD', details: { kind: 'LlmProxyFailed' } });
    orchestrator.faults.malformedLlm = 1;
    await expect(client.complete({ messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
      message: expect.stringMatching(/^LlmProxyFailed: LLM complete: failed to parse response/),
      details: { kind: 'LlmProxyFailed' },
    });
  });

  it('the completion report needs a JSON answer (seed: serde_json::Value): an empty 200 fails the job, with no second report', async () => {
    orchestrator.faults.malformedCompletes = 1;
    orchestrator.faults.completeBody = '';
    const final = await run('bad-complete').finished();
    expect(final.value).toBe('failed');
    expect(final.context.lastError).toMatchObject({
      code: 'INVALID_PAYLOAD',
      message: expect.stringMatching(/^LlmProxyFailed: report complete: failed to parse response/),
    });
    expect(final.context.outcome).toMatchObject({ success: false });
    expect(orchestrator.completions('bad-complete')).toEqual([expect.objectContaining({ success: true })]);
    const client = createWorkerClient({ orchestratorUrl: orchestrator.url, jobId: 'client', token: token('client') });
    for (const body of ['null', '"ok"', '[]']) {
      // any JSON value will do
      orchestrator.faults.malformedCompletes = 1;
      orchestrator.faults.completeBody = body;
      await expect(client.reportComplete({ success: true, message: null, iterations: 0 }), body).resolves.toBeUndefined();
    }
    orchestrator.faults.malformedCompletes = 1;
    orchestrator.faults.completeBody = 'OK';
    await expect(client.reportComplete({ success: true, message: null, iterations: 0 })).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
      details: { kind: 'LlmProxyFailed' },
    });
    orchestrator.faults.completeBody = undefined;
  });

  it("the LLM endpoint is the caller's choice, not whether tools exist; a null project_dir is no project directory", async () => {
    const plain = await run('endpoint-complete', { llmEndpoint: 'complete' }).finished(); // tools given, llm/complete chosen
    expect(plain.value).toBe('done');
    expect(requests('endpoint-complete', 'llm/complete_with_tools')).toHaveLength(0);
    const [call] = requests('endpoint-complete', 'llm/complete');
    expect(call.body).not.toHaveProperty('tools');
    expect(call.body).not.toHaveProperty('tool_choice');
    expect(orchestrator.requests.find((r) => r.path === 'endpoint-complete/job')).toBeDefined();
    expect(plain.context.job).toEqual({ title: 'Job endpoint-complete', description: 'Find the failing test and explain it.' }); // project_dir: null
    expect(plain.context.messages[1].content).not.toContain('Project directory');

    const none = await run('endpoint-no-tools', {}, { tools: {} }).finished(); // no tools, the default endpoint
    expect(none.value).toBe('done');
    expect(requests('endpoint-no-tools', 'llm/complete')).toHaveLength(0);
    expect(requests('endpoint-no-tools', 'llm/complete_with_tools').map((r) => (r.body as { tools: unknown }).tools)).toEqual([[]]);
  });

  it('maps the finish reason as the seed does (tool_calls is tool use)', async () => {
    orchestrator.faults.finishReason = 'tool_calls';
    const final = await run('finish-reasons').finished();
    orchestrator.faults.finishReason = undefined;
    expect(final.value).toBe('done');
    expect(final.context).toMatchObject({ lastFinishReason: 'tool_use', toolCalls: 1 });
    expect(
      orchestrator
        .events('finish-reasons')
        .filter((e) => e.event_type === 'message')
        .map((e) => (e.data as { finish_reason: string }).finish_reason),
    ).toEqual(['tool_use', 'tool_use']);
  });

  it("the test orchestrator reads bodies as the seed's structs: 415 without JSON content type, 400 not JSON, 422 a missing field", async () => {
    const post = (path: string, body: string, type = 'application/json') =>
      fetch(`${orchestrator.url}/worker/client/${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token('client')}`, 'content-type': type },
        body,
      }).then((r) => r.status);
    const messages = [{ role: 'user', content: 'x' }];
    const reported = orchestrator.completions('client').length;
    expect(await post('llm/complete', JSON.stringify({ messages }), 'text/plain')).toBe(415);
    expect(await post('llm/complete', '{"messages":')).toBe(400);
    expect(await post('llm/complete_with_tools', JSON.stringify({ messages }))).toBe(422); // tools: Vec<ToolDefinition> is required
    expect(await post('llm/complete_with_tools', JSON.stringify({ messages, tools: [] }))).toBe(200);
    expect(await post('llm/complete', JSON.stringify({ messages, tools: [{ name: 'x' }] }))).toBe(200); // unknown fields ignored
    expect(await post('status', JSON.stringify({ state: 'x', iteration: -1 }))).toBe(422);
    expect(await post('event', JSON.stringify({ event_type: 'x' }))).toBe(422); // data: serde_json::Value is required
    expect(await post('complete', JSON.stringify({ success: true, iterations: 1 }))).toBe(200); // message: Option, may be absent
    expect(orchestrator.completions('client')).toHaveLength(reported + 1);
  });

  it("client errors keep the seed's kinds: refused is ConnectionFailed, a rejected prompt poll OrchestratorRejected; a trailing / is trimmed", async () => {
    const gone = await startIronclawOrchestrator([]);
    const url = gone.url;
    await gone.close();
    await expect(createWorkerClient({ orchestratorUrl: url, jobId: 'client', token: 't' }).getJob()).rejects.toMatchObject({
      code: 'TRANSIENT',
      message: expect.stringMatching(/^ConnectionFailed: /),
      details: { kind: 'ConnectionFailed' },
    });
    await expect(createWorkerClient({ orchestratorUrl: orchestrator.url, jobId: 'client', token: token('loop') }).pollPrompt()).rejects.toMatchObject({
      code: 'PERMANENT',
      message: 'OrchestratorRejected: prompt endpoint returned 403 (job client)',
      details: { kind: 'OrchestratorRejected', status: 403 },
    });
    const before = orchestrator.requests.length;
    await createWorkerClient({ orchestratorUrl: `${orchestrator.url}//`, jobId: 'client', token: token('client') }).getJob();
    expect(orchestrator.requests.slice(before).map((r) => r.path)).toEqual(['client/job']);
  });

  it('sets no request timeout unless asked (seed 002: reqwest::Client::new() has none); requestTimeoutMs is an overall deadline', async () => {
    const seen: Array<{ headersTimeout?: number | null; bodyTimeout?: number | null }> = [];
    class Recording extends Agent {
      dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
        seen.push({ headersTimeout: opts.headersTimeout, bodyTimeout: opts.bodyTimeout });
        return super.dispatch(opts, handler);
      }
    }
    const dispatcher = new Recording();
    const opts = { orchestratorUrl: orchestrator.url, jobId: 'client', token: token('client'), dispatcher };
    /** GET job answered 300 ms late, while `hours` of virtual time pass on the deadline's scheduler. */
    const slowJob = async (requestTimeoutMs?: number) => {
      const clock = new VirtualTimeScheduler();
      orchestrator.faults.slow = { job: [300] };
      const job = createWorkerClient({ ...opts, scheduler: clock, ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }) }).getJob();
      await new Promise((r) => setTimeout(r, 50));
      clock.schedule(() => undefined, 3 * 3_600_000);
      clock.flush();
      return job;
    };
    await expect(slowJob()).resolves.toMatchObject({ title: 'Job client' });
    await expect(slowJob(5_000)).rejects.toMatchObject({
      code: 'TRANSIENT',
      message: 'ConnectionFailed: ironclaw GET job: timed out after 5000 ms',
      details: { kind: 'ConnectionFailed', cause: 'timeout' },
    });
    await dispatcher.close();
    expect(seen).toEqual([
      { headersTimeout: 0, bodyTimeout: 0 },
      { headersTimeout: 0, bodyTimeout: 0 },
    ]); // undici's own timeouts off: they re-arm on a dripping body
  });

  it('a cancel ends the job failed with the reason reported; maxIterations bounds the loop', async () => {
    const { worker, finished } = run('cancel', { promptWaitMs: 10_000 });
    await worker.waitFor((s) => s.matches({ running: { main: 'awaitingPrompt' } }), { timeoutMs: 5_000 });
    worker.send({ type: 'worker.cancel', reason: 'operator stop' });
    worker.send({ type: 'worker.cancel', reason: 'again' }); // ignored: already failing
    const final = await finished();
    expect(final.value).toBe('failed');
    expect(orchestrator.completions('cancel')).toEqual([{ success: false, message: 'canceled: operator stop', iterations: 2 }]);

    const capped = await run('max-iterations', { maxIterations: 1 }).finished();
    expect(capped.value).toBe('failed');
    expect(capped.context.lastError?.message).toMatch(/max iterations \(1\)/);
  });

  it('the failure report is retried like the success report: one 503 does not hide a failed job from the orchestrator', async () => {
    orchestrator.faults.completeFailures = 1;
    const final = await run('fail-report').finished();
    expect(final.value).toBe('failed');
    expect(requests('fail-report', 'complete')).toHaveLength(2);
    expect(orchestrator.completions('fail-report')).toEqual([
      { success: false, message: expect.stringMatching(/^SecretResolveFailed: \(all\): credentials endpoint returned 500/), iterations: 0 },
    ]);
    // the job's own error stays the job's; the report's 503 is the report's
    expect(final.context.lastError?.message).toMatch(/^SecretResolveFailed/);
    expect(final.context.lastReportError).toMatch(/^report complete failed: LlmProxyFailed: report complete: orchestrator returned 503/);
    expect(requests('fail-report', 'complete').map((r) => [r.key, (r.body as { success: boolean }).success])).toEqual([
      ['fail-report:complete', false],
      ['fail-report:complete', false],
    ]);
    await expectReplayEqualsLive('fail-report');
  });

  it('a job description over 1 MiB is an ordinary answer (64 MiB bound); one over a smaller maxBodyBytes is INVALID_PAYLOAD saying so', async () => {
    orchestrator.faults.bigJobs = 1;
    const final = await run('big-job', {}, { tools: {} }).finished();
    expect(final.value).toBe('done');
    expect(final.context.job?.description).toHaveLength(1.5 * 1024 * 1024);
    const client = createWorkerClient({ orchestratorUrl: orchestrator.url, jobId: 'client', token: token('client'), maxBodyBytes: 1024 * 1024 });
    orchestrator.faults.bigJobs = 1;
    await expect(client.getJob()).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
      message: 'LlmProxyFailed: GET /job: failed to parse response: body larger than maxBytes 1048576',
      details: { reason: 'too-large' },
    });
  });

  it('tool call ids the LLM reuses across turns are each run and answered', async () => {
    orchestrator.faults.reuseToolCallIds = true;
    try {
      const final = await run('reused-ids').finished();
      expect(final.value).toBe('done');
      const tools = final.context.messages.filter((m) => m.role === 'tool');
      expect(tools.map((m) => [m.tool_call_id, m.content])).toEqual([
        ['call_1', expect.stringMatching(/^3 results for "Job reused-ids/)],
        ['call_1', '3 results for "again" (github auth: no)'],
      ]);
      expect(final.context.toolCalls).toBe(2);
    } finally {
      orchestrator.faults.reuseToolCallIds = false;
    }
  });

  it('a completion answered after requestTimeoutMs is sent again with the same Idempotency-Key (the orchestrator had taken it)', async () => {
    orchestrator.faults.slow = { complete: [1_500] }; // undici checks its timeouts about every 0.5 s
    const final = await run('slow-complete', {}, { requestTimeoutMs: 200 }).finished();
    expect(final.value).toBe('done');
    expect(requests('slow-complete', 'complete').map((r) => r.key)).toEqual(['slow-complete:complete', 'slow-complete:complete']);
    expect(orchestrator.completions('slow-complete')).toHaveLength(2); // it deduplicates nothing, as seed 002 shows no key
    expect(
      events('slow-complete')
        .filter((r) => r.type === 'xstate.error.actor.finish')
        .map((r) => (r.data as { error: { code: string } }).error.code),
    ).toEqual(['TRANSIENT']);
  });

  it('never writes a token or a credential value to the log (db, -wal, -shm)', async () => {
    for (const file of [db.path, `${db.path}-wal`, `${db.path}-shm`]) {
      if (!existsSync(file)) continue;
      const bytes = readFileSync(file);
      for (const secret of [GITHUB, NPM, 'SECRETVALUE', 'SECRETTOKEN']) expect(bytes.includes(secret), `${secret} in ${file}`).toBe(false);
    }
    expect(store.listStreams().length).toBe(JOBS.length - 1); // every job ran once as a worker, but 'client' (client calls only)
  });
});

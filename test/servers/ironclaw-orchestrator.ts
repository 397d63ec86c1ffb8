import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';

/**
 * A protocol-faithful ironclaw orchestrator for tests and examples (seed 002, the worker side's
 * peer): every route is `/worker/{jobId}/…` with a bearer token scoped to that job (401 without
 * one or with an unknown one, 403 with another job's). GET job; GET credentials (a list, or 204 / 404 = none); POST
 * llm/complete and llm/complete_with_tools, answered by a scripted fake LLM; POST status; POST event;
 * GET prompt (204 until a follow-up prompt is due); POST complete.
 *
 * Request bodies are read as the seed's structs are deserialized (serde defaults: unknown fields
 * ignored, `Option` fields may be absent or null, every other field required): a POST without
 * `content-type: application/json` is answered 415, a body that is not JSON 400, one that misses a
 * required field or has a wrong type 422 (axum's `Json` extractor answers so; seed 002 shows none of
 * these statuses, only `is_success()` and 204/404, so they make this server stricter than the seed, never easier). `llm/complete_with_tools`
 * needs its `tools` list (`Vec<ToolDefinition>`, possibly empty); `llm/complete` ignores one.
 *
 * The fake LLM: with tools, a user turn is answered with one call of the first tool (arguments
 * `{ "query": <the user's text> }`, finish `tool_use`); a tool result is answered with text
 * (`Done: …`, finish `stop`). Without tools, a user turn is answered with `Answer: …`.
 */
export interface OrchestratorJob {
  jobId: string;
  token: string;
  title: string;
  description: string;
  projectDir?: string;
  /** The credentials granted, or how the endpoint says "none". @default 204 */
  credentials?: Array<{ env_var: string; value: string }> | 204 | 404 | 500;
  /** Follow-up prompts, each delivered after `afterPolls` polls answered 204 (default 1). */
  prompts?: Array<{ content: string; done?: boolean; afterPolls?: number }>;
}

/** Faults, armed live on the handle; counts decrement per use. */
export interface OrchestratorFaults {
  /** Next N LLM calls answer this status (default 502) with an error body. */
  llmFailures?: number;
  llmFailureStatus?: number;
  /** Next N POST event calls answer 500. */
  eventFailures?: number;
  /** Next N POST status calls answer 503. */
  statusFailures?: number;
  /** Hold each LLM answer this long (ms) after counting the call. Not a count. */
  holdLlmMs?: number;
  /** Next N prompt polls answer 200 with a body that is not JSON. */
  malformedPrompts?: number;
  /** Next N LLM calls answer 200 with a body that is not JSON. */
  malformedLlm?: number;
  /** Next N GET job calls answer 200 with a body that is not JSON. */
  malformedJobs?: number;
  /** Next N POST complete calls are recorded, then answered 200 with this body (`completeBody`, default empty) instead of JSON. */
  malformedCompletes?: number;
  completeBody?: string;
  /** The `finish_reason` of every LLM answer, instead of the fake LLM's own (`tool_use` / `stop`). Not a count. */
  finishReason?: string;
  /** Next N POST complete calls answer `completeFailureStatus` (default 503) and are not taken (not in `completions`). */
  completeFailures?: number;
  completeFailureStatus?: number;
  /**
   * Slow answers, per route (`job`, `prompt`, `complete`, `status`, `llm`): each entry delays one
   * answer by that many ms, after the request was taken (past the worker's timeout the worker sees a
   * timeout while the orchestrator has acted). Consumed in order.
   */
  slow?: Partial<Record<'job' | 'prompt' | 'complete' | 'status' | 'llm', number[]>>;
  /** Next N GET job answers carry a description of this many bytes (over 1 MiB: a big body is ordinary). */
  bigJobs?: number;
  bigJobBytes?: number;
  /** Every tool call the fake LLM makes has the id `call_1` (ids reused across turns, as an LLM may). Not a count. */
  reuseToolCallIds?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  auth: 'ok' | 'missing' | 'wrong';
  key?: string;
  body?: unknown;
}

export interface IronclawOrchestrator {
  url: string;
  faults: OrchestratorFaults;
  /** Every request, in order. */
  requests: RecordedRequest[];
  /** What the worker reported, per job. */
  statuses(jobId: string): unknown[];
  events(jobId: string): Array<{ event_type: string; data: unknown }>;
  completions(jobId: string): Array<{ success: boolean; message: string | null; iterations: number }>;
  /** Idempotency keys of the LLM calls, in order (a re-sent call repeats its key). */
  llmKeys(jobId: string): string[];
  /** The follow-up prompts answered to the worker's polls, in order (a prompt a killed worker never logged is still here). */
  prompts(jobId: string): Array<{ content: string; done?: boolean }>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const take = (
  faults: OrchestratorFaults,
  key:
    | 'llmFailures'
    | 'eventFailures'
    | 'statusFailures'
    | 'malformedPrompts'
    | 'malformedJobs'
    | 'malformedCompletes'
    | 'malformedLlm'
    | 'completeFailures'
    | 'bigJobs',
) => {
  const n = faults[key] ?? 0;
  if (n > 0) faults[key] = n - 1;
  return n > 0;
};
function readText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => resolve(body));
  });
}

/** The seed's request structs as serde reads them (Option: absent or null; others required; unknown keys ignored). */
const opt = <T extends z.ZodType>(t: T) => t.nullish();
const u32 = z
  .number()
  .int()
  .nonnegative()
  .max(2 ** 32 - 1);
const ChatMessage = z.object({ role: z.string(), content: z.string() });
const CompletionRequest = {
  messages: z.array(ChatMessage),
  model: opt(z.string()),
  max_tokens: opt(u32),
  temperature: opt(z.number()),
  stop_sequences: opt(z.array(z.string())),
};
const BODIES: Record<string, z.ZodType> = {
  'llm/complete': z.object(CompletionRequest),
  'llm/complete_with_tools': z.object({
    ...CompletionRequest,
    tools: z.array(z.object({ name: z.string(), description: z.string(), parameters: z.unknown() })),
    tool_choice: opt(z.string()),
  }),
  status: z.object({ state: z.string(), message: opt(z.string()), iteration: u32 }),
  event: z.object({ event_type: z.string(), data: z.unknown().refine((v) => v !== undefined, 'missing field `data`') }),
  complete: z.object({ success: z.boolean(), message: opt(z.string()), iterations: u32 }),
};

type Msg = { role: string; content: string; tool_call_id?: string; name?: string };

/** Starts the orchestrator on 127.0.0.1 (port 0 by default). */
export async function startIronclawOrchestrator(jobs: OrchestratorJob[], options: { port?: number } = {}): Promise<IronclawOrchestrator> {
  const byId = new Map(jobs.map((j) => [j.jobId, { ...j, polls: 0, promptIndex: 0 }]));
  const faults: OrchestratorFaults = {};
  const requests: RecordedRequest[] = [];
  const per = <T>() => new Map<string, T[]>();
  const statuses = per<unknown>();
  const events = per<{ event_type: string; data: unknown }>();
  const completions = per<{ success: boolean; message: string | null; iterations: number }>();
  const keys = per<string>();
  const delivered = per<{ content: string; done?: boolean }>();
  const push = <T>(m: Map<string, T[]>, id: string, v: T) => m.set(id, [...(m.get(id) ?? []), v]);
  let calls = 0;

  const send = (res: ServerResponse, code: number, body?: unknown) => {
    if (body === undefined) return void res.writeHead(code).end();
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  function llm(body: { messages: Msg[]; tools?: Array<{ name: string }> }, withTools: boolean) {
    const last = body.messages.at(-1)!;
    const usage = { input_tokens: body.messages.reduce((n, m) => n + m.content.length, 0), output_tokens: 12, cache_read_input_tokens: 3 };
    if (withTools && body.tools?.length && last.role === 'user') {
      calls++;
      return {
        content: null,
        tool_calls: [{ id: faults.reuseToolCallIds ? 'call_1' : `call_${calls}`, name: body.tools[0].name, arguments: { query: last.content } }],
        finish_reason: 'tool_use',
        ...usage,
      };
    }
    const content = last.role === 'tool' ? `Done: ${last.content}` : `Answer: ${last.content}`;
    return withTools ? { content, tool_calls: [], finish_reason: 'stop', ...usage } : { content, finish_reason: 'stop', ...usage };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const m = /^\/worker\/([^/]+)\/(.+)$/.exec((req.url ?? '').split('?')[0]);
    const job = m ? byId.get(decodeURIComponent(m[1])) : undefined;
    const path = m?.[2] ?? '';
    const header = req.headers.authorization;
    const auth: RecordedRequest['auth'] = !header ? 'missing' : job && header === `Bearer ${job.token}` ? 'ok' : 'wrong';
    const otherJob = [...byId.values()].some((j) => header === `Bearer ${j.token}`);
    const text = req.method === 'POST' ? await readText(req) : '';
    let body: unknown;
    let syntax = false;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        syntax = true;
      }
    }
    const key = req.headers['idempotency-key'] as string | undefined;
    requests.push({ method: req.method ?? '', path: `${m?.[1] ?? '?'}/${path}`, auth, ...(key ? { key } : {}), ...(body !== undefined ? { body } : {}) });
    if (!m) return send(res, 404, { error: 'not found' });
    if (auth === 'missing') return send(res, 401, { error: 'missing bearer token' });
    if (!job) return send(res, 404, { error: 'unknown job' });
    if (auth === 'wrong') return otherJob ? send(res, 403, { error: 'token not scoped to this job' }) : send(res, 401, { error: 'invalid token' });
    const schema = req.method === 'POST' ? BODIES[path] : undefined;
    if (schema) {
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? ''))
        return send(res, 415, { error: 'Expected request with `Content-Type: application/json`' });
      if (syntax || !text) return send(res, 400, { error: 'Failed to parse the request body as JSON' });
      const r = schema.safeParse(body);
      if (!r.success) return send(res, 422, { error: `Failed to deserialize the JSON body into the target type: ${z.prettifyError(r.error)}` });
    }
    const id = job.jobId;
    const route = path.startsWith('llm/') ? 'llm' : path;
    const delay = faults.slow?.[route as keyof NonNullable<OrchestratorFaults['slow']>]?.shift();
    if (delay) {
      // act now, answer late: the answer (headers and body) leaves when `end` runs
      const end = res.end.bind(res) as (...a: unknown[]) => ServerResponse;
      res.end = ((...a: unknown[]) => {
        setTimeout(() => {
          if (!res.destroyed) end(...a);
        }, delay);
        return res;
      }) as typeof res.end;
    }
    switch (`${req.method} ${path}`) {
      case 'GET job':
        if (take(faults, 'malformedJobs')) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"title":');
        if (take(faults, 'bigJobs'))
          return send(res, 200, { title: job.title, description: 'd'.repeat(faults.bigJobBytes ?? 1.5 * 1024 * 1024), project_dir: null });
        return send(res, 200, { title: job.title, description: job.description, project_dir: job.projectDir ?? null });
      case 'GET credentials': {
        const c = job.credentials ?? 204;
        return typeof c === 'number' ? send(res, c, c === 500 ? { error: 'vault unavailable' } : undefined) : send(res, 200, c);
      }
      case 'POST llm/complete':
      case 'POST llm/complete_with_tools': {
        if (key) push(keys, id, key);
        if (faults.holdLlmMs) await sleep(faults.holdLlmMs);
        if (take(faults, 'llmFailures')) return send(res, faults.llmFailureStatus ?? 502, { error: 'upstream LLM unavailable' });
        if (take(faults, 'malformedLlm')) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"content":');
        const answer = llm(body as never, path.endsWith('with_tools'));
        return send(res, 200, faults.finishReason ? { ...answer, finish_reason: faults.finishReason } : answer);
      }
      case 'POST status':
        if (take(faults, 'statusFailures')) return send(res, 503, { error: 'busy' });
        push(statuses, id, body);
        return send(res, 200, { ok: true });
      case 'POST event':
        if (take(faults, 'eventFailures')) return send(res, 500, { error: 'event store down' });
        push(events, id, body as never);
        return send(res, 200, { ok: true });
      case 'GET prompt': {
        if (take(faults, 'malformedPrompts')) return void res.writeHead(200, { 'content-type': 'application/json' }).end('<html>oops</html>');
        const next = job.prompts?.[job.promptIndex];
        if (!next || ++job.polls <= (next.afterPolls ?? 1)) return send(res, 204);
        job.polls = 0;
        job.promptIndex++;
        push(delivered, id, next);
        return send(res, 200, { content: next.content, ...(next.done ? { done: true } : {}) });
      }
      case 'POST complete':
        if (take(faults, 'completeFailures')) return send(res, faults.completeFailureStatus ?? 503, { error: 'orchestrator busy' });
        push(completions, id, body as never);
        if (take(faults, 'malformedCompletes')) return void res.writeHead(200, { 'content-type': 'text/plain' }).end(faults.completeBody ?? '');
        return send(res, 200, { ok: true });
      default:
        return send(res, 404, { error: 'not found' });
    }
  }

  const server = createServer((req, res) => void handle(req, res).catch(() => send(res, 500, { error: 'internal' })));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    faults,
    requests,
    statuses: (id) => statuses.get(id) ?? [],
    events: (id) => events.get(id) ?? [],
    completions: (id) => completions.get(id) ?? [],
    llmKeys: (id) => keys.get(id) ?? [],
    prompts: (id) => delivered.get(id) ?? [],
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** The options of {@link startIronclawOrchestratorServer}, as JSON: the jobs, and the port (0: a free one). */
export interface IronclawOrchestratorOptions {
  jobs: OrchestratorJob[];
  port?: number;
}

/**
 * Starts the orchestrator from one JSON object: the `start` export examples/server-process.ts
 * runs detached (examples/ironclaw-worker.ts), so the orchestrator outlives a killed worker.
 * @example
 * ```ts
 * const o = await startIronclawOrchestratorServer({ jobs: [{ jobId: 'job-1', token, title: 't', description: 'd' }] });
 * ```
 */
export function startIronclawOrchestratorServer(options: IronclawOrchestratorOptions): Promise<IronclawOrchestrator> {
  return startIronclawOrchestrator(options.jobs, { port: options.port });
}

/** Runs the orchestrator as its own process with one job from the environment (IRONCLAW_JOB_ID, IRONCLAW_WORKER_TOKEN, PORT). */
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const jobId = process.env.IRONCLAW_JOB_ID ?? 'job-1';
  const o = await startIronclawOrchestrator(
    [
      {
        jobId,
        token: process.env.IRONCLAW_WORKER_TOKEN ?? 'dev-token',
        title: 'Example job',
        description: 'Look something up, then answer.',
        prompts: [{ content: 'Now summarise it in one line.' }, { content: '', done: true }],
      },
    ],
    { port: Number(process.env.PORT ?? 0) },
  );
  console.log(`ironclaw orchestrator listening on ${o.url} (job ${jobId})`);
}

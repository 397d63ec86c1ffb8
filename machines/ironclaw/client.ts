import { request, type Dispatcher } from 'undici';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { z } from 'zod';
import { ActorlogError, type ErrorCode } from '../../src/errors.ts';
import { decodeJson } from '../../src/transport/boundedJson.ts';
import { watchCall } from '../../src/transport/callWatch.ts';
import { invalidPayload, isTransientStatus, keepRaw, networkError } from '../../src/transport/classify.ts';
import { readBodyText } from '../../src/transport/readBody.ts';
import { retryAfterOf } from '../../src/transport/retryAfter.ts';
import {
  CredentialsSchema,
  JobDescriptionSchema,
  PromptResponseSchema,
  ProxyCompletionResponseSchema,
  ProxyToolCompletionResponseSchema,
  type ChatMessage,
  type CompletionReport,
  type Credential,
  type JobDescription,
  type JobEventPayload,
  type StatusUpdate,
  type ToolDefinition,
} from './schemas.ts';

/** The worker's error kinds (seed 002 `WorkerError`), kept in `details.kind` and at the start of the message. */
export type WorkerErrorKind = 'MissingToken' | 'ConnectionFailed' | 'OrchestratorRejected' | 'LlmProxyFailed' | 'SecretResolveFailed';

/** Options of {@link createWorkerClient}. The token stays in this closure: never in an error, event or log. */
export interface WorkerClientOptions {
  /** The orchestrator's base URL, e.g. `http://host.docker.internal:50051` (a trailing `/` is trimmed). */
  orchestratorUrl: string;
  /** The one job this worker (and its token) is scoped to. */
  jobId: string;
  /**
   * The job-scoped bearer token; an empty one is refused (`MissingToken`) as an unset one is.
   * @default process.env.IRONCLAW_WORKER_TOKEN ({@link workerTokenFromEnv})
   */
  token?: string;
  dispatcher?: Dispatcher;
  /**
   * The overall deadline of a request, ms, from the request to the last byte of the answer (a
   * dripping answer does not extend it); past it the call fails `TRANSIENT` (`details.cause`
   * `timeout`). Unset, a request waits as long as the orchestrator takes: seed 002 builds its client
   * with `reqwest::Client::new()`, which has no request timeout (undici's own 300 s header and body
   * timeouts are turned off too).
   * @default none
   */
  requestTimeoutMs?: number;
  /** The deadline's scheduler (tests pass a `VirtualTimeScheduler`). @default asyncScheduler */
  scheduler?: SchedulerLike;
  /**
   * The largest answer read, bytes. A job description, an LLM answer or a prompt over it is
   * `INVALID_PAYLOAD` saying so (recorded as `worker.invalid`), read no further. The seed reads any
   * size (reqwest's `.json()`); a bound keeps one answer from filling memory and the log.
   * @default 67108864 (64 MiB: big LLM answers and job descriptions are ordinary)
   */
  maxBodyBytes?: number;
}

/** The default {@link WorkerClientOptions.maxBodyBytes}: 64 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** An LLM request as the worker sends it (seed 002 `ProxyCompletionRequest`; with `tools`, `ProxyToolCompletionRequest`). */
export interface LlmRequest {
  messages: ChatMessage[];
  /** Only sent by {@link WorkerClient.completeWithTools} (seed 002 `ProxyToolCompletionRequest.tools`, possibly empty). */
  tools?: ToolDefinition[];
  model?: string;
  max_tokens?: number;
  temperature?: number;
  stop_sequences?: string[];
  tool_choice?: string;
}

/** An LLM answer, both endpoints alike (`tool_calls` empty for llm/complete). */
export type LlmResponse = z.infer<typeof ProxyToolCompletionResponseSchema>;

/** The worker's HTTP client to its orchestrator: every path is `/worker/{jobId}/…` with `Authorization: Bearer <token>`. */
export interface WorkerClient {
  readonly jobId: string;
  /** GET job. @throws OrchestratorRejected (non-2xx: 401/403 `PERMANENT`, 5xx `TRANSIENT`), ConnectionFailed (`TRANSIENT`), LlmProxyFailed (`INVALID_PAYLOAD`: the seed's `get_json` reports a body that does not parse so) */
  getJob(signal?: AbortSignal): Promise<JobDescription>;
  /**
   * POST llm/complete (seed 002 `llm_complete`): `messages`, `model`, `max_tokens`, `temperature`,
   * `stop_sequences`; tools are never sent. `key` goes in `Idempotency-Key`.
   * @throws LlmProxyFailed (network, non-2xx; `INVALID_PAYLOAD` when the answer does not parse)
   */
  complete(req: LlmRequest, options?: { key?: string; signal?: AbortSignal }): Promise<LlmResponse>;
  /**
   * POST llm/complete_with_tools (seed 002 `llm_complete_with_tools`): the request with its `tools`
   * (`[]` when none) and `tool_choice`. The caller picks this call or {@link complete}, as in the seed.
   * @throws LlmProxyFailed (network, non-2xx; `INVALID_PAYLOAD` when the answer does not parse)
   */
  completeWithTools(req: LlmRequest, options?: { key?: string; signal?: AbortSignal }): Promise<LlmResponse>;
  /** POST status: a non-2xx answer is returned, not thrown (seed 002 only warns). @throws ConnectionFailed */
  reportStatus(update: StatusUpdate, signal?: AbortSignal): Promise<{ ok: boolean; status: number }>;
  /** POST event, fire-and-forget: never throws; says what happened (seed 002 `post_event` logs at debug). */
  postEvent(payload: JobEventPayload, signal?: AbortSignal): Promise<{ ok: boolean; status?: number; error?: string }>;
  /** GET prompt: `null` on 204 (nothing yet). @throws OrchestratorRejected (non-2xx), ConnectionFailed, LlmProxyFailed (`INVALID_PAYLOAD`: "failed to parse prompt response") */
  pollPrompt(signal?: AbortSignal): Promise<{ content: string; done: boolean } | null>;
  /** GET credentials: `[]` on 204 or 404 (none granted). @throws SecretResolveFailed (other non-2xx, or a body that does not parse: its raw text, full of secrets, is never kept) */
  fetchCredentials(signal?: AbortSignal): Promise<Credential[]>;
  /** POST complete; the answer must be JSON (seed 002 `report_complete` reads it as a `serde_json::Value`). @throws LlmProxyFailed (network, non-2xx; `INVALID_PAYLOAD` when the answer is not JSON) */
  reportComplete(report: CompletionReport, options?: { key?: string; signal?: AbortSignal }): Promise<void>;
}

/**
 * The worker's bearer token from `IRONCLAW_WORKER_TOKEN` (seed 002 `WorkerHttpClient::from_env`).
 * Unset is `MissingToken`, as in the seed. Empty is `MissingToken` too, where the seed's
 * `std::env::var` would accept `""` and send `Authorization: Bearer ` for the orchestrator to refuse
 * (401) on the first call: refused here before any I/O, with what is wrong.
 * @throws ActorlogError `INVALID_OPTIONS` with `details.kind: 'MissingToken'` when unset or empty
 * @example
 * ```ts
 * const token = workerTokenFromEnv();   // the container's IRONCLAW_WORKER_TOKEN
 * ```
 */
export function workerTokenFromEnv(env: Record<string, string | undefined> = process.env): string {
  return checkToken(env.IRONCLAW_WORKER_TOKEN, 'IRONCLAW_WORKER_TOKEN');
}

/** `token`, or `MissingToken` when it is undefined or empty (`where` names its source in the message). */
function checkToken(token: string | undefined, where: string): string {
  if (token === undefined) throw new ActorlogError('INVALID_OPTIONS', `MissingToken: ${where} is not set`, { details: { kind: 'MissingToken' } });
  if (token === '')
    throw new ActorlogError('INVALID_OPTIONS', `MissingToken: ${where} is empty (the orchestrator would refuse "Bearer " with 401)`, {
      details: { kind: 'MissingToken', empty: true },
    });
  return token;
}

function workerError(kind: WorkerErrorKind, code: ErrorCode, message: string, details: Record<string, unknown> = {}, cause?: unknown): ActorlogError {
  return new ActorlogError(code, `${kind}: ${message}`, { cause, details: { kind, ...details } });
}
const statusCode = (status: number): ErrorCode => (isTransientStatus(status) ? 'TRANSIENT' : 'PERMANENT');

/**
 * Creates the worker's client (seed 002 `WorkerHttpClient`) over undici. Errors keep the seed's
 * kinds (`details.kind`, message prefix) and the shared classification (src/transport/classify.ts):
 * network failures and 5xx/429/408 are `TRANSIENT`, other statuses `PERMANENT`, bodies that fail
 * their schema `INVALID_PAYLOAD` (raw <= 4 KiB, except credentials, whose raw text is dropped).
 *
 * @throws ActorlogError `INVALID_OPTIONS` (MissingToken) when no token is given nor in the environment, or it is empty
 * @example
 * ```ts
 * const client = createWorkerClient({ orchestratorUrl: 'http://127.0.0.1:50051', jobId });   // token from IRONCLAW_WORKER_TOKEN
 * const job = await client.getJob();
 * const prompt = await client.pollPrompt();      // null: nothing yet (204)
 * ```
 */
export function createWorkerClient(options: WorkerClientOptions): WorkerClient {
  const token = options.token === undefined ? workerTokenFromEnv() : checkToken(options.token, 'the token option');
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const base = `${options.orchestratorUrl.replace(/\/+$/, '')}/worker/${encodeURIComponent(options.jobId)}/`;
  const timeoutMs = options.requestTimeoutMs ?? Infinity; // none (seed 002: reqwest::Client::new())
  const jobId = options.jobId;

  /** One request under the overall deadline; the answer read within `maxBodyBytes` (over it: `INVALID_PAYLOAD`, too-large). */
  async function send(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) {
    const label = `ironclaw ${method} ${path}`;
    const watch = watchCall(label, { timeoutMs }, options.scheduler ?? asyncScheduler, signal);
    try {
      const res = await request(base + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: watch.signal,
        dispatcher: options.dispatcher,
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      const raw = await readBodyText(res.body, { label, maxBytes: maxBodyBytes });
      return { status: res.statusCode, raw, retryAfterMs: retryAfterOf(res.statusCode, res.headers) };
    } catch (err) {
      throw watch.error(err);
    } finally {
      watch.stop();
    }
  }
  /**
   * A failed send with the seed's kind: network failures and deadlines `TRANSIENT`; an answer over
   * `maxBodyBytes` stays `INVALID_PAYLOAD` (recorded as `worker.invalid`) with the kind the seed
   * gives an answer it cannot parse, `LlmProxyFailed`.
   */
  const transport = (label: string, kind: WorkerErrorKind, err: unknown) => {
    const e = networkError(label, err);
    if (e.code === 'ABORTED') return e;
    if (e.code === 'INVALID_PAYLOAD')
      return new ActorlogError('INVALID_PAYLOAD', `LlmProxyFailed: ${label}: failed to parse response: ${e.details?.error as string}`, {
        details: { ...e.details, kind: 'LlmProxyFailed' },
      });
    return workerError(kind, 'TRANSIENT', e.message, e.details, err);
  };
  /** The details of a status error: the status, and a 429/503's `Retry-After`. */
  const statusDetails = (r: { status: number; retryAfterMs?: number }) => ({
    status: r.status,
    ...(r.retryAfterMs === undefined ? {} : { retryAfterMs: r.retryAfterMs }),
  });
  /** A body that does not parse: `INVALID_PAYLOAD` (invariant 6) with the seed's kind and message, `<kind>: <what>: <reason>`. */
  const parse = <T>(what: string, raw: string, schema: z.ZodType<T>, kind: WorkerErrorKind = 'LlmProxyFailed'): T => {
    const fail = (reason: string) => {
      const e = invalidPayload(`ironclaw ${what}`, raw, reason);
      return new ActorlogError('INVALID_PAYLOAD', `${kind}: ${what}: ${e.details?.error as string}`, { details: { kind, ...e.details } });
    };
    const decoded = decodeJson(raw, schema, { maxBytes: maxBodyBytes }); // the shared decoder: bounded, then the schema
    if (!decoded.ok) throw fail(decoded.error);
    return decoded.value;
  };
  const ok = (status: number) => status >= 200 && status < 300;
  /** POST one of the two LLM endpoints (seed 002 `post_json`): every failure is `LlmProxyFailed`. */
  async function llm<T extends z.ZodType>(
    path: string,
    label: string,
    body: unknown,
    schema: T,
    o: { key?: string; signal?: AbortSignal },
  ): Promise<LlmResponse> {
    let r;
    try {
      r = await send('POST', path, body, o.key ? { 'idempotency-key': o.key } : {}, o.signal);
    } catch (err) {
      throw transport(label, 'LlmProxyFailed', err);
    }
    if (!ok(r.status))
      throw workerError(
        'LlmProxyFailed',
        statusCode(r.status),
        `${label}: orchestrator returned ${r.status}: ${keepRaw(r.raw).slice(0, 300)}`,
        statusDetails(r),
      );
    const answer = parse(`${label}: failed to parse response`, r.raw, schema) as
      z.infer<typeof ProxyToolCompletionResponseSchema> | z.infer<typeof ProxyCompletionResponseSchema>;
    return { tool_calls: [], ...answer };
  }

  return {
    jobId,
    async getJob(signal) {
      let r;
      try {
        r = await send('GET', 'job', undefined, {}, signal);
      } catch (err) {
        throw transport('GET /job', 'ConnectionFailed', err);
      }
      if (!ok(r.status)) throw workerError('OrchestratorRejected', statusCode(r.status), `GET /job returned ${r.status} (job ${jobId})`, statusDetails(r));
      const job = parse('GET /job: failed to parse response', r.raw, JobDescriptionSchema);
      return { title: job.title, description: job.description, ...(job.project_dir ? { projectDir: job.project_dir } : {}) };
    },
    complete: (req, o = {}) =>
      llm(
        'llm/complete',
        'LLM complete',
        {
          messages: req.messages,
          model: req.model,
          max_tokens: req.max_tokens,
          temperature: req.temperature,
          stop_sequences: req.stop_sequences,
        },
        ProxyCompletionResponseSchema,
        o,
      ),
    completeWithTools: (req, o = {}) =>
      llm(
        'llm/complete_with_tools',
        'LLM tool complete',
        {
          messages: req.messages,
          tools: req.tools ?? [],
          model: req.model,
          max_tokens: req.max_tokens,
          temperature: req.temperature,
          stop_sequences: req.stop_sequences,
          tool_choice: req.tool_choice,
        },
        ProxyToolCompletionResponseSchema,
        o,
      ),
    async reportStatus(update, signal) {
      let r;
      try {
        r = await send('POST', 'status', update, {}, signal);
      } catch (err) {
        throw transport('POST /status', 'ConnectionFailed', err);
      }
      return { ok: ok(r.status), status: r.status };
    },
    async postEvent(payload, signal) {
      try {
        const r = await send('POST', 'event', payload, {}, signal);
        return ok(r.status) ? { ok: true, status: r.status } : { ok: false, status: r.status, error: `job event POST rejected: ${r.status}` };
      } catch (err) {
        return { ok: false, error: `job event POST failed: ${networkError('POST /event', err).message}` };
      }
    },
    async pollPrompt(signal) {
      let r;
      try {
        r = await send('GET', 'prompt', undefined, {}, signal);
      } catch (err) {
        throw transport('GET /prompt', 'ConnectionFailed', err);
      }
      if (r.status === 204) return null;
      if (!ok(r.status))
        throw workerError('OrchestratorRejected', statusCode(r.status), `prompt endpoint returned ${r.status} (job ${jobId})`, statusDetails(r));
      return parse('GET /prompt: failed to parse prompt response', r.raw, PromptResponseSchema);
    },
    async fetchCredentials(signal) {
      let r;
      try {
        r = await send('GET', 'credentials', undefined, {}, signal);
      } catch (err) {
        const e = transport('GET /credentials', 'ConnectionFailed', err);
        // an answer over maxBodyBytes: its first bytes are secrets, never kept
        if (e.code === 'INVALID_PAYLOAD')
          throw workerError(
            'SecretResolveFailed',
            'INVALID_PAYLOAD',
            `(all): credentials answer over maxBodyBytes ${maxBodyBytes} (body not kept: it holds secrets)`,
            { which: '(all)' },
          );
        throw e;
      }
      if (r.status === 204 || r.status === 404) return [];
      if (!ok(r.status))
        throw workerError('SecretResolveFailed', statusCode(r.status), `(all): credentials endpoint returned ${r.status}`, {
          ...statusDetails(r),
          which: '(all)',
        });
      const decoded = decodeJson(r.raw, CredentialsSchema, { maxBytes: maxBodyBytes });
      if (!decoded.ok)
        throw workerError('SecretResolveFailed', 'PERMANENT', '(all): failed to parse credentials response (body not kept: it holds secrets)', {
          which: '(all)',
        });
      return decoded.value;
    },
    async reportComplete(report, o = {}) {
      let r;
      try {
        r = await send('POST', 'complete', report, o.key ? { 'idempotency-key': o.key } : {}, o.signal);
      } catch (err) {
        throw transport('report complete', 'LlmProxyFailed', err);
      }
      if (!ok(r.status))
        throw workerError(
          'LlmProxyFailed',
          statusCode(r.status),
          `report complete: orchestrator returned ${r.status}: ${keepRaw(r.raw).slice(0, 300)}`,
          statusDetails(r),
        );
      parse('report complete: failed to parse response', r.raw, z.json());
    },
  };
}

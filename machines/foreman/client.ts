import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { ActorlogError } from '../../src/errors.ts';
import { httpStatusError, invalidPayload, networkError } from '../../src/transport/classify.ts';
import {
  ForemanEmbedResponseSchema, ForemanErrorBodySchema, ForemanJobStatusSchema, ForemanSubmitResponseSchema, ForemanTagsSchema,
  type ForemanEmbedRequest, type ForemanEmbedResponse, type ForemanJobStatus, type ForemanModelInfo, type ForemanSubmitRequest,
} from './schemas.ts';
import { parseJson } from '../../src/transport/boundedJson.ts';

/** Options of {@link createForemanClient}. The token stays in this closure: never in an error, event or log. */
export interface ForemanClientOptions {
  /** The daemon's base URL, e.g. `http://127.0.0.1:8080` (a trailing `/` is trimmed). */
  url: string;
  /** Static bearer token (seed 000 `WithToken`, foreman ADR-0010): sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** An undici dispatcher (seed 000 `WithHTTPClient`); the global one when omitted. */
  dispatcher?: Dispatcher;
  /**
   * Per-request limit for headers and for body silence, ms. Omitted: none (undici's 300 s limits
   * are turned off too), as seed 000's `http.Client{Timeout: 0}`: a request ends when it is
   * answered or its job is canceled.
   */
  requestTimeoutMs?: number;
}

/** Per-call options: an AbortSignal ends the call with code ABORTED. */
export interface ForemanCallOptions { signal?: AbortSignal }

/** A submit on the wire: the caller's request plus where to push state changes. */
export interface ForemanJobSubmission extends ForemanSubmitRequest {
  /** foreman POSTs each state change of the job here (seed 000 `jobSubmitRequest.StateWebhookURL`). */
  state_webhook_url?: string;
}

/** A small client of a foreman daemon's HTTP API. Every failure is an {@link ActorlogError}. */
export interface ForemanClient {
  /**
   * POST /jobs -> 202 `{job_id}` (seed 000 `postJob`). `idempotencyKey` goes in the `Idempotency-Key`
   * header (not in the seed: a daemon that honours it never creates the job twice when a crashed caller re-sends).
   * @throws `TRANSIENT` (network, 5xx, 429, 408), `PERMANENT` (other non-202, e.g. 401 bad token, 400 no model; `details.status`, `details.serverError`), `INVALID_PAYLOAD`, `ABORTED`
   */
  submitJob(job: ForemanJobSubmission, options?: ForemanCallOptions & { idempotencyKey?: string }): Promise<string>;
  /** GET /jobs/{id} (seed 000 `getJobStatus`). @throws as {@link submitJob}; 404 unknown job is `PERMANENT` */
  getJob(jobId: string, options?: ForemanCallOptions): Promise<ForemanJobStatus>;
  /** GET /api/tags: the installed models (seed 000 `Tags`). */
  tags(options?: ForemanCallOptions): Promise<ForemanModelInfo[]>;
  /** POST /api/embed: embeddings, which bypass the job queue (seed 000 `Embed`, foreman ADR-0013). */
  embed(req: ForemanEmbedRequest, options?: ForemanCallOptions): Promise<ForemanEmbedResponse>;
}

function parse<T>(label: string, raw: string, schema: z.ZodType<T>): T {
  let json: unknown;
  const parsed = parseJson(raw); // bounded: depth and size (binding kit)
  if (!parsed.ok) throw invalidPayload(label, raw, parsed.error);
  json = parsed.value;
  const result = schema.safeParse(json);
  if (!result.success) throw invalidPayload(label, raw, z.prettifyError(result.error));
  return result.data;
}

/** A non-expected status as TRANSIENT/PERMANENT (src/transport/classify.ts) with the body's `error` text, as the seed reports it. */
function statusError(label: string, status: number, raw: string): ActorlogError {
  let serverError = '';
  try { serverError = ForemanErrorBodySchema.parse(JSON.parse(raw)).error.slice(0, 500); } catch { /* not an error body */ }
  const base = httpStatusError(label, status);
  return new ActorlogError(base.code, serverError ? `${base.message}: ${serverError}` : base.message, { details: { ...base.details, ...(serverError ? { serverError } : {}) } });
}

/**
 * Creates a foreman client over undici. Failures are classified once (src/transport/classify.ts):
 * network, 5xx, 429, 408 -> `TRANSIENT`; other unexpected statuses -> `PERMANENT` (`details.status`,
 * and the server's `error` text in the message, as seed 000 formats `POST /jobs returned 401: …`);
 * a body that is not JSON or fails its schema -> `INVALID_PAYLOAD` (`details.raw` <= 4 KiB).
 *
 * @example
 * ```ts
 * const foreman = createForemanClient({ url: 'http://127.0.0.1:8080', token: process.env.FOREMAN_TOKEN });
 * const models = await foreman.tags();
 * const { embeddings } = await foreman.embed({ model: 'nomic-embed-text', input: ['hello'] });
 * ```
 */
export function createForemanClient(options: ForemanClientOptions): ForemanClient {
  const base = options.url.replace(/\/+$/, '');
  const timeout = options.requestTimeoutMs ?? 0; // 0: no limit (undici)
  const auth: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};

  async function call<T>(method: 'GET' | 'POST', path: string, expected: number, schema: z.ZodType<T>, body: unknown, o: ForemanCallOptions & { headers?: Record<string, string> } = {}): Promise<T> {
    const label = `foreman ${method} ${path.replace(/\/jobs\/.+/, '/jobs/{id}')}`;
    let res: Dispatcher.ResponseData;
    let raw: string;
    try {
      res = await request(base + path, {
        method,
        headers: { accept: 'application/json', ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: o.signal,
        dispatcher: options.dispatcher,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      raw = await res.body.text();
    } catch (err) { throw networkError(label, err); }
    if (res.statusCode !== expected) throw statusError(label, res.statusCode, raw);
    return parse(label, raw, schema);
  }

  return {
    async submitJob(job, o = {}) {
      const headers = o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : undefined;
      return (await call('POST', '/jobs', 202, ForemanSubmitResponseSchema, job, { signal: o.signal, headers })).job_id;
    },
    getJob: (jobId, o) => call('GET', `/jobs/${encodeURIComponent(jobId)}`, 200, ForemanJobStatusSchema, undefined, o),
    async tags(o) {
      return (await call('GET', '/api/tags', 200, ForemanTagsSchema, undefined, o)).models ?? [];
    },
    async embed(req, o) {
      const res = await call('POST', '/api/embed', 200, ForemanEmbedResponseSchema, req, o);
      return { ...(res.model ? { model: res.model } : {}), embeddings: res.embeddings ?? [] };
    },
  };
}

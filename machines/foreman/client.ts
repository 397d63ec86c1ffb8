import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { ActorlogError } from '../../src/errors.ts';
import { decodeJson } from '../../src/transport/boundedJson.ts';
import { watchCall } from '../../src/transport/callWatch.ts';
import { httpStatusError, invalidPayload } from '../../src/transport/classify.ts';
import { unlessNotDelivered } from '../../src/transport/outcome.ts';
import { readBodyText } from '../../src/transport/readBody.ts';
import {
  ForemanEmbedResponseSchema,
  ForemanErrorBodySchema,
  ForemanJobStatusSchema,
  ForemanSubmitResponseSchema,
  ForemanTagsSchema,
  type ForemanEmbedRequest,
  type ForemanEmbedResponse,
  type ForemanJobStatus,
  type ForemanModelInfo,
  type ForemanSubmitRequest,
} from './schemas.ts';

/**
 * The largest foreman answer or webhook body read, bytes (128 MiB): a job status carries the
 * result and artifacts inline as base64 (seed 000 `Artifact.Data`), easily past 1 MiB; a 50 MiB
 * artifact is 67 MiB of base64.
 */
export const FOREMAN_MAX_BODY_BYTES = 128 * 1024 * 1024;

/** Options of {@link createForemanClient}. The token stays in this closure: never in an error, event or log. */
export interface ForemanClientOptions {
  /** The daemon's base URL, e.g. `http://127.0.0.1:8080` (a trailing `/` is trimmed). */
  url: string;
  /** Static bearer token (seed 000 `WithToken`, foreman ADR-0010): sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** An undici dispatcher (seed 000 `WithHTTPClient`); the global one when omitted. */
  dispatcher?: Dispatcher;
  /**
   * The overall deadline of one request, ms: from the request to the last byte of the answer, as
   * Go's `http.Client.Timeout` (a body that drips does not extend it); past it the call fails
   * `TRANSIENT` with `details.cause` `timeout`. Omitted: none (undici's 300 s limits are off too),
   * as seed 000's `http.Client{Timeout: 0}`: a request ends when it is answered or its job is canceled.
   */
  requestTimeoutMs?: number;
  /**
   * The largest answer read, bytes; a larger one ends the call `INVALID_PAYLOAD` (recorded as
   * `job.invalid` by the binding). @default {@link FOREMAN_MAX_BODY_BYTES} (128 MiB)
   */
  maxBodyBytes?: number;
  /**
   * The daemon answers a repeated `Idempotency-Key` with the first job (seed 000's does not: it
   * ignores the header). When true, a POST /jobs whose answer was lost is `TRANSIENT` (safe to
   * re-send); otherwise it is `OUTCOME_UNKNOWN` and never re-sent. @default false
   */
  honoursIdempotencyKey?: boolean;
  /** The scheduler of `requestTimeoutMs` (tests pass a `VirtualTimeScheduler`). @default asyncScheduler */
  scheduler?: SchedulerLike;
}

/** Per-call options: an AbortSignal ends the call with code ABORTED. */
export interface ForemanCallOptions {
  signal?: AbortSignal;
}

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
   * Not idempotent on a daemon like the seed's: when the request may have reached the daemon but
   * its answer was lost (connection reset, a timeout, 500/502/504) the call fails `OUTCOME_UNKNOWN`
   * (`details.lostAnswer`), never `TRANSIENT`, unless `honoursIdempotencyKey` (then a re-send is safe).
   * @throws `TRANSIENT` (refused, 408, 429, 503: never reached the daemon), `OUTCOME_UNKNOWN`, `PERMANENT` (other non-202, e.g. 401 bad token, 400 no model; `details.status`, `details.serverError`), `INVALID_PAYLOAD`, `ABORTED`
   */
  submitJob(job: ForemanJobSubmission, options?: ForemanCallOptions & { idempotencyKey?: string }): Promise<string>;
  /** GET /jobs/{id} (seed 000 `getJobStatus`). @throws as {@link submitJob}; 404 unknown job is `PERMANENT` */
  getJob(jobId: string, options?: ForemanCallOptions): Promise<ForemanJobStatus>;
  /** GET /api/tags: the installed models (seed 000 `Tags`). */
  tags(options?: ForemanCallOptions): Promise<ForemanModelInfo[]>;
  /** POST /api/embed: embeddings, which bypass the job queue (seed 000 `Embed`, foreman ADR-0013). */
  embed(req: ForemanEmbedRequest, options?: ForemanCallOptions): Promise<ForemanEmbedResponse>;
}

/** A non-expected status as TRANSIENT/PERMANENT (src/transport/classify.ts) with the body's `error` text, as the seed reports it, and a 429/503's Retry-After. */
function statusError(label: string, status: number, raw: string, headers: Record<string, string | string[] | undefined>): ActorlogError {
  const body = decodeJson(raw, ForemanErrorBodySchema, { maxBytes: 64 * 1024 });
  const serverError = body.ok ? body.value.error.slice(0, 500) : '';
  const base = httpStatusError(label, status, {}, headers);
  return new ActorlogError(base.code, serverError ? `${base.message}: ${serverError}` : base.message, {
    details: { ...base.details, ...(serverError ? { serverError } : {}) },
  });
}

/**
 * Creates a foreman client over undici. Failures are classified once (src/transport/classify.ts):
 * network, 5xx, 429, 408 -> `TRANSIENT`; other unexpected statuses -> `PERMANENT` (`details.status`,
 * and the server's `error` text in the message, as seed 000 formats `POST /jobs returned 401: …`);
 * a body that is not JSON, fails its schema or is over `maxBodyBytes` (128 MiB) -> `INVALID_PAYLOAD`
 * (`details.raw` <= 4 KiB); a 429/503's `Retry-After` -> `details.retryAfterMs`; past
 * `requestTimeoutMs` (none by default) -> `TRANSIENT` `details.cause` `timeout`.
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
  const limits = { timeoutMs: options.requestTimeoutMs ?? Infinity };
  const maxBytes = options.maxBodyBytes ?? FOREMAN_MAX_BODY_BYTES;
  const scheduler = options.scheduler ?? asyncScheduler;
  const auth: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};

  async function call<T>(
    method: 'GET' | 'POST',
    path: string,
    expected: number,
    schema: z.ZodType<T>,
    body: unknown,
    o: ForemanCallOptions & { headers?: Record<string, string> } = {},
  ): Promise<T> {
    const label = `foreman ${method} ${path.replace(/\/jobs\/.+/, '/jobs/{id}')}`;
    const watch = watchCall(label, limits, scheduler, o.signal);
    let res: Dispatcher.ResponseData;
    let raw: string;
    try {
      res = await request(base + path, {
        method,
        headers: { accept: 'application/json', ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: watch.signal,
        dispatcher: options.dispatcher,
        headersTimeout: 0, // the deadline bounds the whole call
        bodyTimeout: 0,
      });
      watch.answered();
      raw = await readBodyText(res.body, { label, maxBytes: res.statusCode === expected ? maxBytes : 64 * 1024 }).catch((err: unknown) => {
        if (res.statusCode !== expected && (err as ActorlogError).code === 'INVALID_PAYLOAD') return ''; // an error page too long to quote: the status says enough
        throw err;
      });
    } catch (err) {
      throw watch.error(err);
    } finally {
      watch.stop();
    }
    if (res.statusCode !== expected) throw statusError(label, res.statusCode, raw, res.headers);
    const decoded = decodeJson(raw, schema, { maxBytes }); // bounded JSON, then the schema (binding kit)
    if (!decoded.ok) throw invalidPayload(label, raw, decoded.error);
    return decoded.value;
  }

  return {
    async submitJob(job, o = {}) {
      const headers = o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : undefined;
      try {
        return (await call('POST', '/jobs', 202, ForemanSubmitResponseSchema, job, { signal: o.signal, headers })).job_id;
      } catch (err) {
        // A lost answer after the request was written: the daemon may hold the job (seed 000 ignores Idempotency-Key).
        if (options.honoursIdempotencyKey) throw err;
        throw unlessNotDelivered(
          'foreman POST /jobs',
          err,
          o.idempotencyKey ? { idempotencyKey: o.idempotencyKey, remoteMayHoldJob: true } : { remoteMayHoldJob: true },
        );
      }
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

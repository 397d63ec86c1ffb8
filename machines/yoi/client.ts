import type { Dispatcher } from 'undici';
import type { SchedulerLike } from 'rxjs';
import type { z } from 'zod';
import { invalidPayload } from '../../src/transport/classify.ts';
import { decodeJson } from '../../src/transport/boundedJson.ts';
import { requestText } from '../../src/sources/poll/http.ts';
import { OperationResultSchema, TranscriptSchema, type YoiOperationResult, type YoiTranscript } from './schemas.ts';
import { transcriptUrl, workerApiUrl, type YoiTarget } from './target.ts';

/** The default {@link YoiClientOptions.maxBodyBytes}: 64 MiB (a worker's transcript is easily over 1 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Options of {@link createYoiClient}. `headers` may carry secrets (authorization): they stay in this closure. */
export interface YoiClientOptions {
  headers?: Record<string, string>;
  dispatcher?: Dispatcher;
  /**
   * The overall deadline of a command (input, cancel, stop), ms, from the request to the last byte
   * of the answer. Seed 004's client waits for the answer (`reqwest::Client::new()` has no timeout),
   * so by default there is none. A command that outlasts it has an unknown outcome.
   * @default Infinity (none)
   */
  commandTimeoutMs?: number;
  /** The overall deadline of the transcript GET, ms; past it the observation starts without it ("transcript unavailable"). @default 30000 */
  transcriptTimeoutMs?: number;
  /** The largest answer read, bytes; one over it is `INVALID_PAYLOAD` saying so. @default 67108864 (64 MiB) */
  maxBodyBytes?: number;
  /** The scheduler of the deadlines (tests pass a `VirtualTimeScheduler`). @default asyncScheduler */
  scheduler?: SchedulerLike;
}

/** Per-call options. `idempotencyKey` is sent as the `Idempotency-Key` header, so a re-sent command is recognisable. */
export interface YoiCallOptions {
  signal?: AbortSignal;
  idempotencyKey?: string;
}

/**
 * The Workspace Backend API calls of a yoi connection (seed 004). Failures are ActorlogErrors:
 * `TRANSIENT` / `PERMANENT` (HTTP status, network, a deadline passed: `details.cause` `timeout`)
 * from the shared classification, and `INVALID_PAYLOAD` for an answer that is not JSON, fails its
 * schema or is over `maxBodyBytes` (the seed's "could not be decoded").
 */
export interface YoiClient {
  /** GET …/transcript?start=0&limit=512. */
  transcript(target: YoiTarget, options?: YoiCallOptions): Promise<YoiTranscript>;
  /** POST …/input `{ kind, content }`. */
  input(target: YoiTarget, body: { kind: 'user' | 'system'; content: string }, options?: YoiCallOptions): Promise<YoiOperationResult>;
  /** POST …/cancel or …/stop `{ reason }`. */
  lifecycle(target: YoiTarget, action: 'cancel' | 'stop', reason: string | null, options?: YoiCallOptions): Promise<YoiOperationResult>;
}

/**
 * Creates the yoi Backend Runtime API client over undici: each answer read within `maxBodyBytes`
 * and decoded by the shared decoder (`decodeJson`); commands without a deadline unless
 * `commandTimeoutMs` sets one.
 * @example
 * ```ts
 * const yoi = createYoiClient({ headers: { authorization: `Bearer ${token}` } });
 * const transcript = await yoi.transcript({ baseUrl, runtimeId: 'r1', workerId: 'w1' });
 * ```
 */
export function createYoiClient(options: YoiClientOptions = {}): YoiClient {
  const maxBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const call = async <T>(label: string, url: string, schema: z.ZodType<T>, body: unknown, timeoutMs: number, o: YoiCallOptions = {}): Promise<T> => {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (o.idempotencyKey) headers['idempotency-key'] = o.idempotencyKey;
    // one byte over the bound is read, so an answer over it is told apart from one at it (decodeJson says "too large")
    const res = await requestText(
      label,
      { url, method: body === undefined ? 'GET' : 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) },
      {
        signal: o.signal,
        dispatcher: options.dispatcher,
        timeoutMs,
        maxBytes: maxBytes + 1,
        ...(options.scheduler ? { scheduler: options.scheduler } : {}),
      },
    );
    const decoded = decodeJson(res.text, schema, { maxBytes });
    if (!decoded.ok) throw invalidPayload(label, decoded.raw, decoded.error);
    return decoded.value;
  };
  const command = options.commandTimeoutMs ?? Infinity;
  return {
    transcript: (target, o) => call('yoi transcript', transcriptUrl(target), TranscriptSchema, undefined, options.transcriptTimeoutMs ?? 30_000, o),
    input: (target, body, o) => call('yoi input', workerApiUrl(target, 'input'), OperationResultSchema, body, command, o),
    lifecycle: (target, action, reason, o) => call(`yoi ${action}`, workerApiUrl(target, action), OperationResultSchema, { reason }, command, o),
  };
}

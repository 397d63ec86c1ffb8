import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { invalidPayload } from '../../src/transport/classify.ts';
import { requestText } from '../../src/sources/poll/http.ts';
import { OperationResultSchema, TranscriptSchema, type YoiOperationResult, type YoiTranscript } from './schemas.ts';
import { transcriptUrl, workerApiUrl, type YoiTarget } from './target.ts';
import { parseJson } from '../../src/transport/boundedJson.ts';

/** Options of {@link createYoiClient}. `headers` may carry secrets (authorization): they stay in this closure. */
export interface YoiClientOptions {
  headers?: Record<string, string>;
  dispatcher?: Dispatcher;
}

/** Per-call options. `idempotencyKey` is sent as the `Idempotency-Key` header, so a re-sent command is recognisable. */
export interface YoiCallOptions { signal?: AbortSignal; idempotencyKey?: string }

/**
 * The Workspace Backend API calls of a yoi connection (seed 004). Failures are ActorlogErrors:
 * `TRANSIENT` / `PERMANENT` (HTTP status, network) from the shared classification, and
 * `INVALID_PAYLOAD` for an answer that is not JSON or fails its schema (the seed's "could not be decoded").
 */
export interface YoiClient {
  /** GET …/transcript?start=0&limit=512. */
  transcript(target: YoiTarget, options?: YoiCallOptions): Promise<YoiTranscript>;
  /** POST …/input `{ kind, content }`. */
  input(target: YoiTarget, body: { kind: 'user' | 'system'; content: string }, options?: YoiCallOptions): Promise<YoiOperationResult>;
  /** POST …/cancel or …/stop `{ reason }`. */
  lifecycle(target: YoiTarget, action: 'cancel' | 'stop', reason: string | null, options?: YoiCallOptions): Promise<YoiOperationResult>;
}

function decode<T>(label: string, text: string, schema: z.ZodType<T>): T {
  const parsed = parseJson(text); // bounded: depth and size (binding kit)
  if (!parsed.ok) throw invalidPayload(label, text, parsed.error);
  const json = parsed.value;
  const result = schema.safeParse(json);
  if (!result.success) throw invalidPayload(label, text, z.prettifyError(result.error));
  return result.data;
}

/**
 * Creates the yoi Backend Runtime API client over undici.
 * @example
 * ```ts
 * const yoi = createYoiClient({ headers: { authorization: `Bearer ${token}` } });
 * const transcript = await yoi.transcript({ baseUrl, runtimeId: 'r1', workerId: 'w1' });
 * ```
 */
export function createYoiClient(options: YoiClientOptions = {}): YoiClient {
  const call = async <T>(label: string, url: string, schema: z.ZodType<T>, body: unknown, o: YoiCallOptions = {}): Promise<T> => {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (o.idempotencyKey) headers['idempotency-key'] = o.idempotencyKey;
    const res = await requestText(label, { url, method: body === undefined ? 'GET' : 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) }, { signal: o.signal, dispatcher: options.dispatcher });
    return decode(label, res.text, schema);
  };
  return {
    transcript: (target, o) => call('yoi transcript', transcriptUrl(target), TranscriptSchema, undefined, o),
    input: (target, body, o) => call('yoi input', workerApiUrl(target, 'input'), OperationResultSchema, body, o),
    lifecycle: (target, action, reason, o) => call(`yoi ${action}`, workerApiUrl(target, action), OperationResultSchema, { reason }, o),
  };
}

import { request, type Dispatcher } from 'undici';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { watchCall } from '../../transport/callWatch.ts';
import { httpStatusError } from '../../transport/classify.ts';
import { redactHeaders } from '../../transport/credentialHeaders.ts';

/** One HTTP request, as {@link requestText} sends it. */
export interface HttpRequestSpec {
  url: string;
  /** @default 'GET' */
  method?: string;
  /** May carry secrets (authorization): they never reach an error. */
  headers?: Record<string, string>;
  body?: string;
}

/** An answer with a status below 400. */
export interface HttpTextResponse {
  status: number;
  /** The answer's headers, credential headers (`set-cookie`…) and `secretHeaders` redacted. */
  headers: Record<string, string | string[] | undefined>;
  /** The body as text, at most `maxBytes`. */
  text: string;
}

/** Options of {@link requestText}. */
export interface RequestTextOptions {
  signal?: AbortSignal;
  /** An undici dispatcher (pool, agent); the global one when omitted. */
  dispatcher?: Dispatcher;
  /** The most body bytes read. @default 1048576 (1 MiB, seed 003 `io.LimitReader(resp.Body, 1<<20)`) */
  maxBytes?: number;
  /**
   * The overall deadline of the call, from the request to the last body byte (Go's
   * `http.Client.Timeout`): a body that drips does not extend it. Past it the call fails `TRANSIENT`
   * (`details.cause` `timeout`). `Infinity`: none.
   * @default 30000 (seed 003 `http.Client{Timeout: 30 * time.Second}`)
   */
  timeoutMs?: number;
  /** The scheduler of the deadline (tests pass a `VirtualTimeScheduler`). @default asyncScheduler */
  scheduler?: SchedulerLike;
  /** Response headers that carry secrets, redacted in the answer besides the credential headers (see {@link redactHeaders}). */
  secretHeaders?: readonly string[];
}

/**
 * Sends one HTTP request with undici and reads the body as text, classifying failures once
 * (src/transport/classify.ts): a network failure is `TRANSIENT`; a status of 400 or more is
 * `TRANSIENT` (5xx, 429, 408) or `PERMANENT` (other 4xx) with `details.status`; an abort is
 * `ABORTED`; no whole answer within `timeoutMs` is `TRANSIENT`. `label` names the operation in messages
 * (never a URL with credentials).
 *
 * @example
 * ```ts
 * const res = await requestText('molecule activity', { url, headers: { authorization: `Bearer ${token}` } });
 * const rows = JSON.parse(res.text);
 * ```
 */
export async function requestText(label: string, spec: HttpRequestSpec, options: RequestTextOptions = {}): Promise<HttpTextResponse> {
  const maxBytes = options.maxBytes ?? 1 << 20;
  const watch = watchCall(label, { timeoutMs: options.timeoutMs ?? 30_000 }, options.scheduler ?? asyncScheduler, options.signal);
  try {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(spec.url, {
        method: (spec.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: spec.headers,
        body: spec.body,
        signal: watch.signal,
        dispatcher: options.dispatcher,
        headersTimeout: 0, // the deadline bounds the whole call
        bodyTimeout: 0,
      });
    } catch (err) {
      throw watch.error(err);
    }
    if (res.statusCode >= 400) {
      await res.body.dump().catch(() => undefined);
      throw httpStatusError(label, res.statusCode, {}, res.headers);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        if (size + buf.length >= maxBytes) {
          chunks.push(buf.subarray(0, maxBytes - size));
          size = maxBytes;
          res.body.destroy();
          break;
        }
        chunks.push(buf);
        size += buf.length;
      }
    } catch (err) {
      throw watch.error(err);
    }
    return { status: res.statusCode, headers: redactHeaders(res.headers, options.secretHeaders), text: Buffer.concat(chunks).toString('utf8') };
  } finally {
    watch.stop();
  }
}

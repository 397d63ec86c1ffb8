import { request, type Dispatcher } from 'undici';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { ActorlogError } from '../../src/errors.ts';
import { watchCall } from '../../src/transport/callWatch.ts';
import { isTransientStatus } from '../../src/transport/classify.ts';
import { retryAfterOf } from '../../src/transport/retryAfter.ts';
import { scrubCredentials } from '../../src/transport/scrubCredentials.ts';

/** How much of a server's body an error message quotes (seed 003 `truncate(respBody, 200)`). */
export const ERROR_BODY_BYTES = 200;
/** The most body bytes read by default (seed 003 `io.LimitReader(resp.Body, 1<<20)`). */
export const MAX_BODY_BYTES = 1 << 20;

/**
 * `text` cut to `n` bytes of UTF-8 with `...` appended when it was longer, as seed 003's
 * `truncate` does (byte-wise: a character cut in the middle is replaced). Pure.
 * @example
 * ```ts
 * truncateBody('x'.repeat(300)); // 200 'x' then '...'
 * ```
 */
export function truncateBody(text: string, n = ERROR_BODY_BYTES): string {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= n ? text : `${bytes.subarray(0, n).toString('utf8')}...`;
}

/**
 * The excerpt of a server's body an error quotes: credential forms scrubbed first
 * (`scrubCredentials`), then cut to 200 bytes plus `...` (seed 003 `truncate(respBody, 200)`).
 * Scrubbing first matters: a URL password whose `@` falls past the cut would not be recognised in
 * the cut text. Pure.
 */
export function bodyExcerpt(text: string): string {
  return truncateBody(scrubCredentials(text));
}

/** Options of {@link moleculeRequest}. */
export interface MoleculeRequestOptions {
  signal?: AbortSignal;
  dispatcher?: Dispatcher;
  /** The overall deadline, ms. @default 30000 (seed 003) */
  timeoutMs?: number;
  /** The most body bytes read. @default 1048576 (seed 003) */
  maxBodyBytes?: number;
  /** The deadline's scheduler. @default asyncScheduler */
  scheduler?: SchedulerLike;
}

/** One molecule platform request. `headers` may carry the bearer token: it never reaches an error. */
export interface MoleculeHttpRequest {
  url: string;
  method?: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * Sends one request with undici and answers the body text (status below 400), at most
 * `maxBodyBytes` (1 MiB, seed 003's LimitReader) of it, and whether more was cut. A status of 400 or
 * more is an ActorlogError `TRANSIENT` (5xx, 429, 408) or `PERMANENT` (other 4xx) with
 * `details.status` and `details.body`, whose message quotes the server's body cut to 200 bytes
 * plus `...` (seed 003 `doRaw`: "server error 503: <body>", "<op>: 401: <body>"), credential forms
 * scrubbed first, and a 429/503's `Retry-After` as `details.retryAfterMs`. A network failure is
 * `TRANSIENT`; so is a call past `timeoutMs`, an overall deadline from the request to the last body
 * byte (seed 003's `http.Client{Timeout: 30 s}`, which a dripping body does not extend:
 * `details.cause` `timeout`); an abort is `ABORTED`.
 *
 * @throws ActorlogError `TRANSIENT` | `PERMANENT` | `ABORTED`
 * @example
 * ```ts
 * const { text, cut } = await moleculeRequest('molecule activity', { url, headers }, { timeoutMs: 30_000 });
 * ```
 */
export async function moleculeRequest(label: string, spec: MoleculeHttpRequest, options: MoleculeRequestOptions = {}): Promise<{ text: string; cut: boolean }> {
  const max = options.maxBodyBytes ?? MAX_BODY_BYTES;
  let text: string;
  let status: number;
  let headers: Record<string, string | string[] | undefined>;
  let cut = false;
  const watch = watchCall(label, { timeoutMs: options.timeoutMs ?? 30_000 }, options.scheduler ?? asyncScheduler, options.signal);
  try {
    const res = await request(spec.url, {
      method: (spec.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: spec.headers,
      body: spec.body,
      signal: watch.signal,
      dispatcher: options.dispatcher,
      headersTimeout: 0,
      bodyTimeout: 0, // the overall deadline bounds the whole call
    });
    status = res.statusCode;
    headers = res.headers;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      const room = max - size;
      chunks.push(buf.length > room ? buf.subarray(0, room) : buf);
      size += Math.min(buf.length, room);
      if (buf.length > room) {
        cut = true; // more than `max` bytes: the rest is not read (seed 003 reads through a LimitReader)
        res.body.destroy();
        break;
      }
    }
    text = Buffer.concat(chunks).toString('utf8');
  } catch (err) {
    throw watch.error(err);
  } finally {
    watch.stop();
  }
  if (status >= 400) {
    const body = bodyExcerpt(text);
    const retryAfterMs = retryAfterOf(status, headers);
    throw new ActorlogError(isTransientStatus(status) ? 'TRANSIENT' : 'PERMANENT', `${label}: HTTP ${status}${body ? `: ${body}` : ''}`, {
      details: { status, body, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
    });
  }
  return { text, cut };
}

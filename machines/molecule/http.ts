import { request, type Dispatcher } from 'undici';
import { ActorlogError } from '../../src/errors.ts';
import { isTransientStatus, networkError } from '../../src/transport/classify.ts';
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

/** One molecule platform request. `headers` may carry the bearer token: it never reaches an error. */
export interface MoleculeHttpRequest { url: string; method?: string; headers: Record<string, string>; body?: string }

/**
 * Sends one request with undici and answers the body text (status below 400), at most
 * `maxBodyBytes` (1 MiB, seed 003's LimitReader) of it, and whether more was cut. A status of 400 or
 * more is an ActorlogError `TRANSIENT` (5xx, 429, 408) or `PERMANENT` (other 4xx) with
 * `details.status` and `details.body`, whose message quotes the server's body cut to 200 bytes
 * plus `...` (seed 003 `doRaw`: "server error 503: <body>", "<op>: 401: <body>"), credential forms
 * scrubbed first. A network failure or timeout is `TRANSIENT`; an abort `ABORTED`.
 *
 * @throws ActorlogError `TRANSIENT` | `PERMANENT` | `ABORTED`
 * @example
 * ```ts
 * const { text, cut } = await moleculeRequest('molecule activity', { url, headers }, { timeoutMs: 30_000 });
 * ```
 */
export async function moleculeRequest(label: string, spec: MoleculeHttpRequest, options: { signal?: AbortSignal; dispatcher?: Dispatcher; timeoutMs?: number; maxBodyBytes?: number } = {}): Promise<{ text: string; cut: boolean }> {
  const max = options.maxBodyBytes ?? MAX_BODY_BYTES;
  let text: string;
  let status: number;
  let cut = false;
  try {
    const res = await request(spec.url, {
      method: (spec.method ?? 'GET') as Dispatcher.HttpMethod, headers: spec.headers, body: spec.body,
      signal: options.signal, dispatcher: options.dispatcher,
      headersTimeout: options.timeoutMs ?? 30_000, bodyTimeout: options.timeoutMs ?? 30_000,
    });
    status = res.statusCode;
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
    throw networkError(label, err);
  }
  if (status >= 400) {
    const body = bodyExcerpt(text);
    throw new ActorlogError(isTransientStatus(status) ? 'TRANSIENT' : 'PERMANENT', `${label}: HTTP ${status}${body ? `: ${body}` : ''}`, { details: { status, body } });
  }
  return { text, cut };
}

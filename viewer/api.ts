/** How the page reads the viewer's JSON API (cli/view/server.ts); the shapes are the server's own (cli/view/types.ts). */
import type { ErrorBody } from '../cli/view/types.ts';

export type * from '../cli/view/types.ts';
export { STREAM_STATUSES } from '../src/log/streamStatus.ts';

/** Query parameters of an API read; empty and undefined ones are left out. */
export type Params = Record<string, string | number | undefined>;

/** GET a JSON path of the API (`streams`, `stream/<id>/at/3`); rejects with the server's error message and code. */
export async function get<T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<T> {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') query.set(k, String(v));
  const res = await fetch(`/api/${path}${query.size ? `?${query}` : ''}`, { signal });
  const body = (await res.json()) as T | ErrorBody;
  if (!res.ok) {
    const error = (body as ErrorBody | null)?.error;
    throw new Error(`${error?.message ?? res.statusText} (${error?.code ?? res.status})`);
  }
  return body as T;
}

/** The API path of a stream, or of one of its reads (`/events`, `/at/3`). */
export const streamPath = (id: string, rest = '') => `stream/${encodeURIComponent(id)}${rest}`;

/** True for the rejection of a read that was aborted (the view moved on): not an error to show. */
export const isAbort = (err: unknown) => (err as Error | null)?.name === 'AbortError';

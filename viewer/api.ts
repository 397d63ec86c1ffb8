/** The viewer's JSON API (cli/view/api.ts), as the page reads it. */

export type Status = 'active' | 'done' | 'error' | 'stopped';
export const STATUSES: readonly Status[] = ['active', 'done', 'error', 'stopped'];

export interface StreamItem {
  streamId: string;
  machine: { name: string; hash: string };
  status: Status;
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface StreamsPage {
  all: number;
  total: number;
  counts: Record<Status, number>;
  machines: string[];
  offset: number;
  items: StreamItem[];
}

// The row and snapshot shapes are the server's own (type-only: nothing of the server reaches the page).
export type { ChildView, EventRow, SnapshotView } from '../cli/view/api.ts';
import type { EventRow, SnapshotView } from '../cli/view/api.ts';

export interface Taken {
  source: string;
  index: number;
  eventType: string;
  targets: string[];
}

export interface AtResult {
  streamId: string;
  version: number;
  event: (EventRow & { data: unknown; meta: Record<string, unknown> }) | null;
  snapshot: SnapshotView | null;
  previous: SnapshotView | null;
  transitions: Taken[];
  error?: { code: string; message: string };
}

export interface StreamInfo {
  stream: StreamItem & { input: unknown };
  definition: unknown;
  definitionSource: 'log' | 'registry' | null;
  replay: { ok: boolean; code?: string; message?: string };
}

export interface ServiceItem {
  streamId: string;
  machine: string;
  version: number;
  event: { type: string; version: number; globalPosition: number; source: string; recordedAt: number } | null;
  state: string | null;
  status: string | null;
}

export interface ServicePage {
  position: number;
  head: number;
  total: number;
  offset: number;
  items: ServiceItem[];
}

/** GET a JSON path of the API; rejects with the server's error message. */
export async function get<T>(path: string, params: Record<string, string | number | undefined> = {}, signal?: AbortSignal): Promise<T> {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') query.set(k, String(v));
  const res = await fetch(`/api/${path}${query.size ? `?${query}` : ''}`, { signal });
  const body = await res.json();
  if (!res.ok) throw new Error(`${body?.error?.message ?? res.statusText} (${body?.error?.code ?? res.status})`);
  return body as T;
}

export const streamPath = (id: string, rest = '') => `stream/${encodeURIComponent(id)}${rest}`;

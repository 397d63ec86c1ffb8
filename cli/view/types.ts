/**
 * The viewer's JSON API (`actorlog view`, cli/view/server.ts), its one definition: the server's
 * reads return these shapes and the page (viewer/) imports them type-only, so nothing of the
 * server's code reaches the page.
 */
import type { EventRecord, StreamStatus } from '../../src/log/types.ts';

export type { EventRecord, StreamStatus };

/** `GET /api/info`. */
export interface InfoView {
  /** The log's file name. */
  db: string;
  /** The global position of the log's last event. */
  head: number;
  /** How many streams the log holds. */
  streams: number;
  /** Most rows one windowed read returns. */
  window: number;
}

/** A stream as the list shows it (its input left out). */
export interface StreamItem {
  streamId: string;
  machine: { name: string; hash: string };
  status: StreamStatus;
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** `GET /api/streams`: a page of streams, with counts by status over the machine and search filters. */
export interface StreamsPage {
  /** Streams in the log. */
  all: number;
  /** Streams matching every filter (the page is `items`). */
  total: number;
  counts: Record<StreamStatus, number>;
  machines: string[];
  offset: number;
  items: StreamItem[];
}

/** A child actor of a snapshot, by its path in the stream's actor tree. */
export interface ChildView {
  path: string;
  src?: string;
  machine: boolean;
  status?: string;
  value?: string;
}

/** A snapshot as the page shows it: JSON only. */
export interface SnapshotView {
  value: unknown;
  state: string;
  status: string;
  context: unknown;
  error?: unknown;
  children: ChildView[];
}

/** An event as a timeline row: no data (the page reads it with the event). */
export interface EventRow {
  version: number;
  globalPosition: number;
  type: string;
  source: string;
  cursor?: string;
  actor?: string;
  target?: string;
  causationId?: string;
  recordedAt: number;
  /** The state after the event (dotted), when the stream's machine could be resolved. */
  state?: string;
  status?: string;
}

/** A live event as `/api/live` sends it: its row and its stream. */
export type LiveRow = EventRow & { streamId: string };

/** `GET /api/stream/:id/events`. */
export interface EventsPage {
  streamId: string;
  version: number;
  status: StreamStatus;
  from: number;
  events: EventRow[];
}

/** The transition an event took, as the definition names it: `transitions[index]` of the state node `source`. */
export interface Taken {
  source: string;
  index: number;
  eventType: string;
  targets: string[];
}

/** An event as the log stores it, data and meta included (the snapshot view's event). */
export type EventView = EventRecord;

/** `GET /api/stream/:id/at/:version`. */
export interface AtResult {
  streamId: string;
  version: number;
  event: EventView | null;
  snapshot: SnapshotView | null;
  previous: SnapshotView | null;
  transitions: Taken[];
  error?: { code: string; message: string };
}

/** `GET /api/stream/:id`. */
export interface StreamInfo {
  stream: StreamItem & { input: unknown };
  definition: unknown;
  definitionSource: 'log' | 'registry' | null;
  replay: { ok: boolean; code?: string; message?: string };
}

/** A stream as it stood at a global position. */
export interface ServiceItem {
  streamId: string;
  machine: string;
  version: number;
  event: { type: string; version: number; globalPosition: number; source: string; recordedAt: number } | null;
  state: string | null;
  status: string | null;
}

/** `GET /api/service`. */
export interface ServicePage {
  position: number;
  head: number;
  total: number;
  offset: number;
  items: ServiceItem[];
}

/** The body of every error answer: `{ error: { code, message } }`. */
export interface ErrorBody {
  error: { code: string; message: string };
}

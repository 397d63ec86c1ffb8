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

/** How an outcome reads: `bad` a failure, `warn` an end that is neither a success nor a failure, `ok`, `neutral` (still running). */
export type OutcomeTone = 'ok' | 'warn' | 'bad' | 'neutral';

/** How a stream's actor ended (cli/view/outcomes.ts). */
export interface Outcome {
  /** `final`: reached a final state; `threw`: a machine threw; `error`: ended in error otherwise; `active`, `stopped`. */
  kind: 'active' | 'final' | 'threw' | 'error' | 'stopped';
  /** What the list shows and filters by: the final state (`failed`, `done`, `timed-out`), `threw in <state>`, `active`… */
  label: string;
  tone: OutcomeTone;
  /** The state it ended in (dotted), when known. */
  state?: string;
  /** The stream version of the event that threw or led into the final state (the timeline marks it). */
  version?: number;
  /** The error message, for `threw`. */
  detail?: string;
}

/** A stream as the list shows it (its input left out). */
export interface StreamItem {
  streamId: string;
  machine: { name: string; hash: string };
  status: StreamStatus;
  version: number;
  createdAt: number;
  updatedAt: number;
  outcome: Outcome;
}

/** How many streams ended one way. */
export interface OutcomeCount {
  label: string;
  tone: OutcomeTone;
  count: number;
}

/** `GET /api/streams`: a page of streams, with counts by status over the machine and search filters. */
export interface StreamsPage {
  /** Streams in the log. */
  all: number;
  /** Streams matching every filter (the page is `items`). */
  total: number;
  counts: Record<StreamStatus, number>;
  /** Streams by outcome over the machine and search filters: failures first, then by count. */
  outcomes: OutcomeCount[];
  machines: string[];
  offset: number;
  items: StreamItem[];
}

/** A child actor of a snapshot, by its path in the stream's actor tree (`worker`, `worker/sub`). */
export interface ChildView {
  path: string;
  /** The id it was invoked or spawned under (the path's last part). */
  id: string;
  src?: string;
  /** A state machine (it has a chart, a context and a snapshot of its own), not a promise, callback or observable. */
  machine: boolean;
  /** A child machine's definition hash (`machineHash`): the chart's layout is kept under it. */
  hash?: string;
  status?: string;
  /** A child machine's state (dotted). */
  value?: string;
  /** A child machine's context. */
  context?: unknown;
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

/** `GET /api/stream/:id/at/:version?actor=path`: the snapshots of one actor of the tree (the root by default). */
export interface AtResult {
  streamId: string;
  version: number;
  /** The actor shown: `''` the root, else a child machine's path. */
  actor: string;
  /** True when the event was delivered to this actor (its transitions are then those taken). */
  delivered: boolean;
  /** Every child of the stream's tree after the event (full paths), for the actor tree. */
  tree: ChildView[];
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

/** `GET /api/stream/:id/definition?actor=path&v=N`: a child machine's definition (as `machineDefinition` gives it). */
export interface DefinitionView {
  actor: string;
  hash: string;
  definition: unknown;
}

/** How often each event type and source occurs in a stream. */
export interface KindCount {
  name: string;
  count: number;
}

/** `GET /api/stream/:id/kinds`: the stream's event types and sources, for the timeline's filters. */
export interface KindsView {
  streamId: string;
  version: number;
  types: KindCount[];
  sources: KindCount[];
}

/** `GET /api/stream/:id/events?type=T&source=S&offset=N&limit=M`: the events of one type and/or source, the N-th match on. */
export interface MatchesPage {
  streamId: string;
  /** How many events match. */
  matches: number;
  /** The index (among the matches) of the first row. */
  offset: number;
  events: EventRow[];
}

/** One lane of a sequence diagram: an actor of the tree, another journaled actor, or where events come from. */
export interface SequenceLane {
  id: string;
  /** `actor`: the stream's root or a child (`path`); `stream`: another journaled actor; `source`: a source kind (`sse`, `poll`), the application (`external`), timers, the runtime. */
  kind: 'actor' | 'stream' | 'source';
  label: string;
  /** The child's path (`kind: 'actor'`; `''` the root) or the other stream's id (`kind: 'stream'`). */
  ref?: string;
}

/** One arrow: a logged event from lane to lane, or a message this stream sent to another journaled actor. */
export interface SequenceArrow {
  from: string;
  to: string;
  label: string;
  /** The event the arrow stands for: this stream's at `version`, or (a message sent) the receiver's. */
  link: { streamId: string; version: number };
  /** This stream's version the arrow happened at. */
  version: number;
  globalPosition: number;
  /** `sent`: a message to another journaled actor, drawn at the sender. */
  kind: 'event' | 'sent';
}

/** `GET /api/stream/:id/sequence?from=V&to=W`: the messages between actors in a window of the stream. */
export interface SequenceView {
  streamId: string;
  from: number;
  to: number;
  lanes: SequenceLane[];
  arrows: SequenceArrow[];
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

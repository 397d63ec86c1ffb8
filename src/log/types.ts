import type { Observable, SchedulerLike } from 'rxjs';
import type { StreamStatus } from './streamStatus.ts';

/**
 * Where an event came from. `external`: `actor.send()` by the application; `timer`: a delayed or
 * `after` event (`meta.timer` names it); `self`: a `sendTo` of the actor to itself without delay;
 * `child`: a done/error/emitted event of an invoked or spawned child; `parent`: an event a parent
 * machine sent to a child machine (`meta.target`); `actor`: a message from another actor (a
 * sibling in the same tree, or another journaled actor: `meta.causationId` then names the send);
 * `poll`, `sse`, `ws`, `webhook`: frames of a stream source (a child that declared its kind);
 * `system`: written by the runtime itself (e.g. `actorlog.failed`).
 */
export type EventSource = 'external' | 'timer' | 'self' | 'child' | 'parent' | 'actor' | 'poll' | 'sse' | 'ws' | 'webhook' | 'system';

/** Metadata stored with every event. All times are ms since the Unix epoch. */
export interface EventMeta {
  source: EventSource;
  /** The resume point of the source that delivered this event (SSE id, WebSocket cursor, `since_id`, task id). */
  cursor?: string;
  /**
   * The actor that sent the event, when another actor did: the path of a child within this stream's
   * actor tree (`worker`, `worker/sse`), or the stream id of another journaled actor (source `actor`).
   */
  actor?: string;
  /**
   * The child machine the event was delivered to, as its path within the stream's actor tree
   * (`worker`, `worker/sub`); absent for events of the stream's root actor.
   */
  target?: string;
  /** For `timer` events: the key of the delayed event that fired (owner path and send id). */
  timer?: string;
  /**
   * The id of the send that caused this event, for messages between journaled actors:
   * `<sender stream>:<sender version>:<sender path>:<n>`, a `:` inside the path written `%3A`
   * (src/log/causationId.ts writes and reads it). Recovery delivers a message its sender's log
   * implies once: it looks this id up in the receiver's stream first.
   */
  causationId?: string;
  /** When the event was appended, ms since the Unix epoch. */
  recordedAt: number;
}

/** An event to append: the stream version and global position are assigned by the store. */
export interface NewEvent {
  type: string;
  /** The event's payload, JSON-safe (the event object without its `type`). */
  data: unknown;
  meta: EventMeta;
}

/** An event as stored in the log. */
export interface EventRecord extends NewEvent {
  /** One increasing number across all streams, from 1: the order of the whole log. */
  globalPosition: number;
  streamId: string;
  /** 1, 2, 3… within the stream. */
  version: number;
  /** The writing transaction's id (PostgreSQL `xid8`, decimal); absent on SQLite and memory (read as `'0'`). */
  transactionId?: string;
}

export type { StreamStatus } from './streamStatus.ts';

/** What a stream records about the actor whose events it holds. */
export interface StreamRecord {
  streamId: string;
  /** Registered machine name and the hash of its definition (`machine.toJSON()`), hex. */
  machine: { name: string; hash: string };
  /** The input the actor was started with, its JSON copy (not redacted: applications keep secrets out of input). */
  input: unknown;
  status: StreamStatus;
  /** The stream's current version: 0 before the first event. */
  version: number;
  /** ms since the Unix epoch. */
  createdAt: number;
  /** ms since the Unix epoch, last append or status change. */
  updatedAt: number;
}

/** What {@link LogStore.listStreams} lists: every stream, or those with one of `status`, and (with `passivated`) passivated or resident ones only. */
export interface StreamFilter {
  status?: StreamStatus[];
  passivated?: boolean;
}

/** A persisted actor snapshot (XState `getPersistedSnapshot()`), taken after the event at `version`. */
export interface SnapshotRecord {
  streamId: string;
  version: number;
  snapshot: unknown;
  /** ms since the Unix epoch. */
  recordedAt: number;
}

/** A stream's latest snapshot and the events after it: what recovery resumes it from (see `LogStore.readTails`). */
export interface StreamTail {
  streamId: string;
  /** The stream's latest snapshot, when it has one. */
  snapshot?: SnapshotRecord;
  /** The events after the snapshot's version (after version 0 without one), in version order. */
  events: EventRecord[];
}

/**
 * A machine's definition as the log keeps it, once per definition hash, so tools draw a stream's
 * statechart from the log file alone, without the application's code.
 */
export interface DefinitionRecord {
  /** The machine's hash, as streams record it in `machine.hash` (`machineHash`, hex). */
  hash: string;
  /** The name the machine was registered under when this definition was first saved. */
  name: string;
  /**
   * `machine.toJSON()` as JSON: the state nodes (`id`, `key`, `type`, `initial`, `states`, `on` by
   * event type with each transition's `target`, `guard`, `actions`, `invoke` with `id` and `src`,
   * `entry`, `exit`, `tags`), completed where XState leaves things out (see `machineDefinition`).
   */
  definition: unknown;
  /** When it was first saved, ms since the Unix epoch. */
  recordedAt: number;
}

/** One append of a batch (see {@link LogStore.appendBatch}). */
export interface AppendRequest {
  streamId: string;
  /** The version the stream must be at before this append; a different version is a conflict. */
  expectedVersion: number;
  events: NewEvent[];
}

/** The result of an append: the stream's new version and the global position of its last event. */
export interface AppendResult {
  nextVersion: number;
  lastGlobalPosition: number;
}

/**
 * A value now or later: what a store method returns. An embedded store (SQLite, memory) returns the
 * value itself, so a caller on it pays no microtask; a networked one (PostgreSQL) returns a Promise.
 * Code written against {@link LogStore} always `await`s it.
 */
export type Awaitable<T> = T | Promise<T>;

/**
 * A point in the log's commit-safe order, to resume a reader from: the transaction that wrote an
 * event and its global position. On PostgreSQL positions are assigned before commit, so a lower
 * position may become visible after a higher one; readers order by (transaction id, global position)
 * and only read transactions older than every one still running. On SQLite and memory writes are
 * serial: `transactionId` is `'0'` and the global position alone is the order.
 */
export interface LogCursor {
  /** The writing transaction's id as a decimal string (PostgreSQL `xid8`); `'0'` on SQLite and memory. */
  transactionId: string;
  globalPosition: number;
}

/** A stream to create: version 0, status `active`. */
export interface NewStream {
  streamId: string;
  machine: { name: string; hash: string };
  /** The actor's input, JSON-safe. */
  input: unknown;
  /** ms since the Unix epoch. */
  createdAt: number;
}

/**
 * A message to a journaled actor, waiting in its inbox until the process that runs the actor appends
 * it to the actor's stream (and removes it in the same write). Messages between actors that are not
 * running in the same process (another node owns the receiver, or it is not recovered yet) travel
 * this way; the sender posts in the same write as the event that caused the send.
 */
export interface InboxMessage {
  /** The receiving stream. */
  streamId: string;
  /** Unique per send (see {@link EventMeta.causationId}): posting the same (streamId, causationId) again keeps the first. */
  causationId: string;
  type: string;
  /** The event without its `type`, JSON-safe. */
  data: unknown;
  /** The sender: its stream id, with `/` and the child path when a child machine sent it. */
  from: string;
  /** ms since the Unix epoch. */
  postedAt: number;
}

/** An inbox message as stored, with its id (increasing per store). */
export interface StoredInboxMessage extends InboxMessage {
  id: number;
}

/**
 * One atomic unit of writes (see {@link LogStore.write}), applied in one transaction in this order:
 * `definitions` (a hash already saved is kept), `streams` (created at version 0), `appends` (each at its
 * expected version), `messages` (posted to inboxes; a duplicate causation id is ignored), `consumed`
 * (inbox messages removed because this batch appends them), `snapshots`, `statuses`.
 */
export interface WriteBatch {
  definitions?: DefinitionRecord[];
  streams?: NewStream[];
  appends?: AppendRequest[];
  messages?: InboxMessage[];
  consumed?: Array<{ streamId: string; id: number }>;
  snapshots?: SnapshotRecord[];
  statuses?: Array<{ streamId: string; status: StreamStatus; at: number }>;
  /** Applied last: active streams put to sleep (see {@link Passivation}). @throws STREAM_NOT_FOUND; LEASE_LOST (another owner) */
  passivations?: Passivation[];
}

/**
 * An idle actor written to the log and dropped from memory (passivation): its stream stays `active`
 * but is left out of `listStreams({ passivated: false })` (what `recover()` loads), and on a shared
 * store it has no owner. It is woken by {@link LogStore.activate} (a message or a `send` for it) or by
 * {@link LogStore.activateDue} once `wakeAt` has come (its earliest pending timer): the stream's next
 * due time, one indexed row per stream, so no in-memory timer is kept for it.
 */
export interface Passivation {
  streamId: string;
  /** When it was passivated, ms since the Unix epoch. */
  at: number;
  /** Due time of its earliest pending timer (ms since the Unix epoch); absent when none is pending. */
  wakeAt?: number;
}

/**
 * Fenced ownership of streams, on a store shared by several processes (PostgreSQL). Each process
 * incarnation registers a node (an id and an epoch from a sequence, with a heartbeat kept by the
 * database clock); each active stream records its owner node and epoch; every append checks owner,
 * epoch, expected version and status in one statement, so a node whose lease was taken over writes
 * nothing (`LEASE_LOST`). Absent on SQLite and memory, which one process owns.
 */
export interface StreamOwnership {
  /** How long a node's heartbeat stays valid (ms): after that its streams may be claimed by another node. */
  readonly leaseMs: number;
  /** This process's node once registered. */
  readonly node: { nodeId: string; epoch: number } | undefined;
  /** Registers a new incarnation of this node (a new epoch); streams it creates from now on are its own. */
  register(): Promise<{ nodeId: string; epoch: number }>;
  /** Renews this node's lease. @throws LEASE_LOST when the lease expired or a newer epoch replaced it */
  heartbeat(): Promise<void>;
  /** Takes up to `limit` active streams whose owner is gone (lease expired, superseded epoch, or none) and returns them. */
  claimOrphans(limit: number): Promise<StreamRecord[]>;
  /** Gives up the streams (owner none), so another node claims them at once (a clean shutdown). */
  release(streamIds: string[]): Promise<void>;
}

/** Options of {@link LogStore.subscribe}. */
export interface SubscribeOptions {
  /** Deliver records after this global position (or {@link LogCursor}, on every store). Default 0 (from the start). */
  after?: number | LogCursor;
  /**
   * Only records of this stream. The subscription then reads through `readAll({ after, limit, streamId })`,
   * an index lookup of that stream's events, never the whole log.
   */
  streamId?: string;
  /** How often to look for records written by another process (ms). Default 250. */
  pollIntervalMs?: number;
  /** Records read per query while catching up. Default 500. */
  batchSize?: number;
  /** The RxJS scheduler of the poll interval (tests pass a VirtualTimeScheduler). Default asyncScheduler. */
  scheduler?: SchedulerLike;
}

/**
 * The log contract. Every store (stores/sqlite, stores/memory, stores/postgres) implements it and
 * passes the conformance suite in test/conformance/. Every method returns an {@link Awaitable}: the
 * embedded stores answer at once, PostgreSQL with a Promise; callers `await` each call. The runtime
 * appends an input before XState acts on it (docs/architecture.md, invariant 1): on an embedded
 * store in the same call, on a networked one in a group commit whose completion releases the inputs.
 *
 * Errors: `STREAM_EXISTS` (createStream), `STREAM_NOT_FOUND` (append, setStreamStatus on an
 * unknown stream), `VERSION_CONFLICT` (append), `LEASE_LOST` (append on a store with
 * {@link StreamOwnership}, when this node no longer owns the stream), `APPEND_FAILED` (the write
 * itself failed, e.g. data not JSON-safe or a disk error, with `cause`), `STORE_UNAVAILABLE` (closed
 * store), all {@link ActorlogError}s.
 */
export interface LogStore {
  /** Creates a stream at version 0. @throws STREAM_EXISTS */
  createStream(stream: NewStream): Awaitable<StreamRecord>;
  getStream(streamId: string): Awaitable<StreamRecord | undefined>;
  /**
   * Streams ordered by creation, optionally only those with one of the given statuses; with
   * `passivated: false` only those not passivated (an index search: a log of a million sleeping
   * streams lists its thousand resident ones without reading the rest), with `true` only passivated ones.
   */
  listStreams(filter?: StreamFilter): Awaitable<StreamRecord[]>;
  /**
   * Wakes passivated active streams: clears their passivation (on a store with {@link StreamOwnership},
   * this node becomes their owner, fenced like a claim) and returns those that were passivated;
   * ids that are not passivated (running, unknown, ended, or woken by another node
   * first) are left out. The caller folds and starts what it gets.
   */
  activate(streamIds: readonly string[]): Awaitable<StreamRecord[]>;
  /** Like {@link activate}, for up to `limit` passivated active streams whose `wakeAt` is at or before `at` (ms), earliest due first. */
  activateDue(at: number, limit: number): Awaitable<StreamRecord[]>;
  /** @throws STREAM_NOT_FOUND */
  setStreamStatus(streamId: string, status: StreamStatus, at: number): Awaitable<void>;
  /**
   * Appends events atomically at `expectedVersion + 1…`. An empty `events` writes nothing: it checks
   * the version and returns `{ nextVersion: expectedVersion, lastGlobalPosition }` of the stream's
   * event at that version (0 when none).
   * @throws VERSION_CONFLICT when the stream is not at `expectedVersion`; STREAM_NOT_FOUND; LEASE_LOST
   */
  append(streamId: string, expectedVersion: number, events: NewEvent[]): Awaitable<AppendResult>;
  /** Several appends in one transaction: all or none (group commit). */
  appendBatch(requests: AppendRequest[]): Awaitable<AppendResult[]>;
  /**
   * Every write of `batch` in one transaction, all or none (the order is given at {@link WriteBatch});
   * returns the results of `batch.appends`, in their order. The runtime's group commit.
   * @throws the codes of createStream, append and setStreamStatus; nothing is written then
   */
  write(batch: WriteBatch): Awaitable<AppendResult[]>;
  /** Events of one stream with `fromVersion <= version <= toVersion`, in version order. */
  readStream(streamId: string, range?: { fromVersion?: number; toVersion?: number }): Awaitable<EventRecord[]>;
  /**
   * Events after `after` in the log's commit-safe order, at most `limit` (default all); with
   * `streamId`, only that stream's events (an index range, not a scan of the log). `after` is a global
   * position (events with a greater one) or a {@link LogCursor} (events after that pair). On
   * PostgreSQL only events of transactions older than every running one are returned, ordered by
   * (transaction id, global position), so a reader that resumes from the last record's cursor skips
   * nothing; on SQLite and memory the order is the global position.
   */
  readAll(options?: { after?: number | LogCursor; limit?: number; streamId?: string }): Awaitable<EventRecord[]>;
  /** The global position of the last event in the log, 0 when empty. */
  headPosition(): Awaitable<number>;
  /**
   * Saves a snapshot; a later one for the same stream and version replaces it. In the same write the
   * store prunes the stream's snapshots to the `keepSnapshots` highest versions (a store option,
   * default 10; 0 or `Infinity` keeps all).
   */
  saveSnapshot(snapshot: SnapshotRecord): Awaitable<void>;
  /** The latest snapshot of a stream at or before `atOrBeforeVersion` (default: latest), parsed afresh for each call (the caller may change it). */
  loadSnapshot(streamId: string, atOrBeforeVersion?: number): Awaitable<SnapshotRecord | undefined>;
  /**
   * For each of `streamIds`, its latest snapshot and the events after it, in a few reads for all of
   * them (recovery resumes thousands of streams: two reads per stream were most of its time). In the
   * order of `streamIds`; an id with no stream is left out; an id given twice is listed twice, its events
   * once in each. Snapshots and events are parsed afresh (the caller may change them).
   */
  readTails(streamIds: readonly string[]): Awaitable<StreamTail[]>;
  /** Every kept snapshot of a stream, in increasing version order, in one read ([] when none). */
  listSnapshots(streamId: string): Awaitable<SnapshotRecord[]>;
  /**
   * Saves a machine definition under its hash. The first record saved for a hash is kept: saving
   * one again (same hash) is a no-op, whatever its name, definition or time.
   */
  saveDefinition(record: DefinitionRecord): Awaitable<void>;
  /** The definition saved under `hash`, or undefined (also for a log written before definitions were kept). */
  loadDefinition(hash: string): Awaitable<DefinitionRecord | undefined>;
  /**
   * Saves a named subscriber's last processed global position. With `expected`, only if the stored
   * position is still `expected` (`undefined` stored counts as 0): compare-and-set, so two
   * subscribers sharing a name never move it backwards. Returns whether it was saved.
   */
  saveCheckpoint(name: string, position: number, expected?: number): Awaitable<boolean>;
  loadCheckpoint(name: string): Awaitable<number | undefined>;
  /** The inbox of a stream (messages posted by {@link WriteBatch.messages} and not consumed), oldest first, at most `limit`. */
  readInbox(streamId: string, limit?: number): Awaitable<StoredInboxMessage[]>;
  /** Ids of streams with inbox messages waiting, at most `limit` (default 1000). */
  inboxStreams(limit?: number): Awaitable<string[]>;
  /**
   * Records from a point of the log: catches up, then delivers new records live (appends of this
   * process at once, appends of other processes within `pollIntervalMs`), each once, skipping none.
   * Completes when the store closes.
   */
  subscribe(options?: SubscribeOptions): Observable<EventRecord>;
  /** Fenced stream ownership, on stores shared by several processes (PostgreSQL); absent otherwise. */
  readonly ownership?: StreamOwnership;
  /** Closes the store; later calls throw `STORE_UNAVAILABLE`, subscriptions complete. */
  close(): Awaitable<void>;
}

/**
 * A {@link LogStore} whose methods answer at once (the embedded stores: SQLite and memory): each
 * method's result is the value itself, never a Promise. Tools that only ever open a log file (the
 * CLI's file reader, tests) may take this type and skip the `await`s.
 */
export type EmbeddedLogStore = {
  [K in keyof LogStore]: LogStore[K] extends (...args: infer A) => infer R ? (...args: A) => Awaited<R> : LogStore[K];
};

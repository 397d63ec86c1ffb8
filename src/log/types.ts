import type { Observable, SchedulerLike } from 'rxjs';

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
   * `<sender stream>:<sender version>:<sender path>:<n>`. Recovery delivers a message its sender's log
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
}

/** The status of a stream (an actor): `active` until the actor ends. */
export type StreamStatus = 'active' | 'done' | 'error' | 'stopped';

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

/** A persisted actor snapshot (XState `getPersistedSnapshot()`), taken after the event at `version`. */
export interface SnapshotRecord {
  streamId: string;
  version: number;
  snapshot: unknown;
  /** ms since the Unix epoch. */
  recordedAt: number;
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

/** Options of {@link LogStore.subscribe}. */
export interface SubscribeOptions {
  /** Deliver records whose global position is greater than this. Default 0 (from the start). */
  after?: number;
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
 * The log contract. Every store (stores/sqlite, stores/memory) implements it and passes the
 * conformance suite in test/conformance/. Writes are synchronous: the runtime appends inside
 * XState's synchronous `@xstate.event` inspection, before the transition (docs/architecture.md, invariant 1).
 *
 * Errors: `STREAM_EXISTS` (createStream), `STREAM_NOT_FOUND` (append, setStreamStatus on an
 * unknown stream), `VERSION_CONFLICT` (append), `APPEND_FAILED` (append: the write itself failed,
 * e.g. data not JSON-safe or a disk error, with `cause`), `STORE_UNAVAILABLE` (closed store), all
 * {@link ActorlogError}s.
 */
export interface LogStore {
  /** Creates a stream at version 0. @throws STREAM_EXISTS */
  createStream(stream: { streamId: string; machine: { name: string; hash: string }; input: unknown; createdAt: number }): StreamRecord;
  getStream(streamId: string): StreamRecord | undefined;
  /** Streams ordered by creation, optionally only those with one of the given statuses. */
  listStreams(filter?: { status?: StreamStatus[] }): StreamRecord[];
  /** @throws STREAM_NOT_FOUND */
  setStreamStatus(streamId: string, status: StreamStatus, at: number): void;
  /**
   * Appends events atomically at `expectedVersion + 1…`. An empty `events` writes nothing: it checks
   * the version and returns `{ nextVersion: expectedVersion, lastGlobalPosition }` of the stream's
   * event at that version (0 when none).
   * @throws VERSION_CONFLICT when the stream is not at `expectedVersion`; STREAM_NOT_FOUND
   */
  append(streamId: string, expectedVersion: number, events: NewEvent[]): AppendResult;
  /** Several appends in one transaction: all or none (group commit). */
  appendBatch(requests: AppendRequest[]): AppendResult[];
  /** Events of one stream with `fromVersion <= version <= toVersion`, in version order. */
  readStream(streamId: string, range?: { fromVersion?: number; toVersion?: number }): EventRecord[];
  /**
   * Events with global position greater than `after` (default 0), in global order, at most `limit`
   * (default all); with `streamId`, only that stream's events (an index range, not a scan of the log).
   */
  readAll(options?: { after?: number; limit?: number; streamId?: string }): EventRecord[];
  /** The global position of the last event in the log, 0 when empty. */
  headPosition(): number;
  /**
   * Saves a snapshot; a later one for the same stream and version replaces it. In the same write the
   * store prunes the stream's snapshots to the `keepSnapshots` highest versions (a store option,
   * default 10; 0 or `Infinity` keeps all).
   */
  saveSnapshot(snapshot: SnapshotRecord): void;
  /** The latest snapshot of a stream at or before `atOrBeforeVersion` (default: latest). */
  loadSnapshot(streamId: string, atOrBeforeVersion?: number): SnapshotRecord | undefined;
  /** Every kept snapshot of a stream, in increasing version order, in one read ([] when none). */
  listSnapshots(streamId: string): SnapshotRecord[];
  /**
   * Saves a machine definition under its hash. The first record saved for a hash is kept: saving
   * one again (same hash) is a no-op, whatever its name, definition or time.
   */
  saveDefinition(record: DefinitionRecord): void;
  /** The definition saved under `hash`, or undefined (also for a log written before definitions were kept). */
  loadDefinition(hash: string): DefinitionRecord | undefined;
  /** Saves a named subscriber's last processed global position. */
  saveCheckpoint(name: string, position: number): void;
  loadCheckpoint(name: string): number | undefined;
  /**
   * Records from a global position: catches up from the log, then delivers new records live
   * (appends of this process at once, appends of other processes within `pollIntervalMs`).
   * Local appends are delivered synchronously, after their commit, inside the call that committed
   * them (`append`, `appendBatch`, or the outermost `transaction`). Completes when the store closes.
   */
  subscribe(options?: SubscribeOptions): Observable<EventRecord>;
  /**
   * Runs `fn` (synchronous) in one transaction and returns its result; if `fn` throws, every write
   * it made is undone and the error rethrown. Nested calls join the outer one as a savepoint: an
   * inner call that throws undoes only its own writes; nothing commits before the outermost call.
   */
  transaction<T>(fn: () => T): T;
  close(): void;
}

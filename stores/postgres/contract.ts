import type { Observable, SchedulerLike } from 'rxjs';
import type { AppendRequest, AppendResult, DefinitionRecord, EventRecord, NewEvent, SnapshotRecord, StreamRecord, StreamStatus } from '../../src/log/types.ts';

// The asynchronous LogStore contract of issue 17, as src/log/types.ts is getting it. Until that
// change lands, the PostgreSQL store declares it here; afterwards these declarations are replaced
// by imports from src/log/types.ts (same names, same shapes).

/** An event as the PostgreSQL store returns it: with the writing transaction's id (xid8, decimal). */
export interface PgEventRecord extends EventRecord {
  /** The id of the transaction that wrote the event (`pg_current_xact_id()`, xid8) as a decimal string. */
  transactionId?: string;
}

/** A position in the global order that is safe to resume from: (transaction id, global position). */
export interface LogCursor {
  transactionId: string;
  globalPosition: number;
}

/** A stream to create (see `createStream`). Times in ms since the Unix epoch. */
export interface NewStream {
  streamId: string;
  machine: { name: string; hash: string };
  input: unknown;
  createdAt: number;
}

/** A message to a journaled actor, waiting in its inbox until the actor's owner appends it to the stream. */
export interface InboxMessage {
  /** The receiving stream. */
  streamId: string;
  /** Unique per send (`EventMeta.causationId`); posting the same (streamId, causationId) twice keeps one. */
  causationId: string;
  type: string;
  data: unknown;
  /** The sender (stream id, or stream id + '/' + child path). */
  from: string;
  /** ms since the Unix epoch. */
  postedAt: number;
}

/** An inbox message as stored, with its id (increasing in posting order). */
export interface StoredInboxMessage extends InboxMessage {
  id: number;
}

/**
 * One atomic unit of writes (one transaction: all or none), applied in this order: definitions,
 * streams, appends, messages, consumed, snapshots, statuses.
 */
export interface WriteBatch {
  definitions?: DefinitionRecord[];
  streams?: NewStream[];
  appends?: AppendRequest[];
  messages?: InboxMessage[];
  consumed?: Array<{ streamId: string; id: number }>;
  snapshots?: SnapshotRecord[];
  statuses?: Array<{ streamId: string; status: StreamStatus; at: number }>;
}

/** Options of `subscribe` on the asynchronous contract. */
export interface AsyncSubscribeOptions {
  /** Deliver records after this global position (a number) or after this cursor. Default: from the start. */
  after?: number | LogCursor;
  /** Only records of this stream. */
  streamId?: string;
  /** The longest wait between two polls (ms). */
  pollIntervalMs?: number;
  /** Records read per query. Default 500. */
  batchSize?: number;
  /** The scheduler of the poll timer. Default asyncScheduler. */
  scheduler?: SchedulerLike;
}

/** Fenced ownership of streams by node incarnations (see ownership.ts). */
export interface StreamOwnership {
  readonly leaseMs: number;
  register(): Promise<{ nodeId: string; epoch: number }>;
  readonly node: { nodeId: string; epoch: number } | undefined;
  heartbeat(): Promise<void>;
  claimOrphans(limit: number): Promise<StreamRecord[]>;
  release(streamIds: string[]): Promise<void>;
}

/** The asynchronous log contract (issue 17). */
export interface AsyncLogStore {
  createStream(stream: NewStream): Promise<StreamRecord>;
  getStream(streamId: string): Promise<StreamRecord | undefined>;
  listStreams(filter?: { status?: StreamStatus[] }): Promise<StreamRecord[]>;
  setStreamStatus(streamId: string, status: StreamStatus, at: number): Promise<void>;
  append(streamId: string, expectedVersion: number, events: NewEvent[]): Promise<AppendResult>;
  appendBatch(requests: AppendRequest[]): Promise<AppendResult[]>;
  write(batch: WriteBatch): Promise<AppendResult[]>;
  readStream(streamId: string, range?: { fromVersion?: number; toVersion?: number }): Promise<EventRecord[]>;
  readAll(options?: { after?: number | LogCursor; limit?: number; streamId?: string }): Promise<EventRecord[]>;
  headPosition(): Promise<number>;
  saveSnapshot(snapshot: SnapshotRecord): Promise<void>;
  loadSnapshot(streamId: string, atOrBeforeVersion?: number): Promise<SnapshotRecord | undefined>;
  listSnapshots(streamId: string): Promise<SnapshotRecord[]>;
  saveDefinition(record: DefinitionRecord): Promise<void>;
  loadDefinition(hash: string): Promise<DefinitionRecord | undefined>;
  saveCheckpoint(name: string, position: number, expected?: number): Promise<boolean>;
  loadCheckpoint(name: string): Promise<number | undefined>;
  readInbox(streamId: string, limit?: number): Promise<StoredInboxMessage[]>;
  inboxStreams(limit?: number): Promise<string[]>;
  subscribe(options?: AsyncSubscribeOptions): Observable<EventRecord>;
  readonly ownership?: StreamOwnership;
  close(): Promise<void>;
}

import type pg from 'pg';
import type { Observable } from 'rxjs';
import { ActorlogError } from '../../src/errors.ts';
import type {
  AppendRequest,
  AppendResult,
  DefinitionRecord,
  EventRecord,
  NewEvent,
  SnapshotRecord,
  StreamTail,
  StreamFilter,
  StreamRecord,
  StreamStatus,
} from '../../src/log/types.ts';
import { loadCheckpoint, saveCheckpoint } from './checkpoints.ts';
import type { Connection } from './connection.ts';
import type { InboxMessage, LogCursor, LogStore, NewStream, StoredInboxMessage, SubscribeOptions, WriteBatch } from '../../src/log/types.ts';
import { loadDefinition } from './definitions.ts';
import { wrapPgError } from './errors.ts';
import { inboxStreams, readInbox } from './inbox.ts';
import { Listener } from './listener.ts';
import type { PostgresOwnership } from './ownership.ts';
import { headPosition, readBatch, type ReadBatch, type ReadFrom } from './readAll.ts';
import { readStream } from './readStream.ts';
import { listSnapshots, loadSnapshot } from './snapshots.ts';
import { readTails } from './tails.ts';
import { activateStreams, createStream, getStream, listStreams } from './streams.ts';
import { subscribeToPostgres } from './subscribe.ts';
import { applyBatch, statementCount } from './write.ts';

/** How {@link PostgresStore} was opened (index.ts validates and fills in the defaults). */
export interface PostgresStoreSettings {
  schema: string;
  keepSnapshots: number;
  pollIntervalMs: number;
}

/** The waits of `readAll` for the store's own last commit to pass the horizon (ms): doubled up to the last. */
const OWN_WRITE_WAIT_MS = [1, 2, 5, 10, 20, 50];

/**
 * The PostgreSQL log store: node-postgres pool, one SQL operation per file of this folder, fenced
 * appends, commit-safe global order (xid8 horizon), polling subscriptions woken by NOTIFY. Create it
 * with `openPostgresStore` (index.ts), which documents the behaviour; this class adds
 * `schema` and `ownership` (always present).
 */
export class PostgresStore implements LogStore {
  /** The PostgreSQL schema holding the store's tables. */
  readonly schema: string;
  readonly ownership: PostgresOwnership;
  private readonly S: string;
  private readonly listener: Listener;
  private closed = false;
  /** The newest transaction id (xid8) this store committed events in: `readAll` waits until the horizon passes it. */
  private lastWritten = 0n;

  /** @internal use `openPostgresStore` (index.ts) */
  constructor(
    private readonly connection: Connection,
    private readonly settings: PostgresStoreSettings,
    makeOwnership: (assertOpen: () => void) => PostgresOwnership,
  ) {
    this.schema = settings.schema;
    this.S = `"${settings.schema}"`;
    this.listener = new Listener(connection, `actorlog_${settings.schema}`);
    this.ownership = makeOwnership(() => this.assertOpen());
  }

  private assertOpen(): void {
    if (this.closed)
      throw new ActorlogError('STORE_UNAVAILABLE', `log store ${this.connection.label} (schema ${this.schema}) is closed`, {
        details: { schema: this.schema },
      });
  }

  /** Runs a read on the pool; pg errors become STORE_UNAVAILABLE (connection) or STORE_UNAVAILABLE with the SQLSTATE. */
  private async read<T>(what: string, fn: (q: pg.Pool) => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      return await fn(this.connection.pool);
    } catch (err) {
      throw wrapPgError(err, what, 'STORE_UNAVAILABLE');
    }
  }

  /** Creates a stream at version 0, owned by this store's node incarnation when registered. @throws STREAM_EXISTS */
  createStream(stream: NewStream): Promise<StreamRecord> {
    this.assertOpen();
    return createStream(this.connection.pool, this.S, this.ownership.fence(), stream);
  }

  getStream(streamId: string): Promise<StreamRecord | undefined> {
    return this.read(`read stream ${streamId}`, (q) => getStream(q, this.S, streamId));
  }

  listStreams(filter?: StreamFilter): Promise<StreamRecord[]> {
    return this.read('list streams', (q) => listStreams(q, this.S, filter));
  }

  /** Wakes passivated streams, this node (when registered) their owner: see {@link LogStore.activate}. */
  activate(streamIds: readonly string[]): Promise<StreamRecord[]> {
    this.assertOpen();
    return this.read('wake streams', (q) => activateStreams(q, this.S, this.ownership.fence(), { ids: streamIds }));
  }

  /** Wakes up to `limit` passivated streams due at `at` (ms), earliest first: see {@link LogStore.activateDue}. */
  activateDue(at: number, limit: number): Promise<StreamRecord[]> {
    this.assertOpen();
    return this.read('wake due streams', (q) => activateStreams(q, this.S, this.ownership.fence(), { at, limit }));
  }

  async setStreamStatus(streamId: string, status: StreamStatus, at: number): Promise<void> {
    await this.write({ statuses: [{ streamId, status, at }] });
  }

  async append(streamId: string, expectedVersion: number, events: NewEvent[]): Promise<AppendResult> {
    return (await this.write({ appends: [{ streamId, expectedVersion, events }] }))[0]!;
  }

  appendBatch(requests: AppendRequest[]): Promise<AppendResult[]> {
    return this.write({ appends: requests });
  }

  /**
   * Every write of `batch` in one transaction (a batch of one statement runs without BEGIN/COMMIT:
   * the statement is its own transaction). After the commit, subscribers here are woken and other
   * processes get an empty NOTIFY.
   */
  async write(batch: WriteBatch): Promise<AppendResult[]> {
    this.assertOpen();
    const fence = this.ownership.fence();
    const keep = this.settings.keepSnapshots;
    const applied =
      statementCount(batch) <= 1
        ? await applyBatch(this.connection.pool, false, this.S, fence, keep, batch).catch((err: unknown) => {
            throw wrapPgError(err, 'write to the log', 'APPEND_FAILED');
          })
        : await this.connection.transaction('write to the log', (client) => applyBatch(client, true, this.S, fence, keep, batch));
    if (applied.transactionId !== undefined) {
      const tx = BigInt(applied.transactionId);
      if (tx > this.lastWritten) this.lastWritten = tx;
    }
    if (applied.transactionId !== undefined || (batch.messages?.length ?? 0) > 0) this.listener.notify();
    return applied.results;
  }

  readStream(streamId: string, range?: { fromVersion?: number; toVersion?: number }): Promise<EventRecord[]> {
    return this.read(`read stream ${streamId}`, (q) => readStream(q, this.S, streamId, range));
  }

  /**
   * Events in commit-safe global order (see `readBatch`), after a global position or a cursor.
   * Reads this store's own writes: when the store committed events in a transaction the horizon has
   * not passed yet (an older transaction of the cluster is still open), it waits for that
   * transaction to end (1 ms, 2, 5, 10, 20, then every 50 ms) instead of returning a log without them.
   */
  async readAll(options?: { after?: number | LogCursor; limit?: number; streamId?: string }): Promise<EventRecord[]> {
    const from: ReadFrom = { limit: options?.limit === undefined ? 2 ** 31 - 1 : Math.max(0, options.limit) };
    const after = options?.after;
    if (typeof after === 'number') from.afterPosition = after;
    else if (after !== undefined) from.afterCursor = after;
    if (options?.streamId !== undefined) from.streamId = options.streamId;
    if (from.limit === 0) {
      this.assertOpen();
      return [];
    }
    for (let i = 0; ; i++) {
      const own = this.lastWritten;
      const batch = await this.readBatchChecked(from);
      if (batch.horizon > own) return batch.records;
      await new Promise((resolve) => setTimeout(resolve, OWN_WRITE_WAIT_MS[Math.min(i, OWN_WRITE_WAIT_MS.length - 1)]));
    }
  }

  private readBatchChecked(from: ReadFrom): Promise<ReadBatch> {
    return this.read('read the log', (q) => readBatch(q, this.S, from));
  }

  headPosition(): Promise<number> {
    return this.read('read the head position', (q) => headPosition(q, this.S));
  }

  async saveSnapshot(snapshot: SnapshotRecord): Promise<void> {
    await this.write({ snapshots: [snapshot] });
  }

  loadSnapshot(streamId: string, atOrBeforeVersion?: number): Promise<SnapshotRecord | undefined> {
    return this.read(`load a snapshot of stream ${streamId}`, (q) => loadSnapshot(q, this.S, streamId, atOrBeforeVersion));
  }

  readTails(streamIds: readonly string[]): Promise<StreamTail[]> {
    return this.read(`read the tails of ${streamIds.length} streams`, (q) => readTails(q, this.S, streamIds));
  }

  listSnapshots(streamId: string): Promise<SnapshotRecord[]> {
    return this.read(`list snapshots of stream ${streamId}`, (q) => listSnapshots(q, this.S, streamId));
  }

  async saveDefinition(record: DefinitionRecord): Promise<void> {
    await this.write({ definitions: [record] });
  }

  loadDefinition(hash: string): Promise<DefinitionRecord | undefined> {
    return this.read('load a machine definition', (q) => loadDefinition(q, this.S, hash));
  }

  async saveCheckpoint(name: string, position: number, expected?: number): Promise<boolean> {
    this.assertOpen();
    return saveCheckpoint(this.connection.pool, this.S, name, position, expected);
  }

  loadCheckpoint(name: string): Promise<number | undefined> {
    return this.read(`load checkpoint ${name}`, (q) => loadCheckpoint(q, this.S, name));
  }

  /** Posts messages to inboxes in one statement (a duplicate `(streamId, causationId)` is ignored); same as `write({ messages })`. */
  async post(messages: InboxMessage[]): Promise<void> {
    await this.write({ messages });
  }

  readInbox(streamId: string, limit?: number): Promise<StoredInboxMessage[]> {
    return this.read(`read the inbox of stream ${streamId}`, (q) => readInbox(q, this.S, streamId, limit));
  }

  inboxStreams(limit?: number): Promise<string[]> {
    return this.read('list inboxes', (q) => inboxStreams(q, this.S, limit));
  }

  subscribe(options?: SubscribeOptions): Observable<EventRecord> {
    this.assertOpen();
    return subscribeToPostgres(
      {
        read: (from) => this.readBatchChecked(from),
        wakeups: this.listener.wakeups,
        acquire: () => this.listener.acquire(),
        release: () => this.listener.release(),
        pollIntervalMs: this.settings.pollIntervalMs,
      },
      options,
    );
  }

  /**
   * Closes the store (idempotent): later calls throw `STORE_UNAVAILABLE`, subscriptions complete,
   * the heartbeat stops, the LISTEN client ends, and the pool ends when the store made it from a URL
   * (an application's pool is left open). Owned streams are not released (call `ownership.release`).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ownership.close();
    this.listener.close();
    await this.connection.end();
  }
}

import type Database from 'better-sqlite3';
import { Subject, type Observable } from 'rxjs';
import { ActorlogError } from '../../src/errors.ts';
import { subscribeToLog, type LogFeed } from '../../src/log/subscribe.ts';
import type {
  AppendRequest,
  AppendResult,
  StreamTail,
  DefinitionRecord,
  EventRecord,
  LogCursor,
  LogStore,
  NewEvent,
  NewStream,
  SnapshotRecord,
  StoredInboxMessage,
  StreamRecord,
  StreamStatus,
  StreamFilter,
  SubscribeOptions,
  WriteBatch,
} from '../../src/log/types.ts';
import { applyWriteBatch, type SyncWrites } from '../../src/log/writeBatch.ts';
import { prepareInbox, type Inbox } from './inbox.ts';
import { prepareAppendToStream, type AppendToStream } from './appendToStream.ts';
import { prepareCheckpoints, type Checkpoints } from './checkpoints.ts';
import { prepareDefinitions, type Definitions } from './definitions.ts';
import { prepareReadAll, type ReadAll } from './readAll.ts';
import { prepareReadStream, type ReadStream } from './readStream.ts';
import { prepareReadTails, type ReadTails } from './tails.ts';
import { prepareSnapshots, type Snapshots } from './snapshots.ts';
import { prepareStreams, type Streams } from './streams.ts';
import { VersionCache } from './versionCache.ts';
import { fileIdentity, type FileIdentity } from './fileIdentity.ts';

/** How {@link SqliteStore} was opened (index.ts validates and fills in the defaults). */
export interface SqliteStoreSettings {
  readonly: boolean;
  /** The connection fell back to `immutable=1` (read-only, directory not writable). */
  immutable: boolean;
  /** Snapshots kept per stream, an integer >= 1 or `Infinity`. */
  keepSnapshots: number;
  /** Streams whose version is cached, an integer >= 1. */
  versionCacheSize: number;
}

/** A read-write store checks that its file still has a name at least once per this many writes… */
export const FILE_CHECK_WRITES = 32;
/** …and at least once per this many ms of writing. */
const FILE_CHECK_MS = 100;

/** The prepared operations of one connection, one file each. */
type Operations = Streams & ReadAll & Snapshots & Checkpoints & Definitions & Inbox & { append: AppendToStream; readStream: ReadStream; readTails: ReadTails };

/**
 * The SQLite log store (better-sqlite3): one long-lived connection in WAL mode, every statement
 * prepared once at open, one SQL operation per file of this folder. Implements {@link LogStore};
 * passes test/conformance. Create it with `openSqliteStore` (index.ts).
 *
 * This connection must be the only writer of the file's streams it appends to (one owner per stream,
 * docs/architecture.md): versions are cached in memory (the `versionCacheSize` most recently written streams). Another process appending anyway is still caught
 * (`VERSION_CONFLICT` from the unique index), and its records reach subscriptions by polling.
 *
 * Errors: the {@link LogStore} codes; every call on a closed store, every write on a read-only one,
 * and every write once it found that the file at its path is no longer the one it opened (deleted or
 * replaced while the service runs: checked at least every {@link FILE_CHECK_WRITES} writes and every
 * 100 ms of writing) throws `STORE_UNAVAILABLE`; a failed INSERT throws `APPEND_FAILED` with the SQLite `cause`.
 *
 * @example
 * ```ts
 * const store: SqliteStore = openSqliteStore('./actorlog.db', { synchronous: 'FULL' });
 * const { nextVersion } = store.append('job-1', 0, [event]); // VERSION_CONFLICT if job-1 is not at 0
 * store.subscribe({ after: store.loadCheckpoint('tail') ?? 0 }).subscribe(print);
 * ```
 */
export class SqliteStore implements LogStore {
  /** The file path given to `openSqliteStore` (index.ts). */
  readonly path: string;
  /** True when opened with `readonly`. */
  readonly readonly: boolean;
  /**
   * True when the read-only store had to open its file with SQLite's `immutable=1`, because the
   * file's directory is not writable: it reads the file as it stood at open and sees no later change
   * by another process (a tail shows nothing new). Always false read-write.
   */
  readonly immutable: boolean;
  private readonly db: Database.Database;
  private readonly versions: VersionCache;
  private readonly appended = new Subject<void>();
  private readonly feed: LogFeed;
  private readonly ops: Operations;
  private readonly runInTransaction: Database.Transaction<(fn: () => unknown) => unknown>;
  /** False once closed or when read-only: the one check on the write path. */
  private writable: boolean;
  /** The file opened, to notice it deleted or replaced under a read-write connection (see `checkWritable`). */
  private readonly identity: FileIdentity | undefined;
  /** Set once the file at the path was found not to be the one open: every later write is refused. */
  private replaced = false;
  /** Writes since the file was last checked, and when (ms): see `checkWritable`. */
  private uncheckedWrites = 0;
  private checkedAt = 0;
  private closed = false;
  /** Something was appended inside the open transaction: notify subscribers at its commit. */
  private dirty = false;
  /** How many `transaction()` calls are running (0: none; then every append commits by itself). */
  private depth = 0;

  /** @internal use `openSqliteStore` (index.ts) */
  constructor(path: string, db: Database.Database, settings: SqliteStoreSettings) {
    this.path = path;
    this.readonly = settings.readonly;
    this.immutable = settings.immutable;
    this.writable = !settings.readonly;
    this.identity = settings.readonly ? undefined : fileIdentity(path);
    this.db = db;
    this.versions = new VersionCache(settings.versionCacheSize);
    this.ops = {
      ...prepareStreams(db, this.versions),
      ...prepareReadAll(db),
      ...prepareSnapshots(db, settings.keepSnapshots),
      ...prepareCheckpoints(db),
      ...prepareDefinitions(db),
      ...prepareInbox(db),
      append: prepareAppendToStream(db, this.versions),
      readStream: prepareReadStream(db),
      readTails: prepareReadTails(db),
    };
    this.runInTransaction = db.transaction((fn: () => unknown) => {
      this.depth++;
      try {
        return fn();
      } finally {
        this.depth--;
      }
    });
    this.feed = { readAll: (o) => this.readAll(o), appended: this.appended.asObservable(), inTransaction: () => this.db.inTransaction };
  }

  private unavailable(): never {
    if (this.closed) throw new ActorlogError('STORE_UNAVAILABLE', `log store ${this.path} is closed`, { details: { path: this.path } });
    throw new ActorlogError('STORE_UNAVAILABLE', `log store ${this.path} is open read-only`, { details: { path: this.path, readonly: true } });
  }

  /**
   * The write path's check: open, read-write, and the file at the path still the one open (checked
   * once per call from outside a transaction; a write inside one was checked by the call that opened it).
   */
  private checkWritable(): void {
    if (!this.writable) this.unavailable();
    if (this.depth > 0 || this.identity === undefined) return;
    if (!this.replaced) {
      // one fstat per FILE_CHECK_WRITES writes, or per FILE_CHECK_MS (the log is lost once deleted
      // anyway: what matters is that the service stops within a few writes instead of pretending)
      const now = Date.now();
      if (++this.uncheckedWrites < FILE_CHECK_WRITES && now - this.checkedAt < FILE_CHECK_MS) return;
      this.uncheckedWrites = 0;
      this.checkedAt = now;
      if (this.identity.same()) return;
    }
    this.replaced = true;
    throw new ActorlogError(
      'STORE_UNAVAILABLE',
      `log file ${this.path} was deleted or replaced while open: a write would go to the unlinked file and be lost; close the store and open the log again`,
      {
        details: { path: this.path, replaced: true },
      },
    );
  }

  private assertOpen(): void {
    if (this.closed) this.unavailable();
  }

  /** After a committed append: wake subscriptions now, or at the commit of the open transaction. */
  private notify(): void {
    if (this.depth > 0) this.dirty = true;
    else if (this.appended.observed) this.appended.next();
  }

  createStream(stream: NewStream): StreamRecord {
    this.checkWritable();
    return this.ops.createStream(stream);
  }

  getStream(streamId: string): StreamRecord | undefined {
    this.assertOpen();
    return this.ops.getStream(streamId);
  }

  listStreams(filter?: StreamFilter): StreamRecord[] {
    this.assertOpen();
    return this.ops.listStreams(filter);
  }

  activate(streamIds: readonly string[]): StreamRecord[] {
    this.checkWritable();
    return this.transaction(() => this.ops.activate(streamIds));
  }

  activateDue(at: number, limit: number): StreamRecord[] {
    this.checkWritable();
    return this.transaction(() => this.ops.activateDue(at, limit));
  }

  setStreamStatus(streamId: string, status: StreamStatus, at: number): void {
    this.checkWritable();
    this.ops.setStreamStatus(streamId, status, at);
  }

  append(streamId: string, expectedVersion: number, events: NewEvent[]): AppendResult {
    this.checkWritable();
    const result = this.ops.append(streamId, expectedVersion, events);
    if (events.length > 0) this.notify();
    return result;
  }

  appendBatch(requests: AppendRequest[]): AppendResult[] {
    this.checkWritable();
    return this.transaction(() => {
      const results: AppendResult[] = [];
      for (let i = 0; i < requests.length; i++) {
        const r = requests[i]!;
        results[i] = this.ops.append(r.streamId, r.expectedVersion, r.events);
        if (r.events.length > 0) this.dirty = true;
      }
      return results;
    });
  }

  readStream(streamId: string, range?: { fromVersion?: number; toVersion?: number }): EventRecord[] {
    this.assertOpen();
    return this.ops.readStream(streamId, range);
  }

  readAll(options?: { after?: number | LogCursor; limit?: number; streamId?: string }): EventRecord[] {
    this.assertOpen();
    return this.ops.readAll(options);
  }

  headPosition(): number {
    this.assertOpen();
    return this.ops.headPosition();
  }

  /** Saves a snapshot and, in the same transaction, keeps only the stream's `keepSnapshots` latest. */
  saveSnapshot(snapshot: SnapshotRecord): void {
    this.checkWritable();
    this.ops.saveSnapshot(snapshot);
  }

  loadSnapshot(streamId: string, atOrBeforeVersion?: number): SnapshotRecord | undefined {
    this.assertOpen();
    return this.ops.loadSnapshot(streamId, atOrBeforeVersion);
  }

  listSnapshots(streamId: string): SnapshotRecord[] {
    this.assertOpen();
    return this.ops.listSnapshots(streamId);
  }

  readTails(streamIds: readonly string[]): StreamTail[] {
    this.assertOpen();
    return this.ops.readTails(streamIds);
  }

  /** Saves a machine definition under its hash; the first saved for a hash is kept. */
  saveDefinition(record: DefinitionRecord): void {
    this.checkWritable();
    this.ops.saveDefinition(record);
  }

  /** A machine definition by hash; undefined also on a read-only log of schema version 1 or 2 (no table). */
  loadDefinition(hash: string): DefinitionRecord | undefined {
    this.assertOpen();
    return this.ops.loadDefinition(hash);
  }

  saveCheckpoint(name: string, position: number, expected?: number): boolean {
    this.checkWritable();
    return this.ops.saveCheckpoint(name, position, expected);
  }

  /** Every write of `batch` in one `BEGIN IMMEDIATE` transaction (see {@link LogStore.write}). */
  write(batch: WriteBatch): AppendResult[] {
    this.checkWritable();
    return applyWriteBatch(this.writes, batch);
  }

  private readonly writes: SyncWrites = {
    transaction: (fn) => this.transaction(fn),
    saveDefinition: (d) => this.saveDefinition(d),
    createStream: (s) => this.createStream(s),
    append: (id, v, events) => this.append(id, v, events),
    postMessage: (m) => this.ops.postMessage(m),
    consumeMessage: (id, n) => this.ops.consumeMessage(id, n),
    saveSnapshot: (s) => this.saveSnapshot(s),
    setStreamStatus: (id, status, at) => this.setStreamStatus(id, status, at),
    passivate: (p) => this.ops.passivate(p),
  };

  readInbox(streamId: string, limit?: number): StoredInboxMessage[] {
    this.assertOpen();
    return this.ops.readInbox(streamId, limit);
  }

  inboxStreams(limit?: number): string[] {
    this.assertOpen();
    return this.ops.inboxStreams(limit);
  }

  loadCheckpoint(name: string): number | undefined {
    this.assertOpen();
    return this.ops.loadCheckpoint(name);
  }

  subscribe(options?: SubscribeOptions): Observable<EventRecord> {
    this.assertOpen();
    return subscribeToLog(this.feed, options);
  }

  /**
   * Runs `fn` in one transaction (`BEGIN IMMEDIATE`; a read transaction when read-only). A nested
   * call runs in a savepoint of the outer one: if it throws, its own writes are undone and the error
   * propagates. `fn` must be synchronous. Subscribers hear of the appends when the outermost
   * transaction commits. A rollback also drops the in-memory version cache (it is re-read).
   */
  transaction<T>(fn: () => T): T {
    this.assertOpen();
    const outer = this.depth === 0;
    try {
      const result = (this.readonly ? this.runInTransaction(fn) : this.runInTransaction.immediate(fn)) as T;
      if (outer && this.dirty) {
        this.dirty = false;
        this.appended.next();
      }
      return result;
    } catch (err) {
      // the (partial) rollback may have undone appends the version cache already counts
      this.versions.clear();
      if (outer) this.dirty = false;
      throw err;
    }
  }

  /**
   * Reads a pragma of the store's connection, for diagnostics and tests: `'journal_mode'` -> `'wal'`,
   * `'synchronous'` -> 1 (NORMAL) or 2 (FULL), `'busy_timeout'` -> ms, `'user_version'` -> schema version.
   * @throws ActorlogError `INVALID_OPTIONS` unless `name` is a bare pragma name (no assignment);
   *   `STORE_UNAVAILABLE` when closed
   * @example
   * ```ts
   * openSqliteStore(path, { synchronous: 'FULL' }).pragma('synchronous'); // 2
   * ```
   */
  pragma(name: string): unknown {
    this.assertOpen();
    if (!/^[a-z_]+$/.test(name)) throw new ActorlogError('INVALID_OPTIONS', `not a pragma name: ${name}`, { details: { name } });
    return this.db.pragma(name, { simple: true });
  }

  /** Closes the connection (idempotent). Later calls throw `STORE_UNAVAILABLE`; subscriptions complete. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.writable = false;
    this.versions.clear();
    this.db.close();
    this.identity?.close();
    this.appended.complete();
  }
}

import type Database from 'better-sqlite3';
import { Subject, type Observable } from 'rxjs';
import { ActorlogError } from '../../src/errors.ts';
import { subscribeToLog } from '../../src/log/subscribe.ts';
import type { AppendRequest, AppendResult, EventRecord, LogStore, NewEvent, SnapshotRecord, StreamRecord, StreamStatus, SubscribeOptions } from '../../src/log/types.ts';
import { prepareAppendToStream, type AppendToStream } from './appendToStream.ts';
import { prepareCheckpoints, type Checkpoints } from './checkpoints.ts';
import { openConnection } from './connection.ts';
import { prepareReadAll, type ReadAll } from './readAll.ts';
import { prepareReadStream, type ReadStream } from './readStream.ts';
import { prepareSnapshots, type Snapshots } from './snapshots.ts';
import { prepareStreams, type Streams } from './streams.ts';

export { SCHEMA_VERSION } from './schema.ts';

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * `PRAGMA synchronous`. `NORMAL`: in WAL mode a commit is durable against a process crash, and a
   * power loss may lose the last commits (never corrupts). `FULL`: every commit is fsynced.
   * @default 'NORMAL'
   */
  synchronous?: 'NORMAL' | 'FULL';
  /** How long a write waits for another process's lock before failing (ms). @default 5000 */
  busyTimeoutMs?: number;
  /**
   * Opens an existing file read-only (for the CLI: `streams`, `replay`, `tail`): never creates or
   * migrates it; every write throws `STORE_UNAVAILABLE`. @default false
   */
  readonly?: boolean;
}

/**
 * The SQLite log store (better-sqlite3): one long-lived connection in WAL mode, every statement
 * prepared once at open, one SQL operation per file of this folder. Implements {@link LogStore};
 * passes test/conformance. Create it with {@link openSqliteStore}.
 *
 * This connection must be the only writer of the file's streams it appends to (one owner per stream,
 * DESIGN.md): versions are cached in memory. Another process appending anyway is still caught
 * (`VERSION_CONFLICT` from the unique index), and its records reach subscriptions by polling.
 */
export class SqliteStore implements LogStore {
  /** The file path given to {@link openSqliteStore}. */
  readonly path: string;
  /** True when opened with `readonly`. */
  readonly readonly: boolean;
  private readonly db: Database.Database;
  private readonly versions = new Map<string, number>();
  private readonly appended = new Subject<void>();
  private readonly feed: { readAll: ReadAll['readAll']; appended: Observable<void> };
  private readonly appendToStream: AppendToStream;
  private readonly streams: Streams;
  private readonly reads: ReadAll;
  private readonly readStreamFn: ReadStream;
  private readonly snapshots: Snapshots;
  private readonly checkpoints: Checkpoints;
  private readonly runInTransaction: Database.Transaction<(fn: () => unknown) => unknown>;
  /** False once closed or when read-only: the one check on the write path. */
  private writable: boolean;
  private closed = false;
  /** Something was appended inside the open transaction: notify subscribers at its commit. */
  private dirty = false;

  /** @internal use {@link openSqliteStore} */
  constructor(path: string, db: Database.Database, readonly: boolean) {
    this.path = path;
    this.readonly = readonly;
    this.writable = !readonly;
    this.db = db;
    this.appendToStream = prepareAppendToStream(db, this.versions);
    this.streams = prepareStreams(db, this.versions);
    this.reads = prepareReadAll(db);
    this.readStreamFn = prepareReadStream(db);
    this.snapshots = prepareSnapshots(db);
    this.checkpoints = prepareCheckpoints(db);
    this.runInTransaction = db.transaction((fn: () => unknown) => fn());
    this.feed = { readAll: (o) => this.readAll(o), appended: this.appended.asObservable() };
  }

  private unavailable(): never {
    if (this.closed) throw new ActorlogError('STORE_UNAVAILABLE', `log store ${this.path} is closed`, { details: { path: this.path } });
    throw new ActorlogError('STORE_UNAVAILABLE', `log store ${this.path} is open read-only`, { details: { path: this.path, readonly: true } });
  }

  private assertOpen(): void {
    if (this.closed) this.unavailable();
  }

  /** After a committed append: wake subscriptions now, or at the commit of the open transaction. */
  private notify(): void {
    if (this.db.inTransaction) this.dirty = true;
    else this.appended.next();
  }

  createStream(stream: { streamId: string; machine: { name: string; hash: string }; input: unknown; createdAt: number }): StreamRecord {
    if (!this.writable) this.unavailable();
    return this.streams.createStream(stream);
  }

  getStream(streamId: string): StreamRecord | undefined {
    this.assertOpen();
    return this.streams.getStream(streamId);
  }

  listStreams(filter?: { status?: StreamStatus[] }): StreamRecord[] {
    this.assertOpen();
    return this.streams.listStreams(filter);
  }

  setStreamStatus(streamId: string, status: StreamStatus, at: number): void {
    if (!this.writable) this.unavailable();
    this.streams.setStreamStatus(streamId, status, at);
  }

  append(streamId: string, expectedVersion: number, events: NewEvent[]): AppendResult {
    if (!this.writable) this.unavailable();
    const result = this.appendToStream(streamId, expectedVersion, events);
    if (events.length > 0) this.notify();
    return result;
  }

  appendBatch(requests: AppendRequest[]): AppendResult[] {
    if (!this.writable) this.unavailable();
    return this.transaction(() => {
      const results: AppendResult[] = new Array(requests.length);
      for (let i = 0; i < requests.length; i++) {
        const r = requests[i]!;
        results[i] = this.appendToStream(r.streamId, r.expectedVersion, r.events);
        if (r.events.length > 0) this.dirty = true;
      }
      return results;
    });
  }

  readStream(streamId: string, range?: { fromVersion?: number; toVersion?: number }): EventRecord[] {
    this.assertOpen();
    return this.readStreamFn(streamId, range);
  }

  readAll(options?: { after?: number; limit?: number }): EventRecord[] {
    this.assertOpen();
    return this.reads.readAll(options);
  }

  headPosition(): number {
    this.assertOpen();
    return this.reads.headPosition();
  }

  saveSnapshot(snapshot: SnapshotRecord): void {
    if (!this.writable) this.unavailable();
    this.snapshots.saveSnapshot(snapshot);
  }

  loadSnapshot(streamId: string, atOrBeforeVersion?: number): SnapshotRecord | undefined {
    this.assertOpen();
    return this.snapshots.loadSnapshot(streamId, atOrBeforeVersion);
  }

  saveCheckpoint(name: string, position: number): void {
    if (!this.writable) this.unavailable();
    this.checkpoints.saveCheckpoint(name, position);
  }

  loadCheckpoint(name: string): number | undefined {
    this.assertOpen();
    return this.checkpoints.loadCheckpoint(name);
  }

  subscribe(options?: SubscribeOptions): Observable<EventRecord> {
    this.assertOpen();
    return subscribeToLog(this.feed, options);
  }

  /**
   * Runs `fn` in one transaction (`BEGIN IMMEDIATE`; a read transaction when read-only). A nested call runs in a savepoint of the outer
   * one: if it throws, its own writes are undone and the error propagates. `fn` must be synchronous.
   * Subscribers hear of the appends when the outermost transaction commits.
   */
  transaction<T>(fn: () => T): T {
    this.assertOpen();
    const outer = !this.db.inTransaction;
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
    this.appended.complete();
  }
}

/**
 * Opens (creating when missing, mode 0600) a SQLite log file and returns its store. Sets WAL, the
 * `synchronous` level and a busy timeout, and migrates the schema (`PRAGMA user_version`).
 * `':memory:'` opens a private in-memory database (no WAL; for tests).
 *
 * @param path the log file; its `-wal` and `-shm` companions live next to it (also 0600)
 * @param options `synchronous` (default `'NORMAL'`), `busyTimeoutMs` (ms, default 5000), `readonly`
 * @throws ActorlogError `STORE_UNAVAILABLE` when the file cannot be created or opened, or is missing
 *   in read-only mode; `SCHEMA_VERSION` when the file was written by a newer actorlog
 * @example
 * ```ts
 * import { openSqliteStore } from 'actorlog/stores/sqlite';
 * const store = openSqliteStore('./actorlog.db');
 * store.createStream({ streamId: 'job-1', machine: { name: 'job', hash: 'ab12' }, input: {}, createdAt: Date.now() });
 * store.append('job-1', 0, [{ type: 'submit', data: { prompt: 'hi' }, meta: { source: 'external', recordedAt: Date.now() } }]);
 * store.close();
 * ```
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  const readonly = options.readonly ?? false;
  const db = openConnection(path, {
    synchronous: options.synchronous ?? 'NORMAL',
    busyTimeoutMs: options.busyTimeoutMs ?? 5000,
    readonly,
  });
  return new SqliteStore(path, db, readonly);
}

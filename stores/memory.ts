import { Subject, type Observable } from 'rxjs';
import { ActorlogError } from '../src/errors.ts';
import { subscribeToLog, type LogFeed } from '../src/log/subscribe.ts';
import type {
  AppendRequest,
  AppendResult,
  DefinitionRecord,
  EventMeta,
  EventRecord,
  InboxMessage,
  LogCursor,
  LogStore,
  NewEvent,
  NewStream,
  SnapshotRecord,
  StoredInboxMessage,
  StreamRecord,
  StreamStatus,
  StreamFilter,
  StreamTail,
  Passivation,
  SubscribeOptions,
  WriteBatch,
} from '../src/log/types.ts';
import { applyWriteBatch, positionAfter } from '../src/log/writeBatch.ts';
import { resolveKeepSnapshots } from '../src/log/keepSnapshots.ts';
import { assertStreamId } from '../src/log/streamId.ts';

interface StoredEvent {
  globalPosition: number;
  streamId: string;
  version: number;
  type: string;
  data: string;
  meta: string;
  /** `meta.recordedAt` when it is a number (for `updatedAt`), else null. */
  recordedAt: number | null;
}

interface StoredStream {
  streamId: string;
  machine: { name: string; hash: string };
  input: string;
  status: StreamStatus;
  createdAt: number;
  /** Time of creation or of the last status change (ms). */
  statusAt: number;
  events: StoredEvent[];
  /** Set while passivated: when, and its next due time (ms). */
  passivated?: { at: number; wakeAt: number | undefined };
}

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * How many snapshots to keep per stream: each `saveSnapshot` drops the stream's snapshots below its
   * `keepSnapshots` highest versions (undone with the transaction). `0` or `Infinity` keeps them all.
   * @default 10
   */
  keepSnapshots?: number;
}

export { DEFAULT_KEEP_SNAPSHOTS } from '../src/log/keepSnapshots.ts';

/** The index of the first event of `events` (sorted by global position) with position > `after`. */
function firstAfter(events: readonly StoredEvent[], after: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid]!.globalPosition > after) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** JSON text of a value; `undefined` becomes `null`, as in the SQLite store. */
const encode = (value: unknown): string => JSON.stringify(value) ?? 'null';

/** {@link encode} for a write: a value JSON cannot hold fails it with `APPEND_FAILED` (as in the SQLite store). */
function encodeForWrite(value: unknown, what: string, details: Record<string, unknown>): string {
  try {
    return encode(value);
  } catch (err) {
    throw new ActorlogError('APPEND_FAILED', `could not write the ${what}: ${(err as Error).message}`, { cause: err, details });
  }
}

const toEventRecord = (e: StoredEvent): EventRecord => {
  const { globalPosition, streamId, version, type } = e;
  return { globalPosition, streamId, version, type, data: JSON.parse(e.data), meta: JSON.parse(e.meta) as EventMeta };
};

function toStreamRecord(s: StoredStream): StreamRecord {
  const lastAt = s.events.at(-1)?.recordedAt ?? null;
  const updatedAt = lastAt !== null && lastAt > s.statusAt ? lastAt : s.statusAt;
  const { streamId, status, createdAt } = s;
  return { streamId, machine: { ...s.machine }, input: JSON.parse(s.input), status, version: s.events.length, createdAt, updatedAt };
}

/**
 * The in-memory log store: the same contract and behaviour as the SQLite store (it passes the same
 * conformance suite), nothing persisted. Data, meta, input and snapshots are stored as JSON text and
 * parsed on the way out, so callers can mutate neither the log nor what they read, and values
 * round-trip exactly as through SQLite (`undefined` fields dropped, `Date`s become strings).
 * Transactions keep an undo log; a nested transaction that throws undoes only its own writes.
 * @example
 * ```ts
 * const store: MemoryStore = createMemoryStore(); // then use it as any LogStore
 * ```
 */
export class MemoryStore implements LogStore {
  private readonly streams = new Map<string, StoredStream>();
  private readonly log: StoredEvent[] = [];
  private readonly snapshots = new Map<string, Map<number, { snapshot: string; recordedAt: number }>>();
  private readonly checkpoints = new Map<string, number>();
  /** Inbox messages by id (ids increase), and the (stream, causation id) pairs posted. */
  private readonly inbox = new Map<number, StoredInboxMessage>();
  private readonly posted = new Set<string>();
  private nextMessageId = 1;
  /** Machine definitions by hash: name, definition as JSON text, recordedAt. */
  private readonly definitions = new Map<string, { name: string; definition: string; recordedAt: number }>();
  /** Snapshots kept per stream, an integer >= 1 or `Infinity`. */
  private readonly keepSnapshots: number;
  private readonly appended = new Subject<void>();
  private readonly feed: LogFeed = { readAll: (o) => this.readAll(o), appended: this.appended.asObservable(), inTransaction: () => this.depth > 0 };
  /** Undo steps of the open transaction, newest last; empty outside a transaction. */
  private undo: Array<() => void> = [];
  private depth = 0;
  private dirty = false;
  private closed = false;

  /**
   * @param options `keepSnapshots` (default 10; 0 or `Infinity`: all)
   * @throws ActorlogError `INVALID_OPTIONS` when `keepSnapshots` is not an integer >= 0 or `Infinity`
   */
  constructor(options: MemoryStoreOptions = {}) {
    this.keepSnapshots = resolveKeepSnapshots(options.keepSnapshots);
  }

  private assertOpen(): void {
    if (this.closed) throw new ActorlogError('STORE_UNAVAILABLE', 'memory log store is closed');
  }

  /** Records how to undo a write, when inside a transaction. */
  private onUndo = (step: () => void): void => {
    if (this.depth > 0) this.undo.push(step);
  };

  private stream(streamId: string): StoredStream {
    const s = this.streams.get(streamId);
    if (s === undefined) throw new ActorlogError('STREAM_NOT_FOUND', `no stream ${streamId}`, { details: { streamId } });
    return s;
  }

  createStream(stream: NewStream): StreamRecord {
    this.assertOpen();
    const { streamId, machine, createdAt } = stream;
    assertStreamId(streamId, 'createStream');
    if (this.streams.has(streamId)) throw new ActorlogError('STREAM_EXISTS', `stream ${streamId} already exists`, { details: { streamId } });
    const input = encode(stream.input);
    const stored: StoredStream = {
      streamId,
      machine: { name: machine.name, hash: machine.hash },
      input,
      status: 'active',
      createdAt,
      statusAt: createdAt,
      events: [],
    };
    this.streams.set(streamId, stored);
    this.onUndo(() => this.streams.delete(streamId));
    return toStreamRecord(stored);
  }

  getStream(streamId: string): StreamRecord | undefined {
    this.assertOpen();
    const s = this.streams.get(streamId);
    return s === undefined ? undefined : toStreamRecord(s);
  }

  listStreams(filter?: StreamFilter): StreamRecord[] {
    this.assertOpen();
    const status = filter?.status;
    const passivated = filter?.passivated;
    const out: StreamRecord[] = [];
    for (const s of this.streams.values()) {
      if (status !== undefined && !status.includes(s.status)) continue;
      if (passivated !== undefined && passivated !== (s.passivated !== undefined)) continue;
      out.push(toStreamRecord(s));
    }
    return out;
  }

  activate(streamIds: readonly string[]): StreamRecord[] {
    this.assertOpen();
    const out: StreamRecord[] = [];
    for (const id of new Set(streamIds)) {
      const s = this.streams.get(id);
      if (s === undefined || s.passivated === undefined || s.status !== 'active') continue;
      s.passivated = undefined;
      out.push(toStreamRecord(s));
    }
    return out;
  }

  activateDue(at: number, limit: number): StreamRecord[] {
    this.assertOpen();
    const due = [...this.streams.values()]
      .filter((s) => s.status === 'active' && s.passivated?.wakeAt !== undefined && s.passivated.wakeAt <= at)
      .sort((a, b) => a.passivated!.wakeAt! - b.passivated!.wakeAt!)
      .slice(0, Math.max(0, limit));
    return this.activate(due.map((s) => s.streamId));
  }

  private passivate(p: Passivation): void {
    this.assertOpen();
    const s = this.stream(p.streamId);
    const before = s.passivated;
    s.passivated = { at: p.at, wakeAt: p.wakeAt };
    this.onUndo(() => (s.passivated = before));
  }

  setStreamStatus(streamId: string, status: StreamStatus, at: number): void {
    this.assertOpen();
    const s = this.stream(streamId);
    const before = { status: s.status, statusAt: s.statusAt };
    s.status = status;
    s.statusAt = at;
    this.onUndo(() => Object.assign(s, before));
  }

  append(streamId: string, expectedVersion: number, events: NewEvent[]): AppendResult {
    this.assertOpen();
    const s = this.stream(streamId);
    const actualVersion = s.events.length;
    const details = { streamId, expectedVersion, actualVersion };
    if (actualVersion !== expectedVersion)
      throw new ActorlogError('VERSION_CONFLICT', `stream ${streamId} is at version ${actualVersion}, not ${expectedVersion}`, { details });
    if (events.length === 0) return { nextVersion: expectedVersion, lastGlobalPosition: s.events[expectedVersion - 1]?.globalPosition ?? 0 };
    let stored: StoredEvent[];
    try {
      stored = events.map((e, i) => {
        if (typeof e.type !== 'string') throw new TypeError('event type must be a string');
        const recordedAt = (e.meta as EventMeta | undefined)?.recordedAt;
        const [globalPosition, version, data, meta] = [this.log.length + i + 1, expectedVersion + i + 1, encode(e.data), encode(e.meta)];
        return { globalPosition, streamId, version, type: e.type, data, meta, recordedAt: typeof recordedAt === 'number' ? recordedAt : null };
      });
    } catch (err) {
      const message = `could not append to stream ${streamId}: ${(err as Error).message}`;
      throw new ActorlogError('APPEND_FAILED', message, { cause: err, details: { streamId, expectedVersion } });
    }
    const n = stored.length;
    for (const e of stored) {
      this.log.push(e);
      s.events.push(e);
    }
    this.onUndo(() => void ((this.log.length -= n), (s.events.length -= n)));
    if (this.depth > 0) this.dirty = true;
    else this.appended.next();
    return { nextVersion: expectedVersion + n, lastGlobalPosition: this.log.length };
  }

  appendBatch(requests: AppendRequest[]): AppendResult[] {
    this.assertOpen();
    return this.transaction(() => requests.map((r) => this.append(r.streamId, r.expectedVersion, r.events)));
  }

  readStream(streamId: string, range?: { fromVersion?: number; toVersion?: number }): EventRecord[] {
    this.assertOpen();
    const events = this.streams.get(streamId)?.events ?? [];
    const from = Math.max(0, Math.ceil(range?.fromVersion ?? 1) - 1);
    const to = Math.min(events.length, Math.floor(range?.toVersion ?? events.length));
    return from < to ? events.slice(from, to).map(toEventRecord) : [];
  }

  /** With `streamId`, a binary search of that stream's events (sorted by global position): no scan of the log. */
  readAll(options?: { after?: number | LogCursor; limit?: number; streamId?: string }): EventRecord[] {
    this.assertOpen();
    const streamId = options?.streamId;
    const after = positionAfter(options?.after);
    const source = streamId === undefined ? this.log : (this.streams.get(streamId)?.events ?? []);
    const start = streamId === undefined ? Math.max(0, Math.floor(after)) : firstAfter(source, after);
    const limit = options?.limit;
    const end = limit === undefined ? source.length : Math.min(source.length, start + Math.max(0, limit));
    return start < end ? source.slice(start, end).map(toEventRecord) : [];
  }

  headPosition(): number {
    this.assertOpen();
    return this.log.length;
  }

  saveSnapshot(snapshot: SnapshotRecord): void {
    this.assertOpen();
    const { streamId, version } = snapshot;
    const map = this.snapshots.get(streamId) ?? new Map<number, { snapshot: string; recordedAt: number }>();
    this.snapshots.set(streamId, map);
    const before = map.get(version);
    map.set(version, { snapshot: encodeForWrite(snapshot.snapshot, `snapshot of ${streamId}`, { streamId, version }), recordedAt: snapshot.recordedAt });
    this.onUndo(() => (before === undefined ? map.delete(version) : map.set(version, before)));
    if (map.size <= this.keepSnapshots) return;
    const pruned = [...map.keys()].sort((a, b) => b - a).slice(this.keepSnapshots);
    for (const v of pruned) {
      const dropped = map.get(v)!;
      map.delete(v);
      this.onUndo(() => map.set(v, dropped));
    }
  }

  loadSnapshot(streamId: string, atOrBeforeVersion?: number): SnapshotRecord | undefined {
    this.assertOpen();
    const limit = atOrBeforeVersion ?? Number.MAX_SAFE_INTEGER;
    let best: number | undefined;
    for (const v of this.snapshots.get(streamId)?.keys() ?? []) if (v <= limit && (best === undefined || v > best)) best = v;
    if (best === undefined) return undefined;
    const found = this.snapshots.get(streamId)!.get(best)!;
    return { streamId, version: best, snapshot: JSON.parse(found.snapshot), recordedAt: found.recordedAt };
  }

  /** Each stream's latest snapshot and the events after it (the contract's batch read; here a loop). */
  readTails(streamIds: readonly string[]): StreamTail[] {
    this.assertOpen();
    const tails: StreamTail[] = [];
    for (const streamId of streamIds) {
      if (!this.streams.has(streamId)) continue;
      const snapshot = this.loadSnapshot(streamId);
      const events = this.readStream(streamId, { fromVersion: (snapshot?.version ?? 0) + 1 });
      tails.push(snapshot ? { streamId, snapshot, events } : { streamId, events });
    }
    return tails;
  }

  listSnapshots(streamId: string): SnapshotRecord[] {
    this.assertOpen();
    const map = this.snapshots.get(streamId);
    if (map === undefined) return [];
    return [...map.keys()]
      .sort((a, b) => a - b)
      .map((version) => ({ streamId, version, snapshot: JSON.parse(map.get(version)!.snapshot), recordedAt: map.get(version)!.recordedAt }));
  }

  saveDefinition(record: DefinitionRecord): void {
    this.assertOpen();
    const { hash, name, recordedAt } = record;
    if (this.definitions.has(hash)) return;
    this.definitions.set(hash, { name, definition: encode(record.definition), recordedAt });
    this.onUndo(() => this.definitions.delete(hash));
  }

  loadDefinition(hash: string): DefinitionRecord | undefined {
    this.assertOpen();
    const found = this.definitions.get(hash);
    return found === undefined ? undefined : { hash, name: found.name, definition: JSON.parse(found.definition), recordedAt: found.recordedAt };
  }

  saveCheckpoint(name: string, position: number, expected?: number): boolean {
    this.assertOpen();
    const before = this.checkpoints.get(name);
    if (expected !== undefined && (before ?? 0) !== expected) return false;
    this.checkpoints.set(name, position);
    this.onUndo(() => (before === undefined ? this.checkpoints.delete(name) : this.checkpoints.set(name, before)));
    return true;
  }

  write(batch: WriteBatch): AppendResult[] {
    this.assertOpen();
    return applyWriteBatch(this.writes, batch);
  }

  private readonly writes = {
    transaction: <T>(fn: () => T): T => this.transaction(fn),
    saveDefinition: (d: DefinitionRecord) => this.saveDefinition(d),
    createStream: (s: NewStream) => this.createStream(s),
    append: (id: string, v: number, events: NewEvent[]) => this.append(id, v, events),
    saveSnapshot: (s: SnapshotRecord) => this.saveSnapshot(s),
    setStreamStatus: (id: string, status: StreamStatus, at: number) => this.setStreamStatus(id, status, at),
    passivate: (p: Passivation) => this.passivate(p),
    postMessage: (m: InboxMessage) => {
      const key = `${m.streamId}\u0000${m.causationId}`;
      if (this.posted.has(key)) return;
      const data: unknown = JSON.parse(encodeForWrite(m.data, `message to ${m.streamId}`, { streamId: m.streamId, causationId: m.causationId }));
      const id = this.nextMessageId++;
      this.posted.add(key);
      this.inbox.set(id, { ...m, data, id });
      this.onUndo(() => {
        this.posted.delete(key);
        this.inbox.delete(id);
      });
    },
    consumeMessage: (streamId: string, id: number) => {
      const m = this.inbox.get(id);
      if (!m || m.streamId !== streamId) return;
      this.inbox.delete(id);
      this.onUndo(() => this.inbox.set(id, m));
    },
  };

  readInbox(streamId: string, limit = Number.MAX_SAFE_INTEGER): StoredInboxMessage[] {
    this.assertOpen();
    const out: StoredInboxMessage[] = [];
    for (const m of this.inbox.values()) {
      if (out.length >= limit) break;
      if (m.streamId === streamId) out.push({ ...m, data: JSON.parse(encode(m.data)) });
    }
    return out;
  }

  inboxStreams(limit = 1000): string[] {
    this.assertOpen();
    const ids = new Set<string>();
    for (const m of this.inbox.values()) {
      if (ids.size >= limit) break;
      ids.add(m.streamId);
    }
    return [...ids];
  }

  loadCheckpoint(name: string): number | undefined {
    this.assertOpen();
    return this.checkpoints.get(name);
  }

  subscribe(options?: SubscribeOptions): Observable<EventRecord> {
    this.assertOpen();
    return subscribeToLog(this.feed, options);
  }

  transaction<T>(fn: () => T): T {
    this.assertOpen();
    const mark = this.undo.length;
    this.depth++;
    try {
      const result = fn();
      if (--this.depth === 0) {
        const wake = this.dirty;
        [this.undo, this.dirty] = [[], false];
        if (wake) this.appended.next();
      }
      return result;
    } catch (err) {
      while (this.undo.length > mark) this.undo.pop()!();
      if (--this.depth === 0) this.dirty = false;
      throw err;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.appended.complete();
  }
}

/**
 * Creates an empty in-memory {@link LogStore}: for tests, examples and replay of an exported log.
 * Writes are synchronous; subscriptions wake at once on appends (there is no other process).
 *
 * @param options `keepSnapshots`: snapshots kept per stream (default 10; 0 or `Infinity`: all)
 * @throws ActorlogError `INVALID_OPTIONS` for a bad `keepSnapshots`; its methods throw the contract's
 *   codes (`STREAM_EXISTS`, `STREAM_NOT_FOUND`, `VERSION_CONFLICT`, `APPEND_FAILED`,
 *   `STORE_UNAVAILABLE` once closed)
 * @example
 * ```ts
 * import { createMemoryStore } from 'actorlog/stores/memory';
 * const store = createMemoryStore();
 * store.createStream({ streamId: 'job-1', machine: { name: 'job', hash: 'ab12' }, input: {}, createdAt: 0 });
 * store.append('job-1', 0, [{ type: 'submit', data: {}, meta: { source: 'external', recordedAt: 1 } }]);
 * store.readStream('job-1').length; // 1
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStore(options);
}

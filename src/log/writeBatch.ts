import type {
  AppendRequest,
  AppendResult,
  DefinitionRecord,
  InboxMessage,
  LogCursor,
  NewEvent,
  NewStream,
  Passivation,
  SnapshotRecord,
  StreamStatus,
  WriteBatch,
} from './types.ts';

/** The synchronous writes of an embedded store (SQLite, memory) that {@link applyWriteBatch} composes. */
export interface SyncWrites {
  /** Runs `fn` in one transaction: all its writes or none. */
  transaction<T>(fn: () => T): T;
  saveDefinition(record: DefinitionRecord): void;
  createStream(stream: NewStream): unknown;
  append(streamId: string, expectedVersion: number, events: NewEvent[]): AppendResult;
  postMessage(message: InboxMessage): void;
  consumeMessage(streamId: string, id: number): void;
  saveSnapshot(snapshot: SnapshotRecord): void;
  setStreamStatus(streamId: string, status: StreamStatus, at: number): void;
  passivate(passivation: Passivation): void;
}

/**
 * `LogStore.write` of an embedded store: every part of `batch` in one transaction, in the contract's
 * order (definitions, streams, appends, messages, consumed, snapshots, statuses, passivations).
 * @returns the results of `batch.appends`, in order
 * @throws the first write's error (`STREAM_EXISTS`, `VERSION_CONFLICT`, `STREAM_NOT_FOUND`, `APPEND_FAILED`…); nothing is written then
 * @example
 * ```ts
 * write(batch: WriteBatch) { return applyWriteBatch(this.writes, batch); }
 * ```
 */
export function applyWriteBatch(store: SyncWrites, batch: WriteBatch): AppendResult[] {
  // One event and nothing else (a journaled actor's input, most writes): one INSERT is atomic by
  // itself, without the BEGIN and COMMIT around it.
  const only = batch.appends?.length === 1 ? batch.appends[0]! : undefined;
  if (only?.events.length === 1 && onlyAppends(batch)) return [store.append(only.streamId, only.expectedVersion, only.events)];
  return store.transaction(() => {
    for (const d of batch.definitions ?? []) store.saveDefinition(d);
    for (const s of batch.streams ?? []) store.createStream(s);
    const appends: readonly AppendRequest[] = batch.appends ?? [];
    const results: AppendResult[] = [];
    for (let i = 0; i < appends.length; i++) results[i] = store.append(appends[i]!.streamId, appends[i]!.expectedVersion, appends[i]!.events);
    for (const m of batch.messages ?? []) store.postMessage(m);
    for (const c of batch.consumed ?? []) store.consumeMessage(c.streamId, c.id);
    for (const s of batch.snapshots ?? []) store.saveSnapshot(s);
    for (const s of batch.statuses ?? []) store.setStreamStatus(s.streamId, s.status, s.at);
    for (const p of batch.passivations ?? []) store.passivate(p);
    return results;
  });
}

/** Whether `batch` holds appends and nothing else. */
function onlyAppends(batch: WriteBatch): boolean {
  return !(
    batch.definitions?.length ||
    batch.streams?.length ||
    batch.messages?.length ||
    batch.consumed?.length ||
    batch.snapshots?.length ||
    batch.statuses?.length ||
    batch.passivations?.length
  );
}

/** The global position a `readAll`/`subscribe` `after` names (a position, or a cursor's position; default 0). */
export function positionAfter(after: number | LogCursor | undefined): number {
  if (after === undefined) return 0;
  return typeof after === 'number' ? after : after.globalPosition;
}

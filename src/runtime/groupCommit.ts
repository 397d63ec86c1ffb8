import type { AppendRequest, AppendResult, LogStore, WriteBatch } from '../log/types.ts';

/**
 * How journaled writes reach the store. Either way an input reaches XState only after its append
 * has committed (write-ahead, docs/architecture.md invariant 1); the modes differ only in batching.
 * - `each` (default): a write commits as soon as it is made: on an embedded store (SQLite, memory)
 *   in the same call, before the input is delivered; on a networked store (PostgreSQL) the writes
 *   made while one commit is in flight go together in the next (group commit, one round trip).
 * - `tick`: the writes made during one synchronous run of JavaScript are committed together at its
 *   end (a microtask), in one transaction, then their inputs are delivered. Far fewer transactions
 *   on an embedded store; an input waits for the end of the tick.
 * - `turn`: the writes made during one turn of Node's event loop are committed together, once its
 *   I/O callbacks have run (`setImmediate`): the frames many sockets delivered in one poll of the
 *   loop share a transaction, where `tick` commits each socket's read alone. The most batching under
 *   load (2,000 WebSocket actors: `npm run bench:ws-load`); an input waits for the end of the turn.
 */
export type CommitMode = 'each' | 'tick' | 'turn';

/** One write of one actor: its parts join a {@link WriteBatch}; `committed` or `failed` is called once. */
export interface PendingWrite extends WriteBatch {
  /** Called after the write committed (in order of `enqueue`). */
  committed?: () => void;
  /** Called when the write could not be committed; nothing of it was written. */
  failed: (err: unknown) => void;
}

/** Commits writes for every actor of a system, batching them as the mode and the store allow. */
export interface GroupCommit {
  /** Queues `write`; on an embedded store in `each` mode it commits before this call returns. */
  enqueue(write: PendingWrite): void;
  /** Queues `write` (in order with every other) and resolves once it has committed; rejects with the error it failed with. */
  commit(write: WriteBatch): Promise<void>;
  /** Resolves when every write queued so far has committed or failed. */
  drain(): Promise<void>;
  /** Writes committed and transactions made, for benchmarks. */
  readonly stats: { writes: number; transactions: number };
}

/** Whether a store's {@link Awaitable} result is a promise (a networked store) rather than the value itself. */
export const isPromise = (value: unknown): value is Promise<unknown> => typeof (value as { then?: unknown } | null)?.then === 'function';

/** Merges the parts of `writes` into one batch; consecutive appends to one stream become one append. */
function merge(writes: readonly PendingWrite[]): WriteBatch {
  if (writes.length === 1) return writes[0]!;
  const batch: Required<WriteBatch> = { definitions: [], streams: [], appends: [], messages: [], consumed: [], snapshots: [], statuses: [], passivations: [] };
  const last = new Map<string, AppendRequest>();
  for (const w of writes) {
    if (w.definitions) batch.definitions.push(...w.definitions);
    if (w.streams) batch.streams.push(...w.streams);
    for (const a of w.appends ?? []) {
      const prev = last.get(a.streamId);
      if (prev && prev.expectedVersion + prev.events.length === a.expectedVersion) prev.events.push(...a.events);
      else {
        const copy = { streamId: a.streamId, expectedVersion: a.expectedVersion, events: [...a.events] };
        batch.appends.push(copy);
        last.set(a.streamId, copy);
      }
    }
    if (w.messages) batch.messages.push(...w.messages);
    if (w.consumed) batch.consumed.push(...w.consumed);
    if (w.snapshots) batch.snapshots.push(...w.snapshots);
    if (w.statuses) batch.statuses.push(...w.statuses);
    if (w.passivations) batch.passivations.push(...w.passivations);
  }
  return batch;
}

/**
 * Creates the group commit of a system. Writes are committed in the order they were queued, one
 * transaction at a time: while one is in flight (a networked store), the writes queued meanwhile
 * wait and then commit together. When a batch of several writes fails, each is retried alone so
 * that one actor's conflict (or lost lease) fails only that actor's write.
 */
export function createGroupCommit(store: LogStore, mode: CommitMode): GroupCommit {
  let queue: PendingWrite[] = [];
  let inFlight: Promise<void> | undefined;
  let scheduled = false;
  const stats = { writes: 0, transactions: 0 };
  const idle: Array<() => void> = [];

  const settle = (writes: readonly PendingWrite[]) => {
    for (const w of writes) w.committed?.();
  };

  /** Retries each write of a failed batch alone; synchronous on an embedded store. */
  const isolate = (writes: readonly PendingWrite[]): void | Promise<void> => {
    for (let i = 0; i < writes.length; i++) {
      const w = writes[i]!;
      let result: unknown;
      try {
        result = store.write(w);
      } catch (err) {
        w.failed(err);
        continue;
      }
      stats.transactions++;
      if (isPromise(result)) {
        return result.then(
          () => {
            w.committed?.();
            return isolate(writes.slice(i + 1));
          },
          (err: unknown) => {
            w.failed(err);
            return isolate(writes.slice(i + 1));
          },
        );
      }
      w.committed?.();
    }
  };

  /** Commits everything queued; returns a Promise while a networked write is in flight. */
  const flush = (): void => {
    scheduled = false;
    if (inFlight || queue.length === 0) return;
    const writes = queue;
    queue = [];
    stats.writes += writes.length;
    let result: unknown;
    try {
      result = store.write(merge(writes));
      stats.transactions++;
    } catch (err) {
      if (writes.length === 1) writes[0]!.failed(err);
      else void isolate(writes);
      wakeIdle();
      return;
    }
    if (!isPromise(result)) {
      settle(writes);
      wakeIdle();
      return;
    }
    inFlight = result
      .then(
        () => settle(writes),
        (err: unknown) => (writes.length === 1 ? writes[0]!.failed(err) : isolate(writes)),
      )
      .then(() => {
        inFlight = undefined;
        flush();
        wakeIdle();
      });
  };

  const wakeIdle = () => {
    if (inFlight || queue.length > 0 || scheduled) return;
    for (const resolve of idle.splice(0)) resolve();
  };

  const enqueue = (write: PendingWrite): void => {
    queue.push(write);
    if (inFlight) return;
    if (mode === 'each') flush();
    else if (!scheduled) {
      scheduled = true;
      if (mode === 'turn') setImmediate(flush);
      else queueMicrotask(flush);
    }
  };

  return {
    stats,
    enqueue,
    commit: (write) => new Promise<void>((resolve, reject) => enqueue({ ...write, committed: resolve, failed: reject })),
    drain() {
      if (!inFlight && queue.length === 0 && !scheduled) return Promise.resolve();
      if (!inFlight && !scheduled) flush();
      return new Promise<void>((resolve) => {
        idle.push(resolve);
        wakeIdle();
      });
    },
  };
}

export type { AppendResult };

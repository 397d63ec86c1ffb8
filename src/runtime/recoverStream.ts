import type { AnyStateMachine } from 'xstate';
import type { EventMeta, EventRecord, LogStore, NewEvent, SnapshotRecord, StreamRecord, StreamTail } from '../log/types.ts';
import { loggedEvent } from './eventCodec.ts';
import { isWithin, persistedAt, refAt, ROOT_PATH, type TreeRef } from './actorTree.ts';
import { readBookkeeping, type Bookkeeping } from './bookkeeping.ts';
import { Folder, type FoldState, type ImpliedMessage } from './fold.ts';
import { machineHash } from './machineHash.ts';
import type { StoredSnapshot } from './journal.ts';

/** A stream folded to its last event, ready to restart. */
export interface FoldedStream {
  /**
   * XState persisted snapshot of the whole tree: each child whose completion is logged has status
   * `done` (or `error`), so XState does not start it again; each live source's input cursor is set to
   * its last logged cursor.
   */
  persisted: unknown;
  status: string;
  /** The log records the root's failure (`actorlog.failed`): an `error` status is the live actor's, not the fold's own. */
  failureLogged: boolean;
  version: number;
  bookkeeping: Bookkeeping;
  /** Messages to other journaled actors sent by the events folded after the latest snapshot. */
  outbox: ImpliedMessage[];
  /**
   * Events the tree's machines sent one another for the last logged event, which a crash kept out of
   * the log; folded already (`version` counts them): recovery appends them before the actor starts.
   */
  tail: NewEvent[];
}

/**
 * Starts a fold of `stream` from its latest snapshot at or before `toVersion` (or from its input)
 * and returns it with the folder, ready to apply the remaining events. The one place a fold starts
 * from a saved snapshot: recovery and the viewer (cli/view/folds.ts, which also keeps its own) use it.
 * @param folder the folder to restore into (a new one for `machine` by default)
 */
export async function startFold(
  store: LogStore,
  machine: AnyStateMachine,
  stream: StreamRecord,
  toVersion?: number,
  folder = new Folder(machine),
): Promise<{ folder: Folder; state: FoldState }> {
  return { folder, state: beginFold(folder, stream, await store.loadSnapshot(stream.streamId, toVersion)) };
}

/** The payload of `saved` when a fold can start from it (the runtime's `{ state, bookkeeping }`: not one another tool wrote). */
function foldable(saved: SnapshotRecord | undefined): StoredSnapshot | undefined {
  const payload = saved?.snapshot as StoredSnapshot | undefined;
  return payload?.state && payload.bookkeeping ? payload : undefined;
}

/** A fold of `stream` begun from `saved` when it can start there, else from the stream's input. */
function beginFold(folder: Folder, stream: StreamRecord, saved: SnapshotRecord | undefined): FoldState {
  const payload = foldable(saved);
  return payload
    ? folder.restore(payload.state, saved!.version, payload.bookkeeping, stream.streamId)
    : folder.initial(stream.input, stream.createdAt, stream.streamId);
}

/**
 * Folds a whole stream (from its latest snapshot) with the machine's pure transition function and
 * returns what recovery restarts from. A child whose `xstate.done.actor.*` or `xstate.error.actor.*`
 * is logged is marked finished, so it is not run again; an invoked source that is still live gets
 * `input.cursor` set to the last cursor it delivered, so it resumes where the log stops.
 * @param reuse a folder of `machine` to fold with (recovery reuses one per machine); a new one by default
 * @param tail the stream's latest snapshot and the events after it, read already (`LogStore.readTails`); read here by default
 */
export async function foldStream(store: LogStore, machine: AnyStateMachine, stream: StreamRecord, reuse?: Folder, tail?: StreamTail): Promise<FoldedStream> {
  const saved = tail ? tail.snapshot : await store.loadSnapshot(stream.streamId);
  const payload = foldable(saved);
  // the tail's events follow its snapshot: a snapshot the fold cannot start from means reading from the first event
  const records = tail && (payload || !saved) ? tail.events : await store.readStream(stream.streamId, { fromVersion: (payload ? saved!.version : 0) + 1 });
  if (records.length === 0 && payload && (payload.state as { status?: unknown }).status === 'active' && payload.machineHash === machineHash(machine)) {
    // The snapshot is the stream's head (a clean close, a passivation), written by this very machine:
    // nothing to fold. The live actor restores it as it is (the store parses a fresh copy for each
    // load). A snapshot of another machine goes through the fold, whose restore refuses what the
    // registered machine cannot hold before anything is appended (MACHINE_MISMATCH's path).
    return resume(store, stream.streamId, {
      persisted: payload.state,
      status: 'active',
      failureLogged: false,
      version: saved!.version,
      bookkeeping: readBookkeeping(payload.bookkeeping),
      outbox: [],
      tail: [],
    });
  }
  const folder = reuse ?? new Folder(machine);
  const state = beginFold(folder, stream, saved);
  for (const record of records) folder.apply(state, record);
  const derived = records.length > 0 ? rederive(folder, state, records[records.length - 1]!) : [];
  const bookkeeping = state.tracker.toJSON();
  const folded: FoldedStream = {
    persisted: folder.persist(state),
    status: state.snapshot.status,
    failureLogged: state.failureLogged === true,
    version: state.version,
    bookkeeping,
    outbox: state.outbox,
    tail: derived,
  };
  return resume(store, stream.streamId, folded);
}

/**
 * Readies a folded stream's persisted tree to restart: each child whose completion is logged is
 * marked `done` (or `error`), so XState does not start it again; each live source's input gets its
 * last logged cursor.
 */
async function resume(store: LogStore, streamId: string, folded: FoldedStream): Promise<FoldedStream> {
  const { persisted, bookkeeping } = folded;
  for (const [path, version] of Object.entries(bookkeeping.completed)) {
    const child = persistedAt(persisted, path)?.snapshot;
    if (child?.status !== 'active') continue;
    const record = (await store.readStream(streamId, { fromVersion: version, toVersion: version }))[0];
    const failed = record?.type.startsWith('xstate.error.actor.');
    child.status = failed ? 'error' : 'done';
    if (!failed) child.output = (record?.data as { output?: unknown } | undefined)?.output;
  }
  for (const [path, cursor] of Object.entries(bookkeeping.cursors)) {
    const child = persistedAt(persisted, path)?.snapshot;
    // handed back in input.cursor: a child invoked without input gets { cursor } (the journal refuses
    // a cursor from a child whose input is not an object, see Journal.classify)
    if (child?.status === 'active') child.input = child.input !== null && typeof child.input === 'object' ? { ...(child.input as object), cursor } : { cursor };
  }
  return folded;
}

/**
 * The events the tree's machines sent one another for the stream's last event, when the log ends
 * right after it: the live journal appends them in the commit after their cause, so a crash between
 * the two commits leaves them out. They follow from the log (the machines are deterministic): the
 * fold applies them now, with whatever they in turn send, and recovery appends them before the actor
 * starts, as the live actor would have. A logged event after the last one means they are there (they
 * commit together), so nothing is re-derived.
 */
function rederive(folder: Folder, state: FoldState, last: EventRecord): NewEvent[] {
  const queue = [...folder.sendsOfLast()];
  const tail: NewEvent[] = [];
  while (queue.length > 0 && tail.length < 10_000) {
    const { from, to, event } = queue.shift()!;
    // an event to a machine that has ended is dropped by XState, and not logged by the journal
    const target =
      to === ROOT_PATH
        ? state.snapshot
        : (refAt({ id: '', getSnapshot: () => state.snapshot } as TreeRef, to)?.getSnapshot() as { status?: string } | undefined);
    if (target?.status !== 'active') continue;
    const meta: EventMeta = {
      source: from === to ? 'self' : isWithin(from, to) ? 'child' : isWithin(to, from) ? 'parent' : 'actor',
      recordedAt: last.meta.recordedAt,
    };
    if (from !== ROOT_PATH) meta.actor = from;
    if (to !== ROOT_PATH) meta.target = to;
    // as the live journal delivers it: as the log holds it (issue 15 item 10)
    const logged = loggedEvent(event);
    const record: NewEvent = { type: event.type, data: logged.data, meta };
    const before = state.version;
    folder.applyEvent(state, logged.event, { ...record, streamId: last.streamId, version: before + 1, globalPosition: last.globalPosition });
    tail.push(record);
    queue.push(...folder.sendsOfLast());
  }
  return tail;
}

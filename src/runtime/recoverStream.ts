import type { AnyStateMachine } from 'xstate';
import type { LogStore, StreamRecord } from '../log/types.ts';
import type { Bookkeeping } from './bookkeeping.ts';
import { Folder, type FoldState } from './fold.ts';
import type { StoredSnapshot } from './journal.ts';

/** A stream folded to its last event, ready to restart. */
export interface FoldedStream {
  /** XState persisted snapshot, with each live source's input cursor set to its last logged cursor. */
  persisted: unknown;
  status: string;
  version: number;
  bookkeeping: Bookkeeping;
}

/**
 * Starts a fold of `stream` from its latest snapshot at or before `toVersion` (or from its input)
 * and returns it with the folder, ready to apply the remaining events.
 */
export function startFold(store: LogStore, machine: AnyStateMachine, stream: StreamRecord, toVersion?: number): { folder: Folder; state: FoldState } {
  const folder = new Folder(machine);
  const saved = store.loadSnapshot(stream.streamId, toVersion);
  const payload = saved?.snapshot as StoredSnapshot | undefined;
  const state = payload?.state && payload.bookkeeping
    ? folder.restore(payload.state, saved!.version, payload.bookkeeping)
    : folder.initial(stream.input, stream.createdAt);
  return { folder, state };
}

/**
 * Folds a whole stream (from its latest snapshot) with the machine's pure transition function and
 * returns what recovery restarts from (DESIGN.md invariants 2-4). An invoked source that was live
 * gets `input.cursor` set to the last cursor it delivered, so it resumes where the log stops.
 */
export function foldStream(store: LogStore, machine: AnyStateMachine, stream: StreamRecord): FoldedStream {
  const { folder, state } = startFold(store, machine, stream);
  for (const record of store.readStream(stream.streamId, { fromVersion: state.version + 1 })) folder.apply(state, record);
  const persisted = folder.persist(state) as { children?: Record<string, { snapshot?: { status?: string; input?: unknown } }> };
  const bookkeeping = state.tracker.toJSON();
  for (const [childId, cursor] of Object.entries(bookkeeping.cursors)) {
    const child = persisted.children?.[childId]?.snapshot;
    if (child?.status === 'active' && child.input !== null && typeof child.input === 'object') {
      child.input = { ...(child.input as object), cursor };
    }
  }
  return { persisted, status: state.snapshot.status, version: state.version, bookkeeping };
}

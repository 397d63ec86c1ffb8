import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import type { EventRecord, LogStore, StreamRecord } from '../../src/log/types.ts';
import { refAt, walkTree, type TreeRef } from '../../src/runtime/actorTree.ts';
import type { Bookkeeping } from '../../src/runtime/bookkeeping.ts';
import { decodeEvent } from '../../src/runtime/eventCodec.ts';
import { Folder, type FoldState, type ImpliedMessage } from '../../src/runtime/fold.ts';
import { startFold } from '../../src/runtime/recoverStream.ts';
import type { Taken } from './types.ts';

/** How often (in stream versions) a fold keeps a snapshot in memory to start later folds from. */
export const KEEP_EVERY = 250;
/** Events read per query while folding. */
const READ_CHUNK = 2_000;
/** A long fold lets other work run (other requests, in the same thread) at least this often (ms). */
const SLICE_MS = 15;

/** One folded step: the event, the snapshots before and after it, the transitions it took, the messages it sent to other journaled actors. */
export interface FoldStep {
  record: EventRecord;
  event: EventObject;
  before: AnyMachineSnapshot;
  after: AnyMachineSnapshot;
  /** Every actor of the tree before the event, by path (`''` the root): their snapshots then. */
  beforeTree: Map<string, AnyMachineSnapshot>;
  /** The transitions the event took in the actor it was delivered to. */
  transitions: Taken[];
  /** Messages to other journaled actors the event's transitions sent. */
  sent: ImpliedMessage[];
}

/** A snapshot kept in memory to fold on from. */
interface Kept {
  version: number;
  persisted: unknown;
  bookkeeping: Bookkeeping;
}

/** The transitions `event` enables in `snapshot` of `machine` (XState's own selection, guards evaluated: they are pure). */
function taken(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: EventObject): Taken[] {
  if (snapshot.status !== 'active') return [];
  try {
    const chosen = machine.getTransitionData(snapshot as never, event) as Array<{
      source: { id: string; transitions: Map<string, unknown[]> };
      eventType: string;
      target?: Array<{ id: string }>;
    }>;
    return chosen.map((t) => ({
      source: t.source.id,
      index: [...t.source.transitions.values()].flat().indexOf(t),
      eventType: t.eventType,
      targets: (t.target ?? []).map((n) => n.id),
    }));
  } catch {
    return []; // a guard that throws: the fold records the error snapshot, the page shows no edge
  }
}

/** The root of a folded tree as a ref, to walk its children. */
export const rootRef = (snapshot: AnyMachineSnapshot): TreeRef => ({ id: '', getSnapshot: () => snapshot as never });

/** The snapshot of every actor of a folded tree, by path. */
export function treeSnapshots(snapshot: AnyMachineSnapshot): Map<string, AnyMachineSnapshot> {
  const out = new Map<string, AnyMachineSnapshot>();
  for (const { path, ref } of walkTree(rootRef(snapshot))) {
    try {
      out.set(path, ref.getSnapshot() as AnyMachineSnapshot);
    } catch {
      // a child whose snapshot cannot be read (a stand-in): left out
    }
  }
  return out;
}

/**
 * The folds of one stream for the viewer: snapshots at any version, computed from the nearest
 * start point (a snapshot kept in memory every {@link KEEP_EVERY} versions, or one the runtime
 * saved in the log) plus a fold of at most that many events, so a window anywhere in a long stream
 * costs about `KEEP_EVERY + window` transitions once the ones below it exist. The first visit far
 * into a stream folds up to it once, reading {@link READ_CHUNK} events at a time and letting other
 * work run every {@link SLICE_MS} ms.
 */
export class StreamFolds {
  private readonly kept: Kept[] = [];

  constructor(
    private readonly store: LogStore,
    readonly machine: AnyStateMachine,
    readonly stream: StreamRecord,
  ) {}

  /** The initial snapshot (version 0). */
  initial(): AnyMachineSnapshot {
    return new Folder(this.machine).initial(this.stream.input, this.stream.createdAt, this.stream.streamId).snapshot;
  }

  /** The snapshot after `version` (0: the initial one). */
  async at(version: number): Promise<AnyMachineSnapshot> {
    if (version <= 0) return this.initial();
    let last: AnyMachineSnapshot | undefined;
    await this.walk(version, version, (step) => void (last = step.after));
    return last ?? this.initial();
  }

  /**
   * Folds through `to`, calling `visit` for every event with `from <= version <= to`. Walks of one
   * stream take turns: a read that comes while a deep one runs starts from the snapshots it kept.
   */
  walk(from: number, to: number, visit: (step: FoldStep) => void): Promise<void> {
    const turn = this.turn.then(() => this.fold(from, to, visit));
    this.turn = turn.catch(() => undefined);
    return turn;
  }

  private turn: Promise<unknown> = Promise.resolve();

  private async fold(from: number, to: number, visit: (step: FoldStep) => void): Promise<void> {
    const folder = new Folder(this.machine);
    const state = await this.start(folder, Math.max(0, from - 1));
    let next = state.version + 1;
    let slice = performance.now();
    while (next <= to) {
      const records = await this.store.readStream(this.stream.streamId, { fromVersion: next, toVersion: Math.min(to, next + READ_CHUNK - 1) });
      if (records.length === 0) break;
      for (const record of records) {
        const event = decodeEvent(record);
        const visited = record.version >= from;
        const before = state.snapshot;
        let beforeTree: Map<string, AnyMachineSnapshot> | undefined;
        let transitions: Taken[] = [];
        if (visited) {
          beforeTree = treeSnapshots(before);
          const path = record.meta.target ?? '';
          const target = path === '' ? before : beforeTree.get(path);
          const logic = path === '' ? this.machine : (refAt(rootRef(before), path) as unknown as { logic?: AnyStateMachine } | undefined)?.logic;
          if (target && logic && typeof logic.getTransitionData === 'function') transitions = taken(logic, target, event);
        }
        const sentBefore = state.outbox.length;
        folder.applyEvent(state, event, record);
        if (record.version % KEEP_EVERY === 0) this.keep(folder, state);
        if (visited) visit({ record, event, before, after: state.snapshot, beforeTree: beforeTree!, transitions, sent: state.outbox.slice(sentBefore) });
        if (state.outbox.length > 1_000) state.outbox.length = 0;
      }
      next = records[records.length - 1]!.version + 1;
      if (performance.now() - slice > SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        slice = performance.now();
      }
    }
  }

  /** The latest known state at or before `version`: a kept snapshot, or where recovery starts (one the runtime saved, or the initial state). */
  private async start(folder: Folder, version: number): Promise<FoldState> {
    let best: Kept | undefined;
    for (const c of this.kept) if (c.version <= version && (!best || c.version > best.version)) best = c;
    try {
      const { state } = await startFold(this.store, this.machine, this.stream, version, folder);
      if (!best || state.version > best.version) return state;
    } catch {
      // a snapshot this definition cannot restore: fold from a kept one or the start instead
    }
    if (best) return folder.restore(best.persisted, best.version, best.bookkeeping, this.stream.streamId);
    return folder.initial(this.stream.input, this.stream.createdAt, this.stream.streamId);
  }

  private keep(folder: Folder, state: FoldState): void {
    if (this.kept.some((c) => c.version === state.version)) return;
    this.kept.push({ version: state.version, persisted: folder.persist(state), bookkeeping: state.tracker.toJSON() });
  }
}

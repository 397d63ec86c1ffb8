import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import type { EventRecord, EmbeddedLogStore, StreamRecord } from '../../src/log/types.ts';
import type { Bookkeeping } from '../../src/runtime/bookkeeping.ts';
import { decodeEvent } from '../../src/runtime/eventCodec.ts';
import { Folder, type FoldState } from '../../src/runtime/fold.ts';
import type { StoredSnapshot } from '../../src/runtime/journal.ts';
import type { Taken } from './types.ts';

/** How often (in stream versions) a fold keeps a snapshot in memory to start later folds from. */
export const CHECKPOINT_EVERY = 250;
/** Events read per query while folding. */
const READ_CHUNK = 2_000;


/** One folded step: the event, the snapshots before and after it and the transitions it took (root events only). */
export interface FoldStep {
  record: EventRecord;
  event: EventObject;
  before: AnyMachineSnapshot;
  after: AnyMachineSnapshot;
  transitions: Taken[];
}

interface Checkpoint {
  version: number;
  persisted: unknown;
  bookkeeping: Bookkeeping;
}

/** The transitions `event` enables in `snapshot` (XState's own selection, guards evaluated: they are pure). */
function taken(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: EventObject): Taken[] {
  if (snapshot.status !== 'active') return [];
  try {
    const chosen = machine.getTransitionData(snapshot as never, event) as Array<{ source: { id: string; transitions: Map<string, unknown[]> }; eventType: string; target?: Array<{ id: string }> }>;
    return chosen.map((t) => ({ source: t.source.id, index: [...t.source.transitions.values()].flat().indexOf(t), eventType: t.eventType, targets: (t.target ?? []).map((n) => n.id) }));
  } catch {
    return []; // a guard that throws: the fold records the error snapshot, the page shows no edge
  }
}

/**
 * The folds of one stream for the viewer: snapshots at any version, computed from the nearest
 * start point (an in-memory checkpoint every {@link CHECKPOINT_EVERY} versions, or a snapshot the
 * runtime saved) plus a fold of at most that many events, so a window anywhere in a long stream
 * costs about `CHECKPOINT_EVERY + window` transitions once the checkpoints below it exist. The first
 * visit far into a stream folds up to it once, in chunks of {@link READ_CHUNK} events.
 */
export class StreamFolds {
  private readonly checkpoints: Checkpoint[] = [];

  constructor(private readonly store: EmbeddedLogStore, readonly machine: AnyStateMachine, readonly stream: StreamRecord) {}

  /** The initial snapshot (version 0). */
  initial(): AnyMachineSnapshot {
    return new Folder(this.machine).initial(this.stream.input, this.stream.createdAt, this.stream.streamId).snapshot;
  }

  /** The snapshot after `version` (0: the initial one). */
  at(version: number): AnyMachineSnapshot {
    if (version <= 0) return this.initial();
    let last: AnyMachineSnapshot | undefined;
    this.walk(version, version, (step) => (last = step.after));
    return last ?? this.initial();
  }

  /** Folds through `to`, calling `visit` for every event with `from <= version <= to`. */
  walk(from: number, to: number, visit: (step: FoldStep) => void): void {
    const folder = new Folder(this.machine);
    const state = this.start(folder, Math.max(0, from - 1));
    let next = state.version + 1;
    while (next <= to) {
      const records = this.store.readStream(this.stream.streamId, { fromVersion: next, toVersion: Math.min(to, next + READ_CHUNK - 1) });
      if (records.length === 0) break;
      for (const record of records) {
        const event = decodeEvent(record);
        const before = state.snapshot;
        const transitions = record.version >= from && record.meta.target === undefined ? taken(this.machine, before, event) : [];
        folder.applyEvent(state, event, record);
        if (record.version % CHECKPOINT_EVERY === 0) this.keep(folder, state);
        if (record.version >= from) visit({ record, event, before, after: state.snapshot, transitions });
      }
      next = records[records.length - 1]!.version + 1;
    }
  }

  /** The latest known state at or before `version`: a checkpoint, a saved snapshot, or the initial state. */
  private start(folder: Folder, version: number): FoldState {
    let best: Checkpoint | undefined;
    for (const c of this.checkpoints) if (c.version <= version && (!best || c.version > best.version)) best = c;
    const saved = this.store.loadSnapshot(this.stream.streamId, version);
    if (saved && (!best || saved.version > best.version)) {
      const stored = saved.snapshot as StoredSnapshot;
      try {
        return folder.restore(stored.state, saved.version, stored.bookkeeping, this.stream.streamId);
      } catch {
        // a snapshot this definition cannot restore: fold from a checkpoint or the start instead
      }
    }
    if (best) return folder.restore(best.persisted, best.version, best.bookkeeping, this.stream.streamId);
    return folder.initial(this.stream.input, this.stream.createdAt, this.stream.streamId);
  }

  private keep(folder: Folder, state: FoldState): void {
    if (this.checkpoints.some((c) => c.version === state.version)) return;
    this.checkpoints.push({ version: state.version, persisted: folder.persist(state), bookkeeping: state.tracker.toJSON() });
  }
}

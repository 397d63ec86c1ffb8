import { createActor, type AnyActorScope, type AnyMachineSnapshot, type AnyStateMachine, type EventObject } from 'xstate';
import type { EventRecord } from '../log/types.ts';
import { BookkeepingTracker, type ActionLike, type Bookkeeping } from './bookkeeping.ts';
import { decodeEvent } from './eventCodec.ts';

/** Where a fold stands: the snapshot after `version`, and the bookkeeping recovery needs. */
export interface FoldState {
  snapshot: AnyMachineSnapshot;
  version: number;
  tracker: BookkeepingTracker;
}

/**
 * Folds logged events through a machine's pure transition function, with no I/O and no timers
 * (DESIGN.md invariant 2). It is XState's `transition(machine, snapshot, event)` with one inert
 * actor scope made once per fold instead of once per event, which is what makes it fast; a test
 * holds its snapshots equal to `transition()`'s.
 *
 * @example
 * ```ts
 * const fold = new Folder(jobMachine);
 * let state = fold.initial(stream.input, stream.createdAt);
 * for (const record of store.readStream(id)) state = fold.apply(state, record);
 * ```
 */
export class Folder {
  private readonly scope: AnyActorScope;
  private actions: ActionLike[] = [];

  constructor(readonly machine: AnyStateMachine) {
    // The actor is never started: it only lends the scope a `self` and a system for child refs.
    const self = createActor(machine, { input: undefined as never });
    this.scope = {
      self,
      id: '',
      sessionId: '',
      system: self.system,
      logger: () => {},
      defer: () => {},
      // A stopped child leaves the system, so a re-invoked child with a systemId can register again.
      stopChild: (child: unknown) => (self.system as unknown as { _unregister(ref: unknown): void })._unregister(child),
      emit: () => {},
      actionExecutor: (action: ActionLike) => {
        this.actions.push(action);
      },
    } as unknown as AnyActorScope;
  }

  /** The state before the first event: the machine's initial snapshot for `input`, created at `at` (ms). */
  initial(input: unknown, at: number): FoldState {
    this.actions = [];
    const snapshot = this.machine.getInitialSnapshot(this.scope, input) as AnyMachineSnapshot;
    const tracker = new BookkeepingTracker(undefined, this.scope.self);
    tracker.onActions(this.actions, 0, at);
    return { snapshot, version: 0, tracker };
  }

  /** Resumes from a persisted snapshot taken after `version`, with its bookkeeping. */
  restore(persisted: unknown, version: number, bookkeeping: Bookkeeping): FoldState {
    const snapshot = this.machine.restoreSnapshot!(persisted as never, this.scope) as AnyMachineSnapshot;
    return { snapshot, version, tracker: new BookkeepingTracker(structuredClone(bookkeeping), this.scope.self) };
  }

  /** Applies one logged event; mutates and returns `state`. */
  apply(state: FoldState, record: EventRecord): FoldState {
    return this.applyEvent(state, decodeEvent(record), record);
  }

  /** Applies an already decoded event (the replay CLI keeps both). */
  applyEvent(state: FoldState, event: EventObject, record: EventRecord): FoldState {
    this.actions = [];
    state.snapshot = this.machine.transition(state.snapshot, event, this.scope) as AnyMachineSnapshot;
    state.version = record.version;
    state.tracker.onEvent(record);
    state.tracker.onActions(this.actions, record.version, record.meta.recordedAt);
    return state;
  }

  /** The snapshot in XState's persisted (JSON-safe) form. */
  persist(state: FoldState): unknown {
    return this.machine.getPersistedSnapshot(state.snapshot);
  }
}

import { createActor, type AnyActorScope, type AnyMachineSnapshot, type AnyStateMachine, type EventObject } from 'xstate';
import type { EventRecord } from '../log/types.ts';
import { formatCausationId } from '../log/causationId.ts';
import { childPath, currentPath, isMachineRef, PEER, refAt, ROOT_PATH, type TreeRef } from './actorTree.ts';
import { BookkeepingTracker, readBookkeeping, type ActionLike, type Bookkeeping } from './bookkeeping.ts';
import { decodeEvent } from './eventCodec.ts';
import { FAILED_EVENT, type FailureData } from './failure.ts';
import { FoldHistory } from './foldHistory.ts';
import { UPGRADED_EVENT } from './upgradeEvent.ts';

/** A message to another journaled actor that a folded transition sent (recovery delivers it once). */
export interface ImpliedMessage {
  /** The sending stream. */
  from: string;
  /** The receiving stream. */
  to: string;
  event: EventObject;
  /** The send's causation id, as the live journal wrote it (src/log/causationId.ts). */
  causationId: string;
  /** The global position of the sender's event that caused it: the receiver logged it after this. */
  after: number;
}

/** Where a fold stands: the snapshot after `version`, and the bookkeeping recovery needs. */
export interface FoldState {
  snapshot: AnyMachineSnapshot;
  version: number;
  tracker: BookkeepingTracker;
  /** Messages to other journaled actors sent by the transitions folded so far (not those before a restored snapshot). */
  outbox: ImpliedMessage[];
  /** The stream folded (names the sends in `outbox`). */
  streamId: string;
  /** When the actor started (ms): the time the initial state's timers count from. */
  startedAt: number;
  /**
   * True once an `actorlog.failed` record of the root was applied: an `error` status is then the live
   * actor's. An `error` the fold reached otherwise is the fold's own (the log does not say the actor failed).
   */
  failureLogged?: boolean;
}

/** How many earlier snapshots per actor a fold keeps, to undo the events an actor never processed when it threw. */
const HISTORY = 32;
/** `sendsOfLast()` of an event that sent nothing (most): one shared empty list, not one per event. */
const NO_SENDS: Array<{ from: string; to: string; event: EventObject }> = [];

/**
 * Folds logged events through a machine's pure transition function, with no I/O and no timers. It
 * is XState's `transition(machine, snapshot, event)` with one inert actor scope made once per fold
 * instead of once per event, which is what makes it fast; a test holds its snapshots equal to
 * `transition()`'s. It folds the whole actor tree: an event logged for a child machine
 * (`meta.target`) goes through that child's transition, so invoked and spawned child machines keep
 * their state. A transition that throws gives the error snapshot the live actor had, and an
 * `actorlog.failed` record (the runtime writes one when a machine threw) puts the failed actor back
 * to its snapshot before the event that threw, with status `error`.
 *
 * @example
 * ```ts
 * const fold = new Folder(jobMachine);
 * let state = fold.initial(stream.input, stream.createdAt);
 * for (const record of store.readStream(id)) state = fold.apply(state, record);
 * ```
 */
export class Folder {
  private readonly self: TreeRef;
  private readonly scope: AnyActorScope;
  private readonly scopes = new WeakMap<object, AnyActorScope>();
  private readonly known = new WeakSet<object>();
  private readonly peers = new Map<string, object>();
  private actions: ActionLike[] = [];
  /** What the machines of the tree sent one another (no delay) for the last event applied, in order. */
  private sends: Array<{ from: string; to: string; event: EventObject }> = NO_SENDS;
  private history = new Map<string, FoldHistory>();

  constructor(readonly machine: AnyStateMachine) {
    // The actor is never started: it only lends the scope a `self` and a system for child refs.
    const self = createActor(machine, { input: undefined as never });
    this.self = self as unknown as TreeRef;
    const system = self.system as unknown as {
      get(id: string): unknown;
      getAll(): Record<string, unknown>;
      _set(id: string, ref: unknown): void;
      _unregister(ref: unknown): void;
    };
    const get = system.get.bind(system);
    // Another journaled actor, addressed by its stream id (`system.get(id)`): a stand-in records the send.
    system.get = (id: string) => get(id) ?? this.peer(id);
    // A child invoked with a `systemId` is made again by each initial or restored state of the fold
    // (the unstarted actor above made one already): the newest holds the id, as the live tree has one.
    const set = system._set.bind(system);
    system._set = (id: string, ref: unknown) => {
      const existing = get(id);
      if (existing !== undefined && existing !== ref) system._unregister(existing);
      set(id, ref);
    };
    this.scope = this.scopeFor(self);
  }

  private peer(streamId: string): object {
    let ref = this.peers.get(streamId);
    if (!ref) {
      ref = { id: streamId, sessionId: `actorlog-peer:${streamId}`, [PEER]: streamId, send() {}, _send() {}, getSnapshot: () => ({ status: 'active' }) };
      this.peers.set(streamId, ref);
    }
    return ref;
  }

  private scopeFor(ref: object): AnyActorScope {
    let scope = this.scopes.get(ref);
    if (!scope) {
      const system = (this.self as unknown as { system: { _unregister(ref: unknown): void } }).system;
      scope = {
        self: ref,
        id: (ref as TreeRef).id,
        sessionId: (ref as { sessionId: string }).sessionId,
        system,
        logger: () => {},
        defer: () => {},
        // A stopped child leaves the system, so a re-invoked child with a systemId can register again.
        stopChild: (child: unknown) => system._unregister(child),
        emit: () => {},
        actionExecutor: (action: ActionLike) => {
          this.actions.push(action);
        },
      } as unknown as AnyActorScope;
      this.scopes.set(ref, scope);
    }
    return scope;
  }

  /**
   * Starts a new fold: a folder folds one stream at a time, and may be reused for the next (recovery
   * folds every stream of a machine with one folder, since making one costs more than a short fold).
   * What the previous fold left is dropped: its undo history, its pending sends, and the children it
   * registered under a `systemId` (a stream's sends must not reach another stream's child).
   */
  private begin(): void {
    this.actions = [];
    this.sends = [];
    this.history.clear();
    const system = this.scope.system as unknown as { getAll(): Record<string, unknown>; _unregister(ref: unknown): void };
    for (const ref of Object.values(system.getAll())) system._unregister(ref);
  }

  /**
   * The state before the first event: the machine's initial snapshot for `input`, created at `at`
   * (ms), for the stream `streamId` (it names the messages the fold finds in `outbox`).
   */
  initial(input: unknown, at: number, streamId = ''): FoldState {
    this.begin();
    const snapshot = this.machine.getInitialSnapshot(this.scope, input) as AnyMachineSnapshot;
    const state: FoldState = { snapshot, version: 0, tracker: new BookkeepingTracker(), outbox: [], streamId, startedAt: at };
    const actions = this.actions;
    this.adopt(state, ROOT_PATH, snapshot, undefined);
    this.settle(state, ROOT_PATH, actions, undefined);
    return state;
  }

  /** Resumes from a persisted snapshot taken after `version`, with its bookkeeping. */
  restore(persisted: unknown, version: number, bookkeeping: Bookkeeping, streamId = ''): FoldState {
    this.begin();
    const snapshot = this.machine.restoreSnapshot!(structuredClone(persisted) as never, this.scope) as AnyMachineSnapshot;
    this.markKnown(snapshot);
    return { snapshot, version, tracker: new BookkeepingTracker(readBookkeeping(bookkeeping)), outbox: [], streamId, startedAt: 0 };
  }

  /** Applies one logged event; mutates and returns `state`. */
  apply(state: FoldState, record: EventRecord): FoldState {
    return this.applyEvent(state, decodeEvent(record), record);
  }

  /** Applies an already decoded event (the replay CLI keeps both). */
  applyEvent(state: FoldState, event: EventObject, record: EventRecord): FoldState {
    state.version = record.version;
    this.sends = NO_SENDS;
    if (record.type === FAILED_EVENT && record.meta.source === 'system') {
      this.applyFailure(state, record.data as FailureData);
      return state;
    }
    if (record.type === UPGRADED_EVENT && record.meta.source === 'system') return state; // the machine changed here: nothing to apply
    const path = record.meta.target ?? ROOT_PATH;
    const target = path === ROOT_PATH ? undefined : refAt(this.rootRef(state), path);
    if (path !== ROOT_PATH && (!target || !isMachineRef(target) || target.getSnapshot().status !== 'active')) {
      state.tracker.onEvent(record); // sent to a child that had stopped: XState drops it, so does the fold
      return state;
    }
    const before = path === ROOT_PATH ? state.snapshot : (target!.getSnapshot() as AnyMachineSnapshot);
    if (before.status !== 'active') return state;
    this.remember(path, record.version, before);
    this.actions = [];
    const logic = path === ROOT_PATH ? this.machine : (target as unknown as { logic: AnyStateMachine }).logic;
    let after: AnyMachineSnapshot;
    try {
      after = logic.transition(before, event, this.scopeFor(path === ROOT_PATH ? (this.self as object) : (target as object))) as AnyMachineSnapshot;
    } catch (err) {
      // As XState's actor does when a transition throws: the same snapshot, in error.
      after = { ...before, status: 'error', error: err } as AnyMachineSnapshot;
    }
    const actions = this.actions;
    if (path === ROOT_PATH) state.snapshot = after;
    else (target as unknown as { _snapshot: AnyMachineSnapshot })._snapshot = after;
    state.tracker.onEvent(record);
    this.adopt(state, path, after, record);
    this.settle(state, path, actions, record);
    return state;
  }

  /** The snapshot in XState's persisted (JSON-safe) form. */
  persist(state: FoldState): unknown {
    return this.machine.getPersistedSnapshot(state.snapshot);
  }

  private rootRef(state: FoldState): TreeRef {
    return { id: '', getSnapshot: () => state.snapshot as never } as TreeRef;
  }

  /** Applies the actions of the actor at `path` for `record` (undefined: its initial state) to the bookkeeping. */
  private settle(state: FoldState, path: string, actions: ActionLike[], record: EventRecord | undefined): void {
    if (actions.length === 0) return; // nothing scheduled, cancelled, stopped or sent (an assign, most events)
    const version = record?.version ?? 0;
    state.tracker.onActions(path, actions, version, record?.meta.recordedAt ?? state.startedAt, (ref) => currentPath(ref, this.self, this.rootRef(state)));
    this.collect(state, path, actions, version, record?.globalPosition ?? 0);
    for (const action of actions) {
      const params = action.params as { to?: unknown; event?: EventObject; delay?: unknown } | undefined;
      if (action.type !== 'xstate.sendTo' || typeof params?.delay === 'number' || !params?.event) continue;
      const to = currentPath(params.to, this.self, this.rootRef(state));
      if (to === undefined) continue;
      const ref = to === ROOT_PATH ? this.self : refAt(this.rootRef(state), to);
      if (to !== ROOT_PATH && !(ref && isMachineRef(ref))) continue;
      if (this.sends === NO_SENDS) this.sends = [];
      this.sends.push({ from: path, to, event: params.event });
    }
  }

  /**
   * The events the machines of the tree sent one another for the last event applied, that a live
   * actor relays at once and the journal appends after their cause (see `rederive`).
   */
  sendsOfLast(): ReadonlyArray<{ from: string; to: string; event: EventObject }> {
    return this.sends;
  }

  /** Keeps the messages to other journaled actors among `actions` (sent by the actor at `path` for the event at `version`). */
  private collect(state: FoldState, path: string, actions: ActionLike[], version: number, after: number): void {
    let n = 0;
    for (const action of actions) {
      const params = action.params as { to?: unknown; event?: EventObject; delay?: unknown } | undefined;
      const to = (params?.to as { [PEER]?: string } | undefined)?.[PEER];
      if (action.type !== 'xstate.sendTo' || to === undefined || typeof params?.delay === 'number') continue;
      state.outbox.push({
        from: state.streamId,
        to,
        event: params!.event!,
        causationId: formatCausationId({ streamId: state.streamId, version, path, index: n++ }),
        after,
      });
    }
  }

  /**
   * Children that appeared in `snapshot` (invoked or spawned by its last transition): a child machine
   * gets its initial state computed in the fold's scope, so its initial timers and grandchildren are
   * kept as the live child has them once started.
   */
  private adopt(state: FoldState, path: string, snapshot: AnyMachineSnapshot, record: EventRecord | undefined): void {
    const children = (snapshot.children ?? {}) as Record<string, object>;
    for (const id of Object.keys(children)) {
      const child = children[id]!;
      if (this.known.has(child)) continue;
      this.known.add(child);
      const at = childPath(path, id);
      state.tracker.onChildStarted(at);
      if (!isMachineRef(child)) continue;
      const ref = child as unknown as { logic: AnyStateMachine; options: { input?: unknown }; _snapshot: AnyMachineSnapshot };
      this.actions = [];
      ref._snapshot = ref.logic.getInitialSnapshot(this.scopeFor(child), ref.options?.input) as AnyMachineSnapshot;
      const actions = this.actions;
      this.adopt(state, at, ref._snapshot, record);
      this.settle(state, at, actions, record);
    }
  }

  private markKnown(snapshot: AnyMachineSnapshot): void {
    for (const child of Object.values((snapshot.children ?? {}) as Record<string, TreeRef>)) {
      this.known.add(child);
      if (isMachineRef(child)) this.markKnown(child.getSnapshot() as AnyMachineSnapshot);
    }
  }

  private remember(path: string, version: number, before: AnyMachineSnapshot): void {
    let history = this.history.get(path);
    if (!history) this.history.set(path, (history = new FoldHistory(HISTORY)));
    history.remember(version, before);
  }

  private applyFailure(state: FoldState, failure: FailureData): void {
    const path = failure.actor ?? ROOT_PATH;
    const target = path === ROOT_PATH ? undefined : refAt(this.rootRef(state), path);
    if (path !== ROOT_PATH && !target) return;
    const current = path === ROOT_PATH ? state.snapshot : (target!.getSnapshot() as AnyMachineSnapshot);
    // The snapshot before the event that threw (the actor never processed that event or any after it).
    const base = this.history.get(path)?.before(failure.at) ?? current;
    const failed = { ...base, status: 'error', error: failure.error } as AnyMachineSnapshot;
    if (path === ROOT_PATH) state.failureLogged = true;
    if (path === ROOT_PATH) state.snapshot = failed;
    else (target as unknown as { _snapshot: AnyMachineSnapshot })._snapshot = failed;
  }
}

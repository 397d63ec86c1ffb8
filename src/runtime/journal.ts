import type { AnyActorRef, AnyMachineSnapshot, EventObject, InspectionEvent } from 'xstate';
import { ActorlogError, describeError, isActorlogError } from '../errors.ts';
import type { Clock } from '../clock.ts';
import type { EventMeta, EventSource, LogStore, NewEvent, Passivation, SnapshotRecord, StoredInboxMessage } from '../log/types.ts';
import { formatCausationId } from '../log/causationId.ts';
import { asTree, currentPath, isMachineRef, isWithin, pathOf, refAt, ROOT_PATH, walkTree, type TreeRef } from './actorTree.ts';
import { BookkeepingTracker, type Bookkeeping } from './bookkeeping.ts';
import type { GroupCommit, PendingWrite } from './groupCommit.ts';
import { FOREIGN, installIngress, type FiredTimer, type Ingress, type IngressClock } from './ingress.ts';
import { exactEventData, invalidEvent, loggedEvent } from './eventCodec.ts';
import { Fifo } from './fifo.ts';
import { NotJson } from './jsonValue.ts';
import { FAILED_EVENT, type FailureData } from './failure.ts';

/** The payload of a snapshot record written by the runtime. */
export interface StoredSnapshot {
  /** XState's persisted snapshot (`actor.getPersistedSnapshot()`), the whole actor tree. */
  state: unknown;
  bookkeeping: Bookkeeping;
  /** The hash of the machine that made it (absent in snapshots of older runtimes): recovery compares it with the registered one. */
  machineHash?: string;
}

/** Source kinds a child may declare in `event.meta.source`. */
const DECLARED = new Set<EventSource>(['poll', 'sse', 'ws', 'webhook']);

/** Options of a {@link Journal}. */
export interface JournalOptions {
  store: LogStore;
  commit: GroupCommit;
  clock: Clock;
  streamId: string;
  /** The stream's version before the actor starts (0 for a new actor). */
  version: number;
  bookkeeping?: Bookkeeping;
  /** When the actor's initial state was entered (ms): the time its initial timers count from. */
  startedAt: number;
  /** Save a snapshot every this many events (0: only final ones). */
  snapshotEvery: number;
  /** The hash of the machine the actor runs, kept in its snapshots. */
  machineHash?: string;
  /** The journal of another journaled actor whose root is `ref`, if it is one (for `sendTo` between actors). */
  peerOf(ref: unknown): Journal | undefined;
  /** The stream id of a journaled actor that does not run here, when `ref` is its stand-in (see `remoteRef`). */
  remoteOf(ref: unknown): string | undefined;
  /** Called once when a write fails or the actor cannot be journaled; the actor is then stopped. */
  onFailure(error: ActorlogError): void;
  /** Called once a message this actor posted to another's inbox has committed (the receiver may be asleep: passivation). */
  posted?(streamId: string): void;
}

interface Pending {
  event: EventObject;
  version: number;
  at: number;
}

/**
 * The write-ahead journal of one journaled actor and its tree of child machines. It observes
 * XState's inspection stream, which is synchronous, as better-sqlite3 is:
 * - every `@xstate.event` delivered to the root or to a child machine is appended to the root's
 *   stream before XState enqueues it, with its source, the child's path (`meta.target`), the
 *   sender's path (`meta.actor`), a fired timer's key and a source's cursor;
 * - an event a tree member sends to another journaled actor is appended to that actor's stream, with
 *   a causation id naming the send, before that actor receives it;
 * - `@xstate.action` and `@xstate.snapshot` keep the bookkeeping (timers, cursors, completed
 *   children) and save snapshots when no appended event awaits processing.
 * A failed write stops the actor: nothing is processed unlogged.
 * @internal
 */
export class Journal {
  private root?: AnyActorRef;
  /** Appended events not yet processed, per target path, in mailbox (FIFO) order: one object may be queued twice. */
  private readonly pending = new Map<string, Pending[]>();
  private pendingCount = 0;
  private readonly actions = new Map<unknown, Array<{ type: string; params?: unknown }>>();
  /** Sends to other journaled actors per `<path>:<version>` being processed, for their causation ids. */
  private readonly sends = new Map<string, number>();
  /** An event the runtime re-delivers with `send`, and the meta to log it with (recovery of a message). */
  private expected?: { event: EventObject; meta: Partial<EventMeta> };
  readonly tracker: BookkeepingTracker;
  private lastSaved = 0;
  /** The stream version of the last event appended. */
  version: number;
  failed?: ActorlogError;
  private failedAt = 0;

  constructor(private readonly options: JournalOptions) {
    this.version = options.version;
    this.lastSaved = options.version;
    this.tracker = new BookkeepingTracker(options.bookkeeping);
    this.lastActiveAt = options.clock.now();
  }

  get streamId(): string {
    return this.options.streamId;
  }

  /** The actors of the tree as restored from a snapshot (recovery), before `start()`. */
  private readonly restored = new WeakSet<object>();
  /** The snapshot each restored actor had before `start()` (its `onSnapshot` re-send of it is not new). */
  private readonly restoredSnapshots = new WeakMap<object, unknown>();

  /** Resolves a ref named by an action (`sendTo`, `stopChild`) to its path in the tree, as the bookkeeping keys it. */
  private readonly targetOf = (ref: unknown): string | undefined => currentPath(ref, this.root, asTree(this.root!));

  /** The gate in front of the root's XState system (see ingress.ts). */
  private ingress?: Ingress;
  /** Inputs appended (or being appended), delivered to XState in this order once committed. */
  private readonly held = new Fifo<{
    source: AnyActorRef | undefined;
    target: AnyActorRef;
    event: EventObject;
    append: (committed: () => void) => boolean;
    appended: boolean;
    ready: boolean;
  }>();
  private releasing = false;
  /** The input being handed to XState now: its `@xstate.event` is already recorded. */
  private delivering?: EventObject;
  /** Inbox messages taken for delivery (by id), so a later read of the inbox does not take them twice. */
  private readonly inboxTaken = new Set<number>();
  /**
   * Set from creation until {@link openInbox}: nothing held is appended, and inbox messages read
   * meanwhile wait here, to go before every other input (see {@link openInbox}).
   */
  private gated?: StoredInboxMessage[] = [];
  /** Messages handed to journaled actors running here that they have not appended yet (see `sendToPeer`). */
  private unconfirmedSends = 0;
  /** Set once the actor is passivated: its XState actor is stopped, and nothing more is journaled here. */
  asleep = false;
  /** When the last input was taken, or the actor created (ms, the system's clock): what passivation measures idleness by. */
  lastActiveAt: number;
  /** Resolvers waiting for every held input to be delivered. */
  private readonly whenIdle: Array<() => void> = [];

  /** Binds the journal to its root actor (before `start()`) and puts the mailbox in front of its system. */
  attach(root: AnyActorRef, clock: IngressClock): void {
    this.root = root;
    // (bookkeeping is given when the actor resumes from the log, not when it is spawned)
    const resumed = this.options.bookkeeping !== undefined;
    for (const { ref } of walkTree(asTree(root))) {
      this.restored.add(ref);
      if (resumed) this.restoredSnapshots.set(ref, ref.getSnapshot());
    }
    this.ingress = installIngress(root, clock, (source, target, event, timer) => this.admit(source, target, event, timer));
    for (const { ref } of walkTree(asTree(root))) this.ingress.guard(ref as unknown as AnyActorRef);
  }

  /**
   * The mailbox (docs/architecture.md invariant 1): called for every event XState relays in this
   * actor's system. An input the tree cannot compute from its log (an external send, a child I/O
   * actor's output, a fired timer, a message from outside the tree) is appended and reaches XState
   * only once its append has committed, in order; `true` means the journal took it. What a machine
   * of the tree sends to another one (a parent's `sendTo`, `sendParent`, a machine child's done
   * event) follows its cause at once (`false`: XState relays it, the inspection records it).
   */
  private admit(source: AnyActorRef | undefined, target: AnyActorRef, event: EventObject, timer: FiredTimer | undefined): boolean {
    if (this.failed) return true;
    if (source !== undefined && event.type === `xstate.snapshot.${source.id}`) {
      // A child restored from the log re-sends the snapshot it had (onSnapshot) as it starts: the log
      // holds that one already. Any other snapshot is logged in its persisted (JSON) form.
      const snapshot = (event as { snapshot?: unknown }).snapshot;
      if (this.restoredSnapshots.get(source) === snapshot) {
        this.restoredSnapshots.delete(source);
        return true;
      }
      event = {
        type: event.type,
        snapshot: (source as unknown as { logic: { getPersistedSnapshot(s: unknown): unknown } }).logic.getPersistedSnapshot(snapshot),
      } as EventObject;
    }
    const path = this.pathOf(target);
    const from = source === undefined ? undefined : this.pathOf(source);
    if (path === undefined) {
      if (from === undefined || timer) return false;
      const peer = this.options.peerOf(target);
      if (peer && peer !== this) {
        this.sendToPeer(peer, target, event, from);
        return true;
      }
      const remote = this.options.remoteOf(target);
      if (remote !== undefined) {
        this.postToRemote(remote, event, from);
        return true;
      }
      return false;
    }
    if (event.type === 'xstate.init') return false;
    if (path !== ROOT_PATH && !isMachineRef(target)) return false;
    const input = timer !== undefined || source === undefined || from === undefined || (from !== ROOT_PATH && !isMachineRef(source));
    if (target.getSnapshot().status !== 'active') return false;
    if (!input) {
      // A machine of the tree sends to another: recorded by the inspection (onEvent), as the log holds it.
      const logged = this.logged(event, false);
      if (!logged) return true;
      this.internal = logged;
      if (logged.event === event) return false;
      this.ingress!.relay(source, target, logged.event);
      return true;
    }
    let expected: Partial<EventMeta> | undefined;
    if (this.expected?.event === event && source === undefined) {
      expected = this.expected.meta;
      this.expected = undefined;
    }
    // The application's own send is refused here, thrown to the caller, when the log cannot hold it
    // exactly; any other input is delivered as the log holds it.
    const logged = this.logged(event, source === undefined && expected === undefined);
    if (!logged) return true;
    // Classified and appended when its turn comes (see `release`): after everything the inputs
    // before it made the tree do, so the log keeps the order XState processes things in.
    this.hold(source === FOREIGN ? undefined : source, target, logged.event, (committed) => {
      const at = this.pathOf(target);
      if (at === undefined || target.getSnapshot().status !== 'active') return false; // ended meanwhile: XState would drop it
      const meta = { recordedAt: this.options.clock.now(), ...expected } as EventMeta;
      if (expected === undefined && !this.classify(logged.event, source, at, meta, timer)) return false;
      if (at !== ROOT_PATH) meta.target = at;
      return this.record(at, logged.event, meta, logged.data, committed);
    });
    return true;
  }

  /** The last tree-internal event admitted, as the log holds it (onEvent records it). */
  private internal?: { event: EventObject; data: unknown };

  /**
   * `event` as the log holds it, with its data (see `loggedEvent`). `strict` (the application's
   * send): an event the log cannot hold exactly is refused, `INVALID_EVENT` thrown, nothing
   * appended. Otherwise (an event a machine or child produced) it is delivered as the log holds it;
   * one JSON cannot write at all stops the actor with `INVALID_EVENT` (`undefined` is returned).
   */
  private logged(event: EventObject, strict: boolean): { event: EventObject; data: unknown } | undefined {
    try {
      return strict ? { event, data: exactEventData(event) } : loggedEvent(event);
    } catch (err) {
      if (!(err instanceof NotJson)) throw err;
      const refused = invalidEvent(err, { streamId: this.streamId, event: event.type }, `event ${event.type} to actor ${this.streamId}`);
      if (strict) throw refused;
      this.fail(refused);
      return undefined;
    }
  }

  /**
   * Queues an input. `append` is called when its turn comes, with the callback that releases it once
   * the append has committed; it returns false when the input is dropped instead (nothing appended).
   */
  private hold(source: AnyActorRef | undefined, target: AnyActorRef, event: EventObject, append: (committed: () => void) => boolean): void {
    this.held.push({ source, target, event, append, appended: false, ready: false });
    this.lastActiveAt = this.options.clock.now();
    this.release();
  }

  /**
   * Works the mailbox, one input at a time: appends the input at its head, and once that append has
   * committed hands it to XState; what the tree does for it (sends between its machines, their
   * records) happens inside that call. Only then is the next input appended, so the log holds every
   * input after everything the ones before it caused: a fold replays them in the order they ran.
   * The inputs of many actors still commit together (group commit); one actor's inputs take one
   * commit each, except on an embedded store in `each` mode, where a commit is a call.
   */
  private release(): void {
    if (this.releasing || this.gated) return;
    this.releasing = true;
    try {
      for (;;) {
        const head = this.held.peek();
        if (!head || this.failed) break;
        if (!head.appended) {
          head.appended = true;
          const taken = head.append(() => {
            head.ready = true;
            if (!this.releasing) this.release();
          });
          if (!taken) {
            this.held.shift();
            continue;
          }
        }
        if (!head.ready) break; // its commit is in flight
        this.held.shift();
        this.delivering = head.event;
        try {
          this.ingress!.relay(head.source, head.target, head.event);
        } finally {
          this.delivering = undefined;
        }
      }
    } finally {
      this.releasing = false;
    }
    if (this.held.length === 0 || this.failed) for (const resolve of this.whenIdle.splice(0)) resolve();
  }

  /** Resolves once every input taken so far has been delivered to XState (or the actor failed). */
  idle(): Promise<void> {
    if (this.held.length === 0 || this.failed) return Promise.resolve();
    return new Promise((resolve) => this.whenIdle.push(resolve));
  }

  /** How many inputs wait for their commit. */
  get backlog(): number {
    return this.held.length;
  }

  /** The inspection observer to pass to `createActor(machine, { inspect })`. */
  readonly inspect = (ev: InspectionEvent): void => {
    if (this.failed || this.asleep) return;
    if (ev.type === '@xstate.event') this.onEvent(ev.event, ev.sourceRef as AnyActorRef | undefined, ev.actorRef as AnyActorRef);
    else if (ev.type === '@xstate.actor') this.ingress?.guard(ev.actorRef as AnyActorRef);
    else if (ev.type === '@xstate.action') {
      if (pathOf(ev.actorRef, this.root) === undefined) return;
      const params = ev.action.params as { to?: unknown; delay?: unknown } | undefined;
      const peer =
        ev.action.type === 'xstate.sendTo' && typeof params?.delay === 'number'
          ? (this.options.peerOf(params.to) ?? remoteJournal(this.options.remoteOf(params.to)))
          : undefined;
      if (peer && peer !== this) {
        this.fail(
          new ActorlogError(
            'UNSUPPORTED_MACHINE',
            `actor ${this.streamId} scheduled a delayed sendTo to another journaled actor (${peer.streamId}): that cannot be journaled; delay in the receiver instead`,
            {
              details: { streamId: this.streamId, to: peer.streamId },
            },
          ),
        );
        return;
      }
      let list = this.actions.get(ev.actorRef);
      if (!list) this.actions.set(ev.actorRef, (list = []));
      list.push(ev.action);
    } else if (ev.type === '@xstate.snapshot') this.onSnapshot(ev.actorRef as AnyActorRef, ev.event, ev.snapshot as AnyMachineSnapshot);
  };

  private pathOf(ref: unknown): string | undefined {
    return pathOf(ref, this.root);
  }

  /** Records an event XState relays at once: one a machine of the tree sent to another (see `admit`). */
  private onEvent(event: EventObject, sourceRef: AnyActorRef | undefined, targetRef: AnyActorRef): void {
    if (this.delivering === event) {
      this.delivering = undefined; // an input of the mailbox: appended before it was released
      return;
    }
    const path = this.pathOf(targetRef);
    if (event.type === 'xstate.init') {
      if (path === undefined || path === ROOT_PATH) return;
      // XState names a child spawned without an id by its session id (`x:12`): another one in every process.
      if (targetRef.id === targetRef.sessionId) {
        this.fail(
          new ActorlogError(
            'UNSUPPORTED_MACHINE',
            `a child was spawned without an id (${targetRef.id}): give it one, spawn('logic', { id }), so recovery and replay find it again`,
            {
              details: { streamId: this.streamId, actor: targetRef.id },
            },
          ),
        );
        return;
      }
      // A child restored from a snapshot starts again too: only a new one drops what was kept for its path.
      if (!this.restored.has(targetRef)) this.tracker.onChildStarted(path);
      return;
    }
    if (path === undefined) return;
    // Promises, callbacks and observables are I/O: what they receive is not state to fold.
    if (path !== ROOT_PATH && !isMachineRef(targetRef)) return;
    // An event to an actor that has ended is dropped by XState (and by the fold).
    if (targetRef.getSnapshot().status !== 'active') return;
    const meta = { recordedAt: this.options.clock.now() } as EventMeta;
    if (!this.classify(event, sourceRef, path, meta, undefined)) return;
    if (path !== ROOT_PATH) meta.target = path;
    const logged = this.internal?.event === event ? this.internal : this.logged(event, false);
    this.internal = undefined;
    if (logged) this.record(path, event, meta, logged.data);
  }

  /** Fills `meta.source`, `actor`, `timer` and `cursor`; false when the event cannot be journaled (the actor is then failed). */
  private classify(event: EventObject, sourceRef: AnyActorRef | undefined, path: string, meta: EventMeta, fired: FiredTimer | undefined): boolean {
    if (fired) {
      const owner = this.pathOf(fired.owner);
      const timer = owner === undefined ? undefined : this.tracker.timerFired(owner, fired.id, event);
      meta.source = 'timer';
      meta.timer = timer?.key ?? `${owner ?? ''}#${fired.id ?? ''}`;
      return true;
    }
    if (sourceRef === undefined) {
      meta.source = 'external';
      return true;
    }
    const from = this.pathOf(sourceRef);
    if (from === path) {
      meta.source = 'self';
      return true;
    }
    if (from === undefined) meta.source = 'actor';
    else if (isWithin(from, path)) {
      const wire = (event as { meta?: { source?: EventSource; cursor?: unknown } }).meta;
      meta.source = wire?.source && DECLARED.has(wire.source) ? wire.source : 'child';
      if (wire && wire.cursor !== undefined) {
        const input = (sourceRef.getSnapshot() as { input?: unknown }).input;
        if (input !== undefined && input !== null && (typeof input !== 'object' || Array.isArray(input))) {
          this.fail(
            new ActorlogError(
              'INVALID_CURSOR',
              `child ${from} sent ${event.type} with a cursor, but its input is ${Array.isArray(input) ? 'an array' : `a ${typeof input}`}: recovery hands the cursor back in input.cursor, so invoke it with an object input ({ …, cursor }) or none`,
              {
                details: { streamId: this.streamId, actor: from, event: event.type },
              },
            ),
          );
          return false;
        }
        if (typeof wire.cursor === 'string') meta.cursor = wire.cursor;
        else if ((typeof wire.cursor === 'number' && Number.isFinite(wire.cursor)) || typeof wire.cursor === 'bigint') meta.cursor = String(wire.cursor);
        else {
          this.fail(
            new ActorlogError(
              'INVALID_CURSOR',
              `child ${from} sent ${event.type} with meta.cursor of type ${typeof wire.cursor}: a cursor is a string or a finite number`,
              {
                details: { streamId: this.streamId, actor: from, event: event.type },
              },
            ),
          );
          return false;
        }
      }
    } else meta.source = isWithin(path, from) ? 'parent' : 'actor';
    if (from !== undefined && from !== ROOT_PATH) meta.actor = from;
    // A child machine that threw reports xstate.error.actor.*: record where, so replay reproduces it.
    if (
      from !== undefined &&
      from !== ROOT_PATH &&
      event.type.startsWith('xstate.error.actor.') &&
      isMachineRef(sourceRef) &&
      sourceRef.getSnapshot().status === 'error'
    ) {
      this.recordFailure(describeError((event as { error?: unknown }).error), from);
    }
    return true;
  }

  /** Appends `event` for the actor at `path`; `committed` is called once the append has committed. */
  private record(path: string, event: EventObject, meta: EventMeta, data: unknown, committed?: () => void, consumed?: PendingWrite['consumed']): boolean {
    const record: NewEvent = { type: event.type, data, meta };
    const expected = this.version;
    this.version = expected + 1;
    let queue = this.pending.get(path);
    if (!queue) this.pending.set(path, (queue = []));
    queue.push({ event, version: this.version, at: meta.recordedAt });
    this.pendingCount++;
    this.tracker.onEvent({ type: record.type, meta, version: this.version });
    this.write({ appends: [{ streamId: this.streamId, expectedVersion: expected, events: [record] }], consumed, committed });
    return true;
  }

  /**
   * Logs an event another journaled actor's tree sends to this tree (its root, or a child machine it
   * was given as a ref), and delivers it once committed. An event for an actor of the tree that has
   * ended is dropped, as XState drops it.
   */
  receive(event: EventObject, from: string, causationId: string, target: AnyActorRef | undefined = this.root, settled?: () => void): void {
    if (this.failed || !this.root || !target || this.root.getSnapshot().status !== 'active') return settled?.();
    const path = this.pathOf(target);
    if (path === undefined || target.getSnapshot().status !== 'active' || (path !== ROOT_PATH && !isMachineRef(target))) return settled?.();
    const logged = this.logged(event, false);
    if (!logged) return settled?.();
    const meta: EventMeta = { source: 'actor', actor: from, causationId, recordedAt: this.options.clock.now() };
    if (path !== ROOT_PATH) meta.target = path;
    this.hold(undefined, target, logged.event, (committed) =>
      this.record(path, logged.event, meta, logged.data, () => {
        settled?.();
        committed();
      }),
    );
  }

  /** Appends messages of this actor's inbox (posted by actors elsewhere) and delivers them once committed. */
  receiveInbox(messages: readonly StoredInboxMessage[]): void {
    if (this.gated) {
      this.gated.push(...messages);
      return;
    }
    for (const m of messages) {
      if (this.failed || !this.root || this.root.getSnapshot().status !== 'active') return;
      if (this.inboxTaken.has(m.id)) continue;
      this.inboxTaken.add(m.id);
      const data = m.data !== null && typeof m.data === 'object' ? (m.data as object) : {};
      const event = { ...data, type: m.type } as EventObject;
      // `from` is empty for an application's `system.send` to an actor that ran elsewhere
      const meta: EventMeta =
        m.from === ''
          ? { source: 'external', causationId: m.causationId, recordedAt: this.options.clock.now() }
          : { source: 'actor', actor: m.from, causationId: m.causationId, recordedAt: this.options.clock.now() };
      this.hold(undefined, this.root, event, (committed) => this.record(ROOT_PATH, event, meta, data, committed, [{ streamId: this.streamId, id: m.id }]));
    }
  }

  /**
   * Opens the mailbox of a new or recovered actor once its inbox has been read (what was read meanwhile
   * came through {@link receiveInbox}): the inbox messages, in the order they were posted, go before
   * every input held since the actor was created here. A sender whose earlier messages went to the
   * inbox (the receiver ran nowhere, or on another node) and whose later ones come directly (the
   * receiver runs here now) has them appended in the order it sent them.
   */
  openInbox(): void {
    const early = this.gated;
    if (!early) return;
    this.gated = undefined;
    const seen = new Set<number>();
    const inbox = early.filter((m) => !seen.has(m.id) && (seen.add(m.id), true)).sort((a, b) => a.id - b.id);
    const later = this.held.drain();
    this.releasing = true; // the queue is filled before it is worked
    try {
      this.receiveInbox(inbox);
      for (const input of later) this.held.push(input);
    } finally {
      this.releasing = false;
    }
    this.release();
  }

  /** Posts a message to the inbox of a journaled actor that does not run here, in order with this actor's writes. */
  private postToRemote(streamId: string, event: EventObject, from: string): void {
    const causationId = this.nextCausationId(from);
    const logged = this.logged(event, false);
    if (!logged) return;
    const data = logged.data;
    const sender = from === ROOT_PATH ? this.streamId : `${this.streamId}/${from}`;
    this.write({
      messages: [{ streamId, causationId, type: event.type, data, from: sender, postedAt: this.options.clock.now() }],
      committed: () => this.options.posted?.(streamId),
    });
  }

  /** The next external `send` of exactly `event` is logged with `meta` (recovery re-delivering a message). */
  expect(event: EventObject, meta: Partial<EventMeta>): void {
    this.expected = { event, meta };
  }

  /**
   * Hands a message to a journaled actor running here. Until the receiver has appended it (or dropped
   * it, as XState would), only this actor's log says it was sent: no periodic snapshot is taken
   * meanwhile, so a crash before the receiver's append leaves it among the sends recovery folds from
   * the log after the snapshot and delivers again (`redeliver`, once by causation id).
   */
  private sendToPeer(peer: Journal, target: AnyActorRef, event: EventObject, from: string): void {
    this.unconfirmedSends++;
    let settled = false;
    peer.receive(event, this.streamId, this.nextCausationId(from), target, () => {
      if (!settled) this.unconfirmedSends--;
      settled = true;
    });
  }

  /** The causation id of the n-th send of the actor at `from` while it processes the event at `version` (src/log/causationId.ts). */
  private nextCausationId(from: string): string {
    const version = (this.pending.get(from)?.[0] ?? this.processing(from))?.version ?? this.options.version;
    const key = `${from}:${version}`;
    const n = this.sends.get(key) ?? 0;
    this.sends.set(key, n + 1);
    return formatCausationId({ streamId: this.streamId, version, path: from, index: n });
  }

  private onSnapshot(actorRef: AnyActorRef, event: EventObject, snapshot: AnyMachineSnapshot): void {
    const path = this.pathOf(actorRef);
    if (path === undefined) return;
    const actions = this.actions.get(actorRef) ?? [];
    this.actions.delete(actorRef);
    const queue = this.pending.get(path);
    const entry = queue?.[0]?.event === event ? queue.shift() : undefined;
    if (queue?.length === 0) this.pending.delete(path); // a child's path is not kept once it has nothing pending
    const targetOf = this.targetOf;
    if (entry === undefined) {
      // xstate.init: the initial actions count from the event being processed by the parent (or the actor's start)
      if (event.type === 'xstate.init') {
        const context = path === ROOT_PATH ? undefined : this.processing(path);
        this.tracker.onActions(path, actions, context?.version ?? this.options.version, context?.at ?? this.options.startedAt, targetOf);
      }
      return;
    }
    this.pendingCount--;
    this.sends.delete(`${path}:${entry.version}`);
    this.tracker.onActions(path, actions, entry.version, entry.at, targetOf);
    if (path === ROOT_PATH && snapshot.status !== 'active') {
      this.save(entry.version, snapshot.status === 'done' ? 'done' : 'error');
      return;
    }
    this.dropOrphans(asTree(this.root!));
    const every = this.options.snapshotEvery;
    // (v <= version, so a snapshot is due only once `every` events were appended since the last one)
    if (every > 0 && this.version - this.lastSaved >= every) {
      // The tree's state is exactly "after version v" when every event up to v has been processed and none after it.
      const v = this.lastProcessed();
      if (this.pendingCount === this.version - v && v - this.lastSaved >= every && this.unconfirmedSends === 0) this.save(v);
    }
  }

  /** The event being processed by the nearest ancestor of `path` that is processing one. */
  private processing(path: string): Pending | undefined {
    if (path === ROOT_PATH) return undefined;
    const ids = path.split('/');
    for (let i = ids.length - 1; i >= 0; i--) {
      const head = this.pending.get(ids.slice(0, i).join('/'))?.[0];
      if (head) return head;
    }
    return undefined;
  }

  /** Pending events of children that stopped before processing them will never be processed. */
  private dropOrphans(tree: TreeRef): void {
    if (this.pendingCount === (this.pending.get(ROOT_PATH)?.length ?? 0)) return;
    for (const [path, queue] of this.pending) {
      if (path === ROOT_PATH || queue.length === 0) continue;
      const ref = refAt(tree, path);
      if (!ref || ref.getSnapshot().status !== 'active') {
        this.pendingCount -= queue.length;
        this.pending.delete(path);
      }
    }
  }

  /**
   * Saves the root's current snapshot (the whole tree) under `version` (default: the last appended
   * one), and a status when the actor ended. The caller makes sure the tree's state is exactly the
   * state after `version`.
   */
  save(version = this.version, status?: 'done' | 'error' | 'stopped'): void {
    if (this.failed || !this.root) return;
    const { clock } = this.options;
    const payload: StoredSnapshot = { state: this.root.getPersistedSnapshot(), bookkeeping: this.tracker.toJSON(), machineHash: this.options.machineHash };
    const at = clock.now();
    this.lastSaved = version;
    this.write({
      snapshots: [{ streamId: this.streamId, version, snapshot: payload, recordedAt: at }],
      statuses: status ? [{ streamId: this.streamId, status, at }] : undefined,
    });
  }

  /**
   * Records that a machine of this tree threw (`actor`: the child's path; absent: the root) while
   * processing the event it was on, so replay reproduces the failure (see `FAILED_EVENT`).
   */
  recordFailure(error: unknown, actor?: string): void {
    if (this.failed || !this.root) return;
    const path = actor ?? ROOT_PATH;
    const head = this.pending.get(path)?.[0];
    const ref = path === ROOT_PATH ? asTree(this.root) : refAt(asTree(this.root), path);
    const info = describeError(error);
    const data: FailureData = {
      at: head?.version ?? (path === ROOT_PATH ? this.options.version : (this.processing(path)?.version ?? this.options.version)),
      eventType: head?.event.type ?? 'xstate.init',
      state: (ref?.getSnapshot() as { value?: unknown } | undefined)?.value ?? null,
      error: info,
    };
    const where = whereThrown(error);
    if (where) data.where = where;
    if (actor !== undefined) data.actor = actor;
    if (head) {
      this.pendingCount -= this.pending.get(path)!.length;
      this.pending.delete(path);
    }
    const expected = this.version;
    this.version = expected + 1;
    const record: NewEvent = {
      type: FAILED_EVENT,
      data,
      meta: { source: 'system', recordedAt: this.options.clock.now(), ...(actor !== undefined ? { target: actor } : {}) },
    };
    this.write({ appends: [{ streamId: this.streamId, expectedVersion: expected, events: [record] }] });
  }

  /**
   * Puts the actor to sleep when it is quiescent: its mailbox empty and open, every appended event
   * processed, and no child but machines (an invoked promise, callback or observable is work in
   * flight: it is not passivated). Stops the XState actor (its timers go with it) and returns the
   * write that passivates it: its snapshot (the tree and its bookkeeping: pending timers with their
   * due times, cursors) and the stream's next due time. From then on nothing is journaled here.
   * Returns undefined, changing nothing, when the actor is not quiescent.
   */
  passivate(): { snapshots: SnapshotRecord[]; passivations: Passivation[] } | undefined {
    const root = this.root;
    if (this.failed || this.asleep || !root || this.gated || this.held.length > 0 || this.releasing || this.pendingCount > 0 || this.unconfirmedSends > 0)
      return undefined;
    if (root.getSnapshot().status !== 'active') return undefined;
    for (const { ref } of walkTree(asTree(root))) if ((ref as unknown) !== root && !isMachineRef(ref as unknown as AnyActorRef)) return undefined;
    const at = this.options.clock.now();
    const payload: StoredSnapshot = { state: root.getPersistedSnapshot(), bookkeeping: this.tracker.toJSON(), machineHash: this.options.machineHash };
    const dues = this.tracker.state.timers.map((t) => t.dueAt);
    this.asleep = true;
    this.lastSaved = this.version;
    root.stop();
    for (const resolve of this.whenIdle.splice(0)) resolve();
    return {
      snapshots: [{ streamId: this.streamId, version: this.version, snapshot: payload, recordedAt: at }],
      passivations: [{ streamId: this.streamId, at, ...(dues.length > 0 ? { wakeAt: Math.min(...dues) } : {}) }],
    };
  }

  /** Saves a snapshot if every appended event has been processed (else recovery folds from the log). */
  saveIfSettled(status?: 'stopped'): void {
    const v = this.lastProcessed();
    if (this.pendingCount === this.version - v || status) this.save(v, status);
  }

  /** The highest version below the first unprocessed one. */
  private lastProcessed(): number {
    let first = this.version + 1;
    for (const queue of this.pending.values()) if (queue[0] && queue[0].version < first) first = queue[0].version;
    return first - 1;
  }

  /** Queues a write of this actor in the system's group commit; a write of an actor that already failed is skipped. */
  private write(write: Omit<PendingWrite, 'failed'>): void {
    if (this.failed) return;
    this.options.commit.enqueue({ ...write, failed: (err) => this.fail(err) });
  }

  /** Marks the stream `error` (best effort: the store may be what failed). */
  private markRefused(): void {
    this.options.commit.enqueue({ statuses: [{ streamId: this.streamId, status: 'error', at: this.failedAt }], failed: () => {} });
  }

  /**
   * Stops the actor because a write failed (each mode: before the transition; tick mode: at commit,
   * after the transitions of its tick) or the actor cannot be journaled. The actor is stopped first,
   * then `onFailure` is told; an `onFailure` that throws cannot keep it running.
   */
  fail(err: unknown): void {
    if (this.failed) return;
    this.failedAt = this.options.clock.now();
    this.failed =
      isActorlogError(err, 'UNSUPPORTED_MACHINE') ||
      isActorlogError(err, 'INVALID_CURSOR') ||
      isActorlogError(err, 'INVALID_EVENT') ||
      isActorlogError(err, 'LEASE_LOST') ||
      isActorlogError(err, 'STORE_UNAVAILABLE')
        ? err
        : new ActorlogError(
            'APPEND_FAILED',
            isActorlogError(err, 'APPEND_FAILED') ? err.message : `could not append to stream ${this.streamId}: ${(err as Error)?.message ?? err}`,
            {
              cause: err,
              details: { streamId: this.streamId, version: this.version },
            },
          );
    try {
      (this.root as (AnyActorRef & { stop?: () => void }) | undefined)?.stop?.();
      // A machine the journal cannot record faithfully is not resumed by a later recover(): its stream ends `error`.
      if (this.failed.code !== 'APPEND_FAILED' && this.failed.code !== 'LEASE_LOST' && this.failed.code !== 'STORE_UNAVAILABLE') this.markRefused();
    } finally {
      for (const resolve of this.whenIdle.splice(0)) resolve();
      try {
        this.options.onFailure(this.failed);
      } catch (reportErr) {
        console.error(`actorlog: onError threw while reporting that actor ${this.streamId} stopped (${this.failed.code}): ${describeError(reportErr).message}`);
      }
    }
  }
}

/** A stand-in for the journal of a journaled actor that does not run here (only its stream id is read). */
function remoteJournal(streamId: string | undefined): { streamId: string } | undefined {
  return streamId === undefined ? undefined : { streamId };
}

/** The first stack frame of `error` outside XState and Node's internals: where the machine threw. */
function whereThrown(error: unknown): string | undefined {
  // XState wraps a throwing guard in its own Error, with the guard's error as `cause`.
  const cause = (error as { cause?: unknown })?.cause;
  if (cause instanceof Error) return whereThrown(cause) ?? whereThrown({ stack: (error as Error).stack });
  const stack = (error as { stack?: unknown })?.stack;
  if (typeof stack !== 'string') return undefined;
  const frame = stack.split('\n').find((line) => /^\s+at /.test(line) && !/node_modules[\\/]xstate|node:internal|src[\\/]runtime[\\/]/.test(line));
  return frame?.trim().replace(/^at /, '');
}

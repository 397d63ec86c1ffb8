import type { AnyActorRef, AnyMachineSnapshot, EventObject, InspectionEvent } from 'xstate';
import { ActorlogError, isActorlogError } from '../errors.ts';
import type { Clock } from '../clock.ts';
import type { EventMeta, EventSource, LogStore, NewEvent } from '../log/types.ts';
import { BookkeepingTracker, type Bookkeeping } from './bookkeeping.ts';
import type { Committer } from './committer.ts';
import { journalEventData } from './eventCodec.ts';

/** The payload of a snapshot record written by the runtime. */
export interface StoredSnapshot {
  /** XState's persisted snapshot (`actor.getPersistedSnapshot()`). */
  state: unknown;
  bookkeeping: Bookkeeping;
}

const SOURCES = new Set<EventSource>(['poll', 'sse', 'ws', 'webhook', 'child', 'external', 'timer', 'system']);

/** Options of a {@link Journal}. */
export interface JournalOptions {
  store: LogStore;
  committer: Committer;
  clock: Clock;
  streamId: string;
  /** The stream's version before the actor starts (0 for a new actor). */
  version: number;
  bookkeeping?: Bookkeeping;
  /** When the actor's initial state was entered (ms): the time its initial timers count from. */
  startedAt: number;
  /** Save a snapshot every this many events (0: only final ones). */
  snapshotEvery: number;
  /** Called once when a write fails; the actor is then stopped. */
  onFailure(error: ActorlogError): void;
}

/**
 * The write-ahead journal of one root actor (DESIGN.md invariant 1). It observes XState's
 * inspection stream: every `@xstate.event` whose target is the root is appended to the log before
 * XState enqueues it (inspection is synchronous and so is better-sqlite3), with its source
 * (external, timer, child, or the source kind a child declared in `event.meta.source`) and cursor.
 * `@xstate.action` feeds the timer and cursor bookkeeping; `@xstate.snapshot` saves snapshots and
 * the final status. A failed write stops the actor: nothing is processed unlogged.
 */
export class Journal {
  private root?: AnyActorRef;
  /** Journaled events not yet processed, in mailbox (FIFO) order: the same object may be queued twice. */
  private readonly pending: Array<{ event: EventObject; version: number; at: number }> = [];
  private actions: Array<{ type: string; params?: unknown }> = [];
  private readonly tracker: BookkeepingTracker;
  private lastSaved = 0;
  /** The stream version of the last event appended. */
  version: number;
  /** The stream version of the last event the actor has processed (<= version). */
  processed: number;
  failed?: ActorlogError;

  constructor(private readonly options: JournalOptions) {
    this.version = options.version;
    this.processed = options.version;
    this.lastSaved = options.version;
    this.tracker = new BookkeepingTracker(options.bookkeeping);
  }

  /** Binds the journal to its root actor (before `start()`). */
  attach(root: AnyActorRef): void {
    this.root = root;
    this.tracker.selfRef = root;
  }

  /** The inspection observer to pass to `createActor(machine, { inspect })`. */
  readonly inspect = (ev: InspectionEvent): void => {
    if (ev.actorRef !== this.root || this.failed) return;
    if (ev.type === '@xstate.event') this.onEvent(ev.event, ev.sourceRef as AnyActorRef | undefined);
    else if (ev.type === '@xstate.action') this.actions.push(ev.action);
    else if (ev.type === '@xstate.snapshot') this.onSnapshot(ev.event, ev.snapshot as AnyMachineSnapshot);
  };

  private onEvent(event: EventObject, sourceRef: AnyActorRef | undefined): void {
    const root = this.root!;
    if (event.type === 'xstate.init' || root.getSnapshot().status !== 'active') return;
    const { streamId, store, clock } = this.options;
    const wire = (event as { meta?: { source?: EventSource; cursor?: unknown } }).meta;
    let source: EventSource;
    const meta = { recordedAt: clock.now() } as EventMeta;
    if (sourceRef === undefined) source = 'external';
    else if (sourceRef === root) source = 'timer';
    else {
      source = wire?.source && SOURCES.has(wire.source) ? wire.source : 'child';
      meta.actor = sourceRef.id;
    }
    meta.source = source;
    if (wire && typeof wire.cursor === 'string') meta.cursor = wire.cursor;
    let record: NewEvent;
    try {
      record = { type: event.type, data: journalEventData(event), meta }; // redacts the live event too
    } catch (err) {
      this.fail(err); // not JSON-safe (a cycle, a BigInt): stop before processing it unlogged
      return;
    }
    const expected = this.version;
    this.version = expected + 1;
    this.pending.push({ event, version: this.version, at: meta.recordedAt });
    this.tracker.onEvent(record);
    this.options.committer.write(
      () => store.append(streamId, expected, [record]),
      (err) => this.fail(err),
    );
  }

  private onSnapshot(event: EventObject, snapshot: AnyMachineSnapshot): void {
    const actions = this.actions;
    this.actions = [];
    const entry = this.pending[0]?.event === event ? this.pending.shift() : undefined;
    if (entry === undefined) {
      // xstate.init: the actions of the initial state count from the actor's start
      if (event.type === 'xstate.init') this.tracker.onActions(actions, this.options.version, this.options.startedAt);
      return;
    }
    const { version } = entry;
    this.processed = version;
    this.tracker.onActions(actions, version, entry.at);
    const final = snapshot.status !== 'active';
    const every = this.options.snapshotEvery;
    if (final || (every > 0 && version - this.lastSaved >= every)) {
      this.save(version, final ? (snapshot.status === 'done' ? 'done' : 'error') : undefined);
    }
  }

  /** Saves the root's current snapshot, taken after the event at `version` (default: the last processed one), and a status when the actor ended. */
  save(version = this.processed, status?: 'done' | 'error' | 'stopped'): void {
    if (this.failed || !this.root) return;
    const { store, streamId, clock } = this.options;
    const payload: StoredSnapshot = { state: this.root.getPersistedSnapshot(), bookkeeping: this.tracker.toJSON() };
    const at = clock.now();
    this.lastSaved = version;
    this.options.committer.write(
      () => {
        store.saveSnapshot({ streamId, version, snapshot: payload, recordedAt: at });
        if (status) store.setStreamStatus(streamId, status, at);
      },
      (err) => this.fail(err),
    );
  }

  /** Stops the actor because a write failed (each mode: before the transition; tick mode: at commit). */
  fail(err: unknown): void {
    if (this.failed) return;
    const reason = isActorlogError(err, 'APPEND_FAILED') ? err.message : `could not append to stream ${this.options.streamId}: ${(err as Error)?.message ?? err}`;
    this.failed = new ActorlogError('APPEND_FAILED', reason, {
      cause: err,
      details: { streamId: this.options.streamId, version: this.version },
    });
    this.options.onFailure(this.failed);
    const root = this.root as (AnyActorRef & { stop?: () => void }) | undefined;
    root?.stop?.();
  }
}

import { randomUUID } from 'node:crypto';
import { createActor, toObserver, type AnyActorRef, type AnyStateMachine, type InputFrom, type InspectionEvent, type Observer } from 'xstate';
import { ActorlogError, describeError, isActorlogError, type ErrorInfo } from '../errors.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { LogStore, StreamRecord, StreamTail } from '../log/types.ts';
import { causationIdForms } from '../log/causationId.ts';
import { ingressClock } from './ingress.ts';
import { startOwnership, type Ownership } from './ownership.ts';
import { passivationSettings, startPassivation, type PassivationLoop, type PassivationOptions } from './passivation.ts';
import type { Bookkeeping } from './bookkeeping.ts';
import { createGroupCommit, isPromise, type CommitMode } from './groupCommit.ts';
import { Journal } from './journal.ts';
import { asTree, PEER, peerStreamOf, refAt } from './actorTree.ts';
import { Folder, type ImpliedMessage } from './fold.ts';
import { JournaledActor } from './journaledActor.ts';
import { machineHash } from './machineHash.ts';
import { machineDefinition } from './definition.ts';
import { exactEventData, exactInput, invalidEvent } from './eventCodec.ts';
import { NotJson } from './jsonValue.ts';
import { spawnOptions } from './spawnOptions.ts';
import { checkMachineChange, type MachineChangePolicy } from './machineChange.ts';
import { assertStreamId } from '../log/streamId.ts';
import { foldStream } from './recoverStream.ts';

/** The machines a system can run, by the name their streams record. */
export type MachineRegistry = Record<string, AnyStateMachine>;

/**
 * What `spawn` takes for a machine `M`: the stream id, and the input, required when the machine's
 * input type does not admit `undefined`.
 */
export type SpawnOptions<M extends AnyStateMachine> = { id: string } & (undefined extends InputFrom<M>
  ? { input?: InputFrom<M> }
  : {} extends InputFrom<M>
    ? { input?: InputFrom<M> }
    : { input: InputFrom<M> });

/** `M`, or `AnyStateMachine` when `M` is `any` (an `ActorSystem` whose machines are not known). */
export type MachineOf<M> = 0 extends 1 & M ? AnyStateMachine : M extends AnyStateMachine ? M : AnyStateMachine;

/** Options of {@link createActorSystem}. */
export interface ActorSystemOptions<TMachines extends MachineRegistry = MachineRegistry, TStore extends LogStore = LogStore> {
  /** The log. */
  store: TStore;
  /** The machines actors can run, by the name streams record (e.g. `{ job: a2aJobMachine }`). */
  machines: TMachines;
  /** Time source for `recordedAt`, XState's timers and re-armed timers. @default systemClock */
  clock?: Clock;
  /** `each` (default), `tick` or `turn`: how writes are batched, see {@link CommitMode}. Either way an input is committed before the actor acts on it. */
  commit?: CommitMode;
  /**
   * On a store shared by several processes (one with `ownership`, PostgreSQL): how often this node
   * looks for streams whose owner is gone (lease expired) and takes them over, and for messages in
   * the inboxes of its actors (ms). `recover()` starts it. @default 1000
   */
  claimIntervalMs?: number;
  /**
   * Passivation (default off): an actor that has taken no input for `idleMs` and is quiescent (its
   * mailbox empty, every event processed, no invoked promise, callback or observable running: only
   * machines and timers) is written to the log (its snapshot, with its pending timers, and the
   * stream's next due time) and dropped from memory. It wakes, folded from that snapshot, when a
   * message or a `send` comes for it, when `wake(id)` is called, or `checkMs` before its next timer
   * (which then fires at its due time); inputs keep their order and the write-ahead guarantee. After
   * a crash `recover()` loads only the resident streams (and those due), not the sleeping ones. A
   * `JournaledActor` handle of a passivated actor throws `ACTOR_PASSIVATED` on `send`: use
   * `system.send(id, …)` or `system.wake(id)`; `get(id)` returns resident actors only.
   * @throws ActorlogError `INVALID_OPTIONS` (from `createActorSystem`) for an `idleMs` or `checkMs` that is not a finite number >= 0
   * @example
   * ```ts
   * const system = createActorSystem({ store, machines: { session }, passivation: { idleMs: 60_000 } });
   * ```
   */
  passivation?: PassivationOptions;
  /** Save a snapshot every this many events of an actor, to shorten recovery. 0 = final only. @default 100 */
  snapshotEvery?: number;
  /**
   * What `recover()` does with a stream whose registered machine changed since the stream was written
   * (its hash differs): `'verify'` folds the stream with the new machine and compares it with the
   * snapshots kept in the log, and resumes it only if they are equal; `'refuse'` does not resume it;
   * `'accept'` resumes it unverified (a deliberate migration). A resumed stream records the change as
   * an `actorlog.upgraded` event (old hash, new hash). Not resumed: `MACHINE_MISMATCH` in `failed` and
   * to `onError`, naming the first version where the new machine parts from the log. One policy for
   * all machines, or one per registered name (`{ job: 'accept' }`, the others `'verify'`).
   * @default 'verify'
   */
  onMachineChange?: MachineChangePolicy | Partial<Record<keyof TMachines & string, MachineChangePolicy>>;
  /**
   * Told when an actor is stopped because a write failed (code `APPEND_FAILED`), whichever event
   * (external, timer, child) hit it; because its machine threw (code `ACTOR_FAILED`; its stream is
   * then marked `error` and not recovered); because it did something the journal cannot record
   * (`UNSUPPORTED_MACHINE`, `INVALID_CURSOR`); and, from `recover()`, for each stream that could not
   * be resumed (`MACHINE_NOT_REGISTERED`, `MACHINE_MISMATCH`, ...). The actor is already stopped when
   * it is called; if it throws, the error is printed to stderr and nothing else changes.
   * @default prints one line to stderr
   */
  onError?: (actorId: string, error: ActorlogError) => void;
  /**
   * An XState inspection observer (or function) handed to every journaled actor, spawned or
   * recovered, beside the journal: it sees each actor's and each of its children's inspection events
   * (`@xstate.actor`, `@xstate.event`, `@xstate.snapshot`, `@xstate.action`, `@xstate.microstep`),
   * each after the journal has seen it, so an `@xstate.event` is already in the log when it is called.
   * Each journaled actor is the root of its own XState system: `rootId` is that actor's session id.
   * `createBrowserInspector().inspect` and `createWebSocketInspector({ url }).inspect` from
   * `@statelyai/inspect` are such observers. If it throws, the error is printed to stderr (the first
   * time per actor) and the actor goes on: inspection never stops an actor.
   * @example
   * ```ts
   * import { createWebSocketInspector } from '@statelyai/inspect';
   * const inspector = createWebSocketInspector({ url: 'ws://127.0.0.1:8080' });
   * const system = createActorSystem({ store, machines: { job }, inspect: inspector.inspect });
   * // or your own: inspect: (ev) => { if (ev.type === '@xstate.event') console.log(ev.actorRef.id, ev.event.type); }
   * ```
   * @default none: only the journal observes the actors
   */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

/** Streams whose tails recovery reads at once (`LogStore.readTails`): a bound on what it holds in memory besides the actors. */
const TAIL_CHUNK = 1_000;
/** Ids per inboxStreams page in openMailboxes. */
const INBOX_PAGE = 1_000;

/** What {@link ActorSystem.recover} did. */
export interface RecoveryReport {
  /** Actors resumed from the log, running again. */
  recovered: JournaledActor[];
  /** Streams found final in the log (their status is now set) and not resumed. */
  finished: string[];
  /** Streams that could not be resumed, with why (e.g. `MACHINE_NOT_REGISTERED`). */
  failed: Array<{ streamId: string; error: ErrorInfo }>;
}

/**
 * A set of journaled actors on one log. See {@link createActorSystem}. `TMachines` is the registry
 * it was created with: `spawn` takes only its names and returns actors typed by their machine.
 * `ActorSystem` without an argument is any system (for code that takes one whatever its machines).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface ActorSystem<TMachines extends MachineRegistry = any, TStore extends LogStore = LogStore> {
  /** The log, as given to {@link createActorSystem} (typed as given: an embedded store's reads answer at once). */
  readonly store: TStore;
  readonly clock: Clock;
  /**
   * Starts a new actor of the machine registered as `machine`, with a new stream `id`. Its input is
   * recorded in the stream as JSON (the actor starts from that copy, so replay matches it); keep
   * secrets out of it. The returned actor's `send`, `getSnapshot` and `waitFor` are typed by that
   * machine; an unknown name does not compile.
   * @throws ActorlogError `INVALID_OPTIONS` (no `id`, an empty one, an unknown option: nothing is written),
   *   `MACHINE_NOT_REGISTERED`, `STREAM_EXISTS` (the id is in the log: use `recover()`), `ACTOR_EXISTS`,
   *   `INVALID_EVENT` (an input the log cannot keep exactly, `details.path`), `STORE_UNAVAILABLE` (after `close()`)
   * @example
   * ```ts
   * const system = createActorSystem({ store, machines: { counter } });
   * const actor = system.spawn('counter', { id: 'c-1', input: { start: 0 } });
   * actor.send({ type: 'inc' });               // a type error for an event `counter` does not take
   * ```
   */
  spawn<K extends keyof TMachines & string>(machine: K, options: SpawnOptions<MachineOf<TMachines[K]>>): JournaledActor<MachineOf<TMachines[K]>>;
  /** The running actor with this id (name its machine type to get a typed actor: `get<typeof counter>('c-1')`). */
  get<M extends AnyStateMachine = TMachines[keyof TMachines]>(id: string): JournaledActor<M> | undefined;
  /** All running actors. */
  list(): JournaledActor[];
  /**
   * Sends an event to the journaled actor `id` wherever it runs. Running here: as
   * `get(id).send(event)` (appended, then delivered). Not running here (another node owns it, or it
   * is not recovered yet): posted to its inbox; the process that runs it appends it to the stream
   * (source `external`, with the causation id) and delivers it. Resolves once the event, or the inbox
   * message, is committed.
   * @param options.causationId names this send: posting the same id to the same actor twice delivers
   *   it once (default: a random UUID, each call a new send)
   * @throws ActorlogError (as a rejection) `APPEND_FAILED` / `LEASE_LOST` when the write failed;
   *   `ACTOR_STOPPED` when the actor runs here and has ended
   * @example
   * ```ts
   * await system.send('batch-7', { type: 'job.finished', jobId: 'batch-7.job-03', state: 'done' });
   * ```
   */
  send(id: string, event: { type: string; [key: string]: unknown }, options?: { causationId?: string }): Promise<void>;
  /** Stops an actor for good: its snapshot is saved and its stream marked `stopped` (not recovered). */
  stop(id: string): void;
  /**
   * The actor `id`, woken first if it was passivated (folded from its snapshot and started here);
   * undefined when no such active stream exists (or, on a shared store, another node runs it).
   * @example
   * ```ts
   * const session = await system.wake('session-42');
   * ```
   */
  wake<M extends AnyStateMachine = TMachines[keyof TMachines]>(id: string): Promise<JournaledActor<M> | undefined>;
  /**
   * Passivates the actor `id` now if it is quiescent (see {@link ActorSystemOptions.passivation}),
   * whether or not passivation is on; resolves true once its snapshot and passivation are committed,
   * false when it does not run here or is busy.
   */
  passivate(id: string): Promise<boolean>;
  /**
   * Resumes every `active` stream of the log that is not running here: folds its events (from its
   * latest snapshot), restarts it where it stood, restarts live sources from their last cursor and
   * re-arms pending timers with their remaining time (docs/architecture.md invariants 2-5). Every
   * actor is created and wired before any starts, so a message one sends while starting reaches
   * another recovered in the same call. On a shared store (PostgreSQL) it registers this node,
   * takes the streams no live node owns, and from then on keeps its lease and keeps taking orphaned
   * streams every `claimIntervalMs` (continuous recovery), until `close()`.
   */
  recover(): Promise<RecoveryReport>;
  /**
   * Resolves once every write queued so far has committed and every input taken so far has reached
   * its actor. On an embedded store in `each` mode that is already so when `send` returns.
   */
  settled(): Promise<void>;
  /**
   * Saves a snapshot of each actor, stops them all without marking their streams (a later
   * `recover()` resumes them), waits for the pending writes and, on a shared store, gives up this
   * node's streams so another node takes them at once.
   */
  close(): Promise<void>;
}

/**
 * Creates an actor system whose actors journal every event they receive to `store` before acting
 * on it (write-ahead, docs/architecture.md invariant 1).
 *
 * @example
 * ```ts
 * const system = createActorSystem({ store: openSqliteStore('actorlog.db'), machines: { job: a2aJobMachine({ url }) } });
 * system.recover();                                   // resume what a crash left
 * const job = system.spawn('job', { id: 'job-1', input: { jobId: 'job-1', request: { text: 'hello' } } });
 * await job.waitFor((s) => s.status === 'done');
 * ```
 */
export function createActorSystem<const TMachines extends MachineRegistry, TStore extends LogStore = LogStore>(
  options: ActorSystemOptions<TMachines, TStore>,
): ActorSystem<TMachines, TStore> {
  const { store, machines } = options;
  const clock = options.clock ?? systemClock;
  const mode = options.commit ?? 'each';
  if (mode !== 'each' && mode !== 'tick' && mode !== 'turn') {
    throw new ActorlogError('INVALID_OPTIONS', `commit must be 'each', 'tick' or 'turn', not ${JSON.stringify(mode)}`, { details: { option: 'commit' } });
  }
  const commit = createGroupCommit(store, mode);
  const snapshotEvery = options.snapshotEvery ?? 100;
  const actors = new Map<string, JournaledActor>();
  /** The journal of each running root actor, by its XState ref (messages between journaled actors). */
  const journals = new WeakMap<object, Journal>();
  /** Stand-ins for journaled actors that do not run here: a send to one is posted to its inbox. */
  const remotes = new Map<string, object>();
  const report = options.onError ?? ((id: string, err: ActorlogError) => console.error(`actorlog: actor ${id} stopped: ${err.message} (${err.code})`));
  const userInspect = options.inspect === undefined ? undefined : toObserver(options.inspect);
  let ownership: Ownership | undefined;
  let passivation: PassivationLoop | undefined;
  /** Streams recovery could not resume here (claimed on a shared store): released at `close()`. */
  const notResumed = new Set<string>();
  /** Spawned actors waiting for their inbox to be read before they start (a networked store). */
  const starting = new Set<Promise<void>>();
  const passivationOptions = options.passivation === undefined ? undefined : passivationSettings(options.passivation);
  /** Whether a message posted to an actor not running here wakes it at once (it may be asleep). */
  const wakeOnPost = passivationOptions !== undefined || store.ownership === undefined;
  let closed = false;
  const onError = (id: string, err: ActorlogError) => {
    try {
      report(id, err);
    } catch (reportErr) {
      console.error(`actorlog: onError threw while reporting actor ${id} (${err.code}): ${describeError(reportErr).message}`);
    }
  };

  function policyFor(name: string): MachineChangePolicy {
    const policy = options.onMachineChange ?? 'verify';
    return typeof policy === 'string' ? policy : ((policy as Record<string, MachineChangePolicy | undefined>)[name] ?? 'verify');
  }

  function machineFor(name: string, stream?: StreamRecord): AnyStateMachine {
    const machine = machines[name];
    if (!machine) throw new ActorlogError('MACHINE_NOT_REGISTERED', `no machine registered as "${name}"`, { details: { machine: name } });
    if (stream && stream.machine.hash !== machineHash(machine)) {
      throw new ActorlogError(
        'MACHINE_MISMATCH',
        `stream ${stream.streamId} was written by another definition of "${name}" (${stream.machine.hash}, now ${machineHash(machine)})`,
        {
          details: { streamId: stream.streamId, logged: stream.machine.hash, registered: machineHash(machine) },
        },
      );
    }
    return machine;
  }

  /** The stand-in of a journaled actor that does not run here (the fold uses the same kind, see fold.ts). */
  function remoteRef(streamId: string): object {
    let ref = remotes.get(streamId);
    if (!ref) {
      ref = { id: streamId, sessionId: `actorlog-peer:${streamId}`, [PEER]: streamId, send() {}, _send() {}, getSnapshot: () => ({ status: 'active' }) };
      remotes.set(streamId, ref);
    }
    return ref;
  }

  /**
   * Another journaled actor is addressed by its stream id: `sendTo(({ system }) => system.get('b'), …)`;
   * one that does not run here (another node's, not recovered yet, ended) gets a stand-in that posts to its inbox.
   */
  function wire(xsystem: { get(systemId: string): unknown }, id: string): void {
    const get = xsystem.get.bind(xsystem);
    xsystem.get = (systemId: string) =>
      get(systemId) ?? actors.get(systemId)?.ref ?? (typeof systemId === 'string' && systemId !== id ? remoteRef(systemId) : undefined);
  }

  type Init = { input?: unknown; snapshot?: unknown; version: number; bookkeeping?: Bookkeeping; startedAt: number; rearm?: Bookkeeping['timers'] };

  /** Creates and wires an actor (not started): `go()` starts it. */
  function create(name: string, machine: AnyStateMachine, id: string, init: Init): { actor: JournaledActor; go: () => void } {
    if (actors.has(id)) throw new ActorlogError('ACTOR_EXISTS', `actor ${id} is already running`, { details: { streamId: id } });
    const journal = new Journal({
      store,
      commit,
      clock,
      streamId: id,
      version: init.version,
      bookkeeping: init.bookkeeping,
      startedAt: init.startedAt,
      snapshotEvery,
      machineHash: machineHash(machine),
      peerOf: (ref) => {
        const peer = journals.get(rootOf(ref));
        return peer?.asleep ? undefined : peer;
      },
      // a stand-in, or the root of an actor passivated since its ref was taken: posted to its inbox
      remoteOf: (ref) => peerStreamOf(ref) ?? asleepStreamOf(ref),
      posted: (to) => onPosted(to),
      onFailure: (err) => {
        actors.delete(id);
        onError(id, err);
      },
    });
    const actorClock = ingressClock(clock);
    const observe = userInspect ? inspectBoth(id, journal, userInspect) : journal.inspect;
    let wired = false;
    const ref = createActor(machine, {
      id,
      input: init.input,
      snapshot: init.snapshot as never,
      clock: actorClock,
      inspect: (ev: InspectionEvent) => {
        // The first inspection event (`@xstate.actor` of the root) comes before XState computes the
        // initial state, whose entry actions may already address another journaled actor.
        if (!wired) wire((ev.actorRef as AnyActorRef).system, id);
        wired = true;
        observe(ev);
      },
    });
    journal.attach(ref, actorClock);
    journals.set(ref, journal);
    const actor = new JournaledActor(id, name, ref, journal);
    actors.set(id, actor);
    for (const watch of createdSince) watch.add(id);
    ref.subscribe({
      complete: () => actors.delete(id),
      error: (err) => {
        // The machine itself threw (an action, guard or assign): XState errors the actor without a
        // snapshot event and leaves its children running. Record it, report it, stop the children.
        actors.delete(id);
        if (journal.failed) return;
        journal.recordFailure(err);
        journal.save(undefined, 'error');
        onError(id, new ActorlogError('ACTOR_FAILED', `actor ${id} failed: ${describeError(err).message}`, { cause: err, details: { streamId: id } }));
        for (const child of Object.values((ref.getSnapshot() as { children?: Record<string, unknown> }).children ?? {})) {
          (child as { _stop?: () => void })._stop?.();
        }
      },
    });
    const go = () => {
      if (journal.failed) return;
      ref.start();
      if (init.rearm) rearm(journal, ref, init.rearm);
    };
    return { actor, go };
  }

  /** The sets of running recoveries: each collects the ids created here while it holds tails read earlier. */
  const createdSince = new Set<Set<string>>();

  /** Hashes whose definition this system has saved (or found saved): each is written once per system. */
  const definitionsSaved = new Set<string>();

  /** The journal's observer first (write-ahead), then the application's, whose errors never reach the actor. */
  function inspectBoth(id: string, journal: Journal, user: Observer<InspectionEvent>): (ev: InspectionEvent) => void {
    let reported = false;
    return (ev) => {
      journal.inspect(ev);
      try {
        user.next?.(ev);
      } catch (err) {
        if (!reported) console.error(`actorlog: the inspect observer threw on actor ${id} (${ev.type}): ${describeError(err).message}`);
        reported = true;
      }
    };
  }

  /**
   * Re-arms the timers a recovered actor had pending, with their remaining time, in due order. Only
   * those still pending after `start()` are armed: a child that reported at start may have made the
   * actor leave the state that owned one (and XState keys them by owner and send id, as we do).
   */
  function rearm(journal: Journal, ref: AnyActorRef, timers: Bookkeeping['timers']): void {
    const pending = new Set(journal.tracker.state.timers);
    const tree = asTree(ref);
    for (const timer of [...timers].sort((a, b) => a.dueAt - b.dueAt)) {
      if (!pending.has(timer)) continue;
      const owner = refAt(tree, timer.owner);
      const target = refAt(tree, timer.target);
      if (!owner || !target) continue;
      ref.system.scheduler.schedule(owner as never, target as never, timer.event, Math.max(0, timer.dueAt - clock.now()), timer.id);
    }
  }

  /**
   * Delivers, once, the messages to other journaled actors that a recovered stream's log implies
   * but whose receiver did not log (the process died between the two appends): each is looked up
   * by its causation id in the receiver's stream, after the sender's event that caused it; a
   * receiver that does not run here gets it in its inbox (posting is idempotent by causation id).
   */
  async function redeliver(messages: ImpliedMessage[]): Promise<void> {
    // What each receiver holds already, read once per receiver (not once per message: issue 15 item 14):
    // the causation ids of its events after the earliest cause, and of its inbox (delivered from there).
    const earliest = new Map<string, number>();
    for (const m of messages) earliest.set(m.to, Math.min(m.after, earliest.get(m.to) ?? m.after));
    const held = new Map<string, Set<string>>();
    for (const [to, after] of earliest) {
      const ids = new Set<string>();
      for (const r of await store.readAll({ after, streamId: to })) if (r.streamId === to && r.meta.causationId !== undefined) ids.add(r.meta.causationId);
      for (const m of await store.readInbox(to)) ids.add(m.causationId);
      held.set(to, ids);
    }
    for (const message of messages) {
      const ids = held.get(message.to)!;
      if (causationIdForms(message.causationId).some((form) => ids.has(form))) continue;
      const from = message.from;
      const receiver = actors.get(message.to);
      if (receiver && !receiver.journal.failed) {
        receiver.journal.expect(message.event, { source: 'actor', actor: from, causationId: message.causationId });
        receiver.ref.send(message.event);
        continue;
      }
      const { type, ...data } = message.event;
      commit.enqueue({
        messages: [{ streamId: message.to, causationId: message.causationId, type, data, from, postedAt: clock.now() }],
        failed: (err) => onError(message.to, asActorlogError(err, message.to)),
      });
    }
  }

  /** The stream id of `ref` when it is the root of a passivated actor (a send to it goes to its inbox). */
  function asleepStreamOf(ref: unknown): string | undefined {
    const journal = journals.get(ref as object);
    return journal?.asleep ? journal.streamId : undefined;
  }

  /** Wakes those of `ids` that do not run here and are passivated: folded from their snapshot and started. */
  async function wakeIds(ids: readonly string[]): Promise<void> {
    const away = ids.filter((id) => !actors.has(id));
    if (away.length === 0 || closed) return;
    const records = await store.activate(away);
    if (records.length > 0) await recoverStreams(records, false);
  }

  /** A message was posted to `to`'s inbox: it may be asleep. */
  function onPosted(to: string): void {
    // running here (a ref kept from before it slept, a stand-in): read now, else it waits for the next recover()
    if (actors.has(to)) deliverInbox([to]).catch((err: unknown) => onError(to, asActorlogError(err, to)));
    else if (wakeOnPost) wakeIds([to]).catch((err: unknown) => onError(to, asActorlogError(err, to)));
  }

  /**
   * Wakes the passivated actors whose next timer is due by `at` (ms), a hundred at a time, at most
   * {@link WAKE_PER_ROUND} a round: a mass of timers due at once (after a long outage) is taken in
   * steps, not loaded at once.
   */
  async function wakeDue(at: number): Promise<void> {
    for (let woken = 0; woken < WAKE_PER_ROUND;) {
      if (closed) return;
      const due = await store.activateDue(at, 100);
      if (due.length > 0) await recoverStreams(due, false);
      woken += due.length;
      if (due.length < 100) return;
    }
  }

  /** Passivates `actor` if it is quiescent; its snapshot and passivation are committed in order with its writes. */
  function passivateActor(actor: JournaledActor): Promise<boolean> | undefined {
    const write = actor.journal.passivate();
    if (!write) return undefined;
    actors.delete(actor.id);
    return new Promise<boolean>((resolve) =>
      commit.enqueue({
        ...write,
        committed: () => resolve(true),
        failed: (err) => {
          // not passivated: the stream is still resident in the log, so it is resumed from there
          onError(actor.id, asActorlogError(err, actor.id));
          void (async () => {
            const stream = closed ? undefined : await store.getStream(actor.id);
            if (stream?.status === 'active' && !actors.has(actor.id)) await recoverStreams([stream], false);
          })()
            .catch((e: unknown) => onError(actor.id, asActorlogError(e, actor.id)))
            .finally(() => resolve(false));
        },
      }),
    );
  }

  /**
   * Opens the mailboxes of actors just created here (spawned or recovered; see `Journal.openInbox`):
   * their inbox is read first, so what a sender posted while they ran nowhere, or on another node,
   * goes before what it now sends them directly. With `running`, the inboxes of the actors already
   * running here are read as well, before the recovered ones start: what a recovered sender posted
   * from its old node goes before what it sends from here. A failed read is reported; the messages
   * stay in the inbox for the next round of the ownership loop.
   */
  async function openMailboxes(opened: readonly JournaledActor[], running: boolean): Promise<void> {
    try {
      // what this process posted before these actors ran here commits first (writes commit in order)
      if (store.ownership) await commit.commit({}).catch(() => {});
      // Many actors at once (a recovery): one query finds which of them have mail, instead of one read each.
      const list = running || opened.length > 16 ? await store.inboxStreams(INBOX_PAGE) : undefined;
      // a full page may leave out some of the opened actors' ids: then each is read (as for a few)
      const mailed = list && list.length < INBOX_PAGE ? new Set(list) : undefined;
      const ids = new Set(mailed ? opened.map((a) => a.id).filter((id) => mailed.has(id)) : opened.map((a) => a.id));
      if (running) for (const id of list!) ids.add(id);
      await deliverInbox([...ids]);
    } catch (err) {
      const error = asActorlogError(err, opened[0]?.id ?? '');
      console.error(`actorlog: could not read the inbox of ${opened.map((a) => a.id).join(', ')} (${error.code}): ${error.message}`);
    } finally {
      for (const actor of opened) actor.journal.openInbox();
    }
  }

  /** Appends the inbox messages of running actors (of `ids`, or of every stream with mail) and delivers them. */
  async function deliverInbox(ids?: readonly string[]): Promise<void> {
    if (ids === undefined) {
      // every stream with mail: those asleep wake here (their inbox is read as they start)
      const mailed = await store.inboxStreams();
      // those running here already are read below; those woken read theirs as they start
      ids = mailed.filter((id) => actors.has(id));
      await wakeIds(mailed);
    }
    for (const id of ids) {
      const actor = actors.get(id);
      if (!actor || actor.journal.failed) continue;
      const messages = await store.readInbox(id);
      if (messages.length > 0) actors.get(id)?.journal.receiveInbox(messages);
    }
  }

  /**
   * Reads the latest snapshot and the events after it of those of `streams` not running here, in a
   * few reads for all (instead of two per stream), into `tails` (emptied first). A failed read
   * leaves `tails` empty: each stream is then read on its own as it is folded (and a failure there
   * is that stream's).
   */
  async function readTails(streams: readonly StreamRecord[], tails: Map<string, StreamTail>): Promise<void> {
    tails.clear();
    const ids = streams.filter((s) => !actors.has(s.streamId) && typeof s.streamId === 'string' && s.streamId !== '').map((s) => s.streamId);
    try {
      for (const tail of await store.readTails(ids)) tails.set(tail.streamId, tail);
    } catch (err) {
      tails.clear();
      const error = describeError(err);
      console.error(`actorlog: could not read the tails of ${ids.length} streams at once (${error.code ?? error.name}: ${error.message}); reading each`);
    }
  }

  /** Folds and resumes `streams`: all are created and wired first, then started. */
  async function recoverStreams(streams: readonly StreamRecord[], readRunning = true): Promise<RecoveryReport> {
    const result: RecoveryReport = { recovered: [], finished: [], failed: [] };
    const outbox: ImpliedMessage[] = [];
    const ready: Array<() => void> = [];
    const folders = new Map<AnyStateMachine, Folder>(); // one per machine: making one costs more than a short fold
    const tails = new Map<string, StreamTail>();
    // the streams created here since their tails were read (by another recovery meanwhile): read again
    const created = new Set<string>();
    createdSince.add(created);
    for (const [index, stream] of streams.entries()) {
      if (index % TAIL_CHUNK === 0) {
        await readTails(streams.slice(index, index + TAIL_CHUNK), tails);
        created.clear();
      }
      if (created.has(stream.streamId)) tails.delete(stream.streamId);
      if (actors.has(stream.streamId)) continue;
      try {
        assertStreamId(stream.streamId, 'recover'); // a NULL id an older version let through: not resumed
        const machine = machineFor(stream.machine.name);
        const at = clock.now();
        const upgrade = await checkMachineChange(store, stream, machine, policyFor(stream.machine.name), at, tails.get(stream.streamId));
        // a stream of a log written before definitions were kept (or whose machine changed) gets its definition now
        const hash = machineHash(machine);
        const definitions = definitionsSaved.has(hash) ? [] : [{ hash, name: stream.machine.name, definition: machineDefinition(machine), recordedAt: at }];
        definitionsSaved.add(hash);
        if (definitions.length > 0) commit.enqueue({ definitions, failed: () => definitionsSaved.delete(hash) });
        let folder = folders.get(machine);
        if (!folder) folders.set(machine, (folder = new Folder(machine)));
        const folded = await foldStream(store, machine, stream, folder, tails.get(stream.streamId));
        if (actors.has(stream.streamId)) continue;
        if (folded.tail.length > 0) {
          // what the tree derived from its last input, lost in a crash between two commits: appended now, as live
          const appends = [{ streamId: stream.streamId, expectedVersion: folded.version - folded.tail.length, events: folded.tail }];
          await commit.commit({ appends });
        }
        if (upgrade) {
          // the stream goes on with the changed machine from here: the log says so
          await commit.commit({
            appends: [{ streamId: stream.streamId, expectedVersion: folded.version, events: [upgrade] }],
          });
          folded.version += 1;
        }
        if (folded.status === 'error' && !folded.failureLogged) throw foldFailed(stream.streamId, folded);
        if (folded.status !== 'active') {
          // The process died between the final event and its snapshot: write what the fold shows.
          const snapshot = {
            streamId: stream.streamId,
            version: folded.version,
            snapshot: { state: folded.persisted, bookkeeping: folded.bookkeeping, machineHash: hash },
            recordedAt: at,
          };
          await commit.commit({
            snapshots: [snapshot],
            statuses: [{ streamId: stream.streamId, status: folded.status === 'done' ? 'done' : 'error', at }],
          });
          result.finished.push(stream.streamId);
          continue;
        }
        const { actor, go } = create(stream.machine.name, machine, stream.streamId, {
          input: stream.input,
          snapshot: folded.persisted,
          version: folded.version,
          bookkeeping: folded.bookkeeping,
          startedAt: stream.createdAt,
          rearm: folded.bookkeeping.timers,
        });
        ready.push(go);
        outbox.push(...folded.outbox);
        result.recovered.push(actor);
      } catch (err) {
        result.failed.push({ streamId: stream.streamId, error: describeError(err) });
        notResumed.add(stream.streamId);
        onError(stream.streamId, asActorlogError(err, stream.streamId));
      }
    }
    // What reached these actors while they were down (their inboxes) and what their logs imply they
    // sent (the outbox) goes into the mailboxes first: everything they receive or send once started
    // queues behind it, so messages keep the order they were sent in.
    createdSince.delete(created);
    await openMailboxes(result.recovered, readRunning);
    await redeliver(outbox);
    for (const go of ready) go();
    return result;
  }

  const system: ActorSystem<TMachines, TStore> = {
    store,
    clock,
    spawn(name, options) {
      const { id, input } = spawnOptions(name, options);
      if (closed) throw new ActorlogError('STORE_UNAVAILABLE', `the actor system is closed: cannot spawn ${id}`, { details: { streamId: id } });
      const machine = machineFor(name);
      if (actors.has(id)) throw new ActorlogError('ACTOR_EXISTS', `actor ${id} is already running`, { details: { streamId: id } });
      const createdAt = clock.now();
      // The actor starts from exactly the input the log keeps (its JSON copy), so replay and recovery match it.
      const logged = exactInput(input, id) as typeof input;
      const hash = machineHash(machine);
      const { actor, go } = create(name, machine, id, { input: logged ?? undefined, version: 0, startedAt: createdAt });
      let refused: unknown;
      let sync = true;
      // The definition goes with the stream (same transaction), so tools draw its statechart from the log alone;
      // the actor starts once its stream is committed. (Queued once: the spawns of a batch share it.)
      const withDefinition = !definitionsSaved.has(hash);
      definitionsSaved.add(hash);
      commit.enqueue({
        definitions: withDefinition ? [{ hash, name, definition: machineDefinition(machine), recordedAt: createdAt }] : undefined,
        streams: [{ streamId: id, machine: { name, hash }, input: logged, createdAt }],
        committed: () => {
          definitionsSaved.add(hash);
          // Messages sent to this id before it existed wait in its inbox (system.send, sendTo a
          // stand-in): they go into its mailbox first, then it starts (as a recovered actor does).
          let inbox: ReturnType<typeof store.readInbox> | undefined;
          try {
            inbox = store.ownership ? undefined : store.readInbox(id);
          } catch {
            inbox = undefined; // read again, and reported, below
          }
          if (inbox === undefined || isPromise(inbox)) {
            const opening = openMailboxes([actor], false).then(() => {
              if (actors.get(id) === actor) go();
            });
            starting.add(opening);
            void opening.finally(() => starting.delete(opening));
          } else {
            // an embedded store answers at once: the actor starts in this call
            actor.journal.receiveInbox(inbox);
            actor.journal.openInbox();
            go();
          }
        },
        failed: (err) => {
          if (withDefinition) definitionsSaved.delete(hash); // the next spawn writes it
          refused = err;
          actors.delete(id);
          if (!sync) onError(id, asActorlogError(err, id));
        },
      });
      sync = false;
      if (refused !== undefined) throw refused;
      return actor as never;
    },
    get: (id) => actors.get(id) as never,
    list: () => [...actors.values()],
    async send(id, event, sendOptions) {
      const local = actors.get(id);
      if (local) {
        local.send(event as never);
        await local.journal.idle();
        if (local.journal.failed) throw local.journal.failed;
        return;
      }
      let data: unknown;
      try {
        data = exactEventData(event);
      } catch (err) {
        throw err instanceof NotJson ? invalidEvent(err, { streamId: id, event: event.type }, `event ${event.type} to actor ${id}`) : err;
      }
      const { type } = event;
      const causationId = sendOptions?.causationId ?? randomUUID();
      await commit.commit({ messages: [{ streamId: id, causationId, type, data, from: '', postedAt: clock.now() }] });
      // it may be asleep (passivated): it wakes and takes the message from its inbox
      if (wakeOnPost) await wakeIds([id]);
    },
    async wake(id) {
      const running = actors.get(id);
      if (running) return running as never;
      await wakeIds([id]);
      return actors.get(id) as never;
    },
    async passivate(id) {
      const actor = actors.get(id);
      if (!actor) return false;
      await actor.journal.idle();
      return actors.get(id) === actor ? ((await passivateActor(actor)) ?? false) : false;
    },
    stop(id) {
      const actor = actors.get(id);
      if (!actor) return;
      actor.journal.saveIfSettled('stopped');
      actors.delete(id);
      actor.ref.stop();
    },
    async recover() {
      if (store.ownership) {
        ownership ??= await startOwnership(store.ownership, {
          clock,
          intervalMs: options.claimIntervalMs ?? 1000,
          recover: (streams) => recoverStreams(streams),
          deliverInbox: async () => {
            await deliverInbox();
            await wakeDue(clock.now() + (passivation?.checkMs ?? options.claimIntervalMs ?? 1000));
          },
          lost: () => {
            // This node's lease is gone: its actors go on at the nodes that claim them.
            for (const actor of actors.values()) {
              actors.delete(actor.id);
              actor.journal.fail(
                new ActorlogError('LEASE_LOST', `node lease lost: actor ${actor.id} goes on at the node that claims it`, { details: { streamId: actor.id } }),
              );
            }
          },
        });
        return ownership.claimNow();
      }
      // Only resident streams are loaded: the passivated ones sleep on (the passivation loop wakes those
      // due, a bounded number a round). Without passivation on, nothing would wake them by their
      // timers: all are woken.
      const resident = await store.listStreams({ status: ['active'], passivated: false });
      const sleeping = passivation ? [] : await store.activate((await store.listStreams({ status: ['active'], passivated: true })).map((r) => r.streamId));
      return recoverStreams([...resident, ...sleeping]);
    },
    settled: async () => {
      for (;;) {
        await commit.drain();
        if (starting.size > 0) {
          await Promise.all(starting);
          continue;
        }
        const busy = [...actors.values()].filter((a) => a.journal.backlog > 0);
        if (busy.length === 0) return;
        await Promise.all(busy.map((a) => a.journal.idle()));
      }
    },
    async close() {
      closed = true;
      await passivation?.stop();
      // what was sent before close() is appended and delivered first (on a networked store an input
      // may still wait for its commit, or a new actor for its inbox): nothing taken is dropped
      while (starting.size > 0) await Promise.all(starting);
      await Promise.all([...actors.values()].map((a) => a.journal.idle()));
      const running = [...actors.values()];
      for (const actor of running) actor.journal.saveIfSettled();
      actors.clear();
      for (const actor of running) actor.ref.stop();
      await commit.drain();
      // the streams this node claimed but could not resume are given up too: a node deployed with
      // another machine (or policy) takes them at once, not after this node's lease
      await ownership?.stop([...running.map((a) => a.id), ...notResumed]);
    },
  };
  if (passivationOptions) {
    passivation = startPassivation(passivationOptions, {
      clock,
      passivateIdle: (idleBefore) => {
        for (const actor of actors.values()) if (actor.journal.lastActiveAt <= idleBefore) void passivateActor(actor);
      },
      wakeDue,
    });
  }
  return system;
}

/** Passivated actors woken for their timers per round of the passivation (or ownership) loop, at most. */
const WAKE_PER_ROUND = 1000;

/** The root of the XState tree `ref` belongs to (`ref` itself for a root, or for what is not an actor). */
function rootOf(ref: unknown): object {
  let at = ref as { _parent?: unknown };
  while (at?._parent) at = at._parent as { _parent?: unknown };
  return at as object;
}

/**
 * The fold of a stream ended in error where the log records no failure of the actor: the fold's own
 * error (it could not run the machine as the live actor did), never the actor's, so the stream is not
 * marked final; it stays `active` and `recover()` lists it in `failed`.
 */
function foldFailed(streamId: string, folded: { version: number; persisted: unknown }): ActorlogError {
  const error = describeError((folded.persisted as { error?: unknown } | undefined)?.error);
  return new ActorlogError(
    'REPLAY_MISMATCH',
    `stream ${streamId}: folding its log ends in error at version ${folded.version} (${error.message}), a failure the log does not record: not resumed, the stream stays active`,
    {
      details: { streamId, version: folded.version, error },
    },
  );
}

function asActorlogError(err: unknown, streamId: string): ActorlogError {
  return isActorlogError(err)
    ? err
    : new ActorlogError('ACTOR_FAILED', `cannot recover stream ${streamId}: ${describeError(err).message}`, { cause: err, details: { streamId } });
}

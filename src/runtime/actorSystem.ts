import { createActor, type AnyStateMachine, type InputFrom } from 'xstate';
import { ActorlogError, describeError, type ErrorInfo } from '../errors.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { LogStore, StreamRecord } from '../log/types.ts';
import type { Bookkeeping } from './bookkeeping.ts';
import { createCommitter, type CommitMode } from './committer.ts';
import { Journal } from './journal.ts';
import { JournaledActor } from './journaledActor.ts';
import { machineHash } from './machineInfo.ts';
import { redactSecrets } from './redact.ts';
import { foldStream } from './recoverStream.ts';

/** Options of {@link createActorSystem}. */
export interface ActorSystemOptions {
  /** The log. */
  store: LogStore;
  /** The machines actors can run, by the name streams record (e.g. `{ job: a2aJobMachine }`). */
  machines: Record<string, AnyStateMachine>;
  /** Time source for `recordedAt`, XState's timers and re-armed timers. @default systemClock */
  clock?: Clock;
  /** `each` (default): one transaction per event; `tick`: group commit, see {@link CommitMode}. */
  commit?: CommitMode;
  /** Save a snapshot every this many events of an actor, to shorten recovery. 0 = final only. @default 100 */
  snapshotEvery?: number;
  /**
   * Told when an actor is stopped because a write failed (code `APPEND_FAILED`), whichever event
   * (external, timer, child) hit it, or because its machine threw (code `ACTOR_FAILED`; its stream
   * is then marked `error` and not recovered). @default prints one line to stderr
   */
  onError?: (actorId: string, error: ActorlogError) => void;
}

/** What {@link ActorSystem.recover} did. */
export interface RecoveryReport {
  /** Actors resumed from the log, running again. */
  recovered: JournaledActor[];
  /** Streams found final in the log (their status is now set) and not resumed. */
  finished: string[];
  /** Streams that could not be resumed, with why (e.g. `MACHINE_NOT_REGISTERED`). */
  failed: Array<{ streamId: string; error: ErrorInfo }>;
}

/** A set of journaled actors on one log. See {@link createActorSystem}. */
export interface ActorSystem {
  readonly store: LogStore;
  readonly clock: Clock;
  /**
   * Starts a new actor of a registered machine, with a new stream `id`. Its input is recorded in
   * the stream (secrets redacted).
   * @throws `MACHINE_NOT_REGISTERED`, `STREAM_EXISTS` (the id is in the log: use `recover()`), `ACTOR_EXISTS`
   */
  spawn<M extends AnyStateMachine = AnyStateMachine>(machine: string, options: { id: string; input?: InputFrom<M> }): JournaledActor<M>;
  /** The running actor with this id. */
  get<M extends AnyStateMachine = AnyStateMachine>(id: string): JournaledActor<M> | undefined;
  /** All running actors. */
  list(): JournaledActor[];
  /** Stops an actor for good: its snapshot is saved and its stream marked `stopped` (not recovered). */
  stop(id: string): void;
  /**
   * Resumes every `active` stream of the log that is not running here: folds its events (from its
   * latest snapshot), restarts it where it stood, restarts live sources from their last cursor and
   * re-arms pending timers with their remaining time (DESIGN.md invariants 2-5).
   */
  recover(): RecoveryReport;
  /** Commits pending writes, saves a snapshot of each actor and stops them all without marking their streams: a later `recover()` resumes them. */
  close(): void;
}

/**
 * Creates an actor system whose actors journal every event they receive to `store` before acting
 * on it (write-ahead, DESIGN.md invariant 1).
 *
 * @example
 * ```ts
 * const system = createActorSystem({ store: openSqliteStore('actorlog.db'), machines: { job: a2aJobMachine({ url }) } });
 * system.recover();                                   // resume what a crash left
 * const job = system.spawn('job', { id: 'job-1', input: { jobId: 'job-1', request: { text: 'hello' } } });
 * await job.waitFor((s) => s.status === 'done');
 * ```
 */
export function createActorSystem(options: ActorSystemOptions): ActorSystem {
  const { store, machines } = options;
  const clock = options.clock ?? systemClock;
  const committer = createCommitter(store, options.commit ?? 'each');
  const snapshotEvery = options.snapshotEvery ?? 100;
  const actors = new Map<string, JournaledActor>();
  const onError = options.onError ?? ((id: string, err: ActorlogError) => console.error(`actorlog: actor ${id} stopped: ${err.message} (${err.code})`));

  function machineFor(name: string, stream?: StreamRecord): AnyStateMachine {
    const machine = machines[name];
    if (!machine) throw new ActorlogError('MACHINE_NOT_REGISTERED', `no machine registered as "${name}"`, { details: { machine: name } });
    if (stream && stream.machine.hash !== machineHash(machine)) {
      throw new ActorlogError('MACHINE_MISMATCH', `stream ${stream.streamId} was written by another definition of "${name}" (${stream.machine.hash}, now ${machineHash(machine)})`, {
        details: { streamId: stream.streamId, logged: stream.machine.hash, registered: machineHash(machine) },
      });
    }
    return machine;
  }

  function start(name: string, machine: AnyStateMachine, id: string, init: { input?: unknown; snapshot?: unknown; version: number; bookkeeping?: Bookkeeping; startedAt: number }): JournaledActor {
    if (actors.has(id)) throw new ActorlogError('ACTOR_EXISTS', `actor ${id} is already running`, { details: { streamId: id } });
    const journal = new Journal({
      store, committer, clock, streamId: id, version: init.version, bookkeeping: init.bookkeeping, startedAt: init.startedAt, snapshotEvery,
      onFailure: (err) => onError(id, err),
    });
    const ref = createActor(machine, { id, input: init.input, snapshot: init.snapshot as never, clock, inspect: journal.inspect });
    journal.attach(ref);
    const actor = new JournaledActor(id, name, ref, journal);
    actors.set(id, actor);
    ref.subscribe({
      complete: () => actors.delete(id),
      error: (err) => {
        // The machine itself threw (an action, guard or assign): XState errors the actor without a
        // snapshot event and leaves its children running. Record it, report it, stop the children.
        actors.delete(id);
        if (journal.failed) return;
        journal.save(undefined, 'error');
        committer.flush();
        onError(id, new ActorlogError('ACTOR_FAILED', `actor ${id} failed: ${describeError(err).message}`, { cause: err, details: { streamId: id } }));
        for (const child of Object.values((ref.getSnapshot() as { children?: Record<string, unknown> }).children ?? {})) {
          (child as { _stop?: () => void })._stop?.();
        }
      },
    });
    ref.start();
    return actor;
  }

  const system: ActorSystem = {
    store,
    clock,
    spawn(name, { id, input }) {
      const machine = machineFor(name);
      if (actors.has(id)) throw new ActorlogError('ACTOR_EXISTS', `actor ${id} is already running`, { details: { streamId: id } });
      const createdAt = clock.now();
      // The actor starts from exactly the input the log keeps (secrets redacted), so replay and recovery match it.
      const logged = redactSecrets(input ?? null);
      store.createStream({ streamId: id, machine: { name, hash: machineHash(machine) }, input: logged, createdAt });
      return start(name, machine, id, { input: logged ?? undefined, version: 0, startedAt: createdAt }) as never;
    },
    get: (id) => actors.get(id) as never,
    list: () => [...actors.values()],
    stop(id) {
      const actor = actors.get(id);
      if (!actor) return;
      actor.journal.save(undefined, 'stopped');
      committer.flush();
      actors.delete(id);
      actor.ref.stop();
    },
    recover() {
      const report: RecoveryReport = { recovered: [], finished: [], failed: [] };
      for (const stream of store.listStreams({ status: ['active'] })) {
        if (actors.has(stream.streamId)) continue;
        try {
          const machine = machineFor(stream.machine.name, stream);
          const folded = foldStream(store, machine, stream);
          if (folded.status !== 'active') {
            // The process died between the final event and its snapshot: write what the fold shows.
            const at = clock.now();
            store.transaction(() => {
              store.saveSnapshot({ streamId: stream.streamId, version: folded.version, snapshot: { state: folded.persisted, bookkeeping: folded.bookkeeping }, recordedAt: at });
              store.setStreamStatus(stream.streamId, folded.status === 'done' ? 'done' : 'error', at);
            });
            report.finished.push(stream.streamId);
            continue;
          }
          const actor = start(stream.machine.name, machine, stream.streamId, {
            input: stream.input, snapshot: folded.persisted, version: folded.version, bookkeeping: folded.bookkeeping, startedAt: stream.createdAt,
          });
          for (const timer of [...folded.bookkeeping.timers].sort((a, b) => a.dueAt - b.dueAt)) {
            actor.ref.system.scheduler.schedule(actor.ref, actor.ref, timer.event, Math.max(0, timer.dueAt - clock.now()), timer.id);
          }
          report.recovered.push(actor);
        } catch (err) {
          report.failed.push({ streamId: stream.streamId, error: describeError(err) });
        }
      }
      return report;
    },
    close() {
      const running = [...actors.values()];
      for (const actor of running) actor.journal.save();
      committer.flush();
      actors.clear();
      for (const actor of running) actor.ref.stop();
    },
  };
  return system;
}

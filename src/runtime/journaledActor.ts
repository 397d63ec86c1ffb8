import { waitFor, type Actor, type AnyStateMachine, type EventFrom, type SnapshotFrom, type Subscription } from 'xstate';
import { ActorlogError } from '../errors.ts';
import type { Journal } from './journal.ts';

/**
 * A running actor whose events are journaled. `ref` is the XState actor itself (use it with
 * `@statelyai/inspect`, `waitFor`, selectors); `send` goes through the journal first.
 */
export class JournaledActor<TMachine extends AnyStateMachine = AnyStateMachine> {
  /** @internal */
  constructor(
    /** The actor's id: its stream id in the log. */
    readonly id: string,
    /** The registered machine name. */
    readonly machineName: string,
    /** The running XState actor. */
    readonly ref: Actor<TMachine>,
    /** @internal */
    readonly journal: Journal,
  ) {}

  /** The stream version of the last event appended for this actor. */
  get version(): number {
    return this.journal.version;
  }

  /** The write failure that stopped this actor (code `APPEND_FAILED`), if any. */
  get error(): ActorlogError | undefined {
    return this.journal.failed;
  }

  /**
   * Sends an event: it is appended to the log, then the actor transitions.
   *
   * The append is committed before the transition, whatever the commit mode. With `commit: 'each'`
   * (the default) on an embedded store it commits within this call; with `'tick'` or `'turn'` (or on
   * PostgreSQL) it commits later, with other writes: a failed commit then stops the actor (a later
   * `recover()` resumes it from the log) and reaches `onError`, not this call.
   * @throws ActorlogError `ACTOR_STOPPED` when the actor no longer runs; `ACTOR_PASSIVATED` when it was
   *   passivated (see `ActorSystemOptions.passivation`: send through `system.send` instead); `APPEND_FAILED` when the
   * append failed in `each` mode (the actor is then stopped and the event was not processed);
   * `UNSUPPORTED_MACHINE` or `INVALID_CURSOR` when processing the event made the actor do what the
   * journal cannot record (it is then stopped).
   * @example
   * ```ts
   * try { job.send({ type: 'job.cancel' }); }
   * catch (err) { if (isActorlogError(err, 'ACTOR_STOPPED')) console.log('already ended'); else throw err; }
   * ```
   */
  send(event: EventFrom<TMachine>): void {
    if (this.journal.failed) throw this.journal.failed;
    if (this.journal.asleep) {
      throw new ActorlogError(
        'ACTOR_PASSIVATED',
        `actor ${this.id} was passivated: send with system.send('${this.id}', …), or take a new handle from system.wake('${this.id}')`,
        {
          details: { streamId: this.id, event: (event as { type: string }).type },
        },
      );
    }
    const status = (this.ref.getSnapshot() as { status: string }).status;
    if (status !== 'active') {
      throw new ActorlogError('ACTOR_STOPPED', `actor ${this.id} is ${status} and takes no events`, {
        details: { streamId: this.id, event: (event as { type: string }).type },
      });
    }
    this.ref.send(event);
    if (this.journal.failed) throw this.journal.failed;
  }

  getSnapshot(): SnapshotFrom<TMachine> {
    return this.ref.getSnapshot();
  }

  subscribe(observer: (snapshot: SnapshotFrom<TMachine>) => void): Subscription {
    return this.ref.subscribe(observer);
  }

  /**
   * Resolves with the first snapshot for which `predicate` holds (checked on the current one first).
   * @param options.timeoutMs how long to wait (ms), default Infinity.
   * @param options.signal ends the wait when aborted.
   * @throws ActorlogError `TIMEOUT` after `timeoutMs`, `ABORTED` when `signal` aborts, `ACTOR_STOPPED`
   *   when the actor ends (or fails) without the predicate holding.
   */
  async waitFor(
    predicate: (snapshot: SnapshotFrom<TMachine>) => boolean,
    options?: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<SnapshotFrom<TMachine>> {
    try {
      return await waitFor(this.ref, predicate, { timeout: options?.timeoutMs ?? Infinity, signal: options?.signal });
    } catch (err) {
      const details = { streamId: this.id };
      if (options?.signal?.aborted) throw new ActorlogError('ABORTED', `waiting for actor ${this.id} was aborted`, { cause: err, details });
      // XState's waitFor (xstate/src/waitFor.ts) rejects a timeout with this message and no code.
      if (/^Timeout of \d+ ms exceeded/.test((err as Error)?.message ?? '')) {
        throw new ActorlogError('TIMEOUT', `actor ${this.id} did not reach the state within ${options?.timeoutMs} ms`, { cause: err, details });
      }
      throw new ActorlogError('ACTOR_STOPPED', `actor ${this.id} ended before reaching the state`, { cause: err, details });
    }
  }
}

import type { AnyActorRef, EventObject } from 'xstate';
import type { Clock } from '../clock.ts';

/** A delayed event that has just fired: the actor that scheduled it and XState's send id (if it had one). */
export interface FiredTimer {
  owner: AnyActorRef;
  id: string | undefined;
}

/**
 * Decides about one event XState is about to relay in a journaled actor's system: `true` when the
 * journal took it (it will relay it itself, once appended), `false` to let XState relay it now.
 */
export type Admit = (source: AnyActorRef | undefined, target: AnyActorRef, event: EventObject, timer: FiredTimer | undefined) => boolean;

/** The gate installed in front of one XState system. */
export interface Ingress {
  /** XState's own relay: delivers `event` to `target` now (its `@xstate.event` inspection, then the target's mailbox). */
  relay(source: AnyActorRef | undefined, target: AnyActorRef, event: EventObject): void;
  /**
   * Puts the gate in front of `ref`'s own mailbox (`_send`) too: an actor of another XState system
   * (a plain `createActor`, or another journaled tree) delivers through its own system's relay,
   * straight into `ref._send`. Such a delivery is asked about as coming from {@link FOREIGN}.
   */
  guard(ref: AnyActorRef): void;
}

/** The source `admit` is given for an event another XState system delivered straight to an actor's mailbox. */
export const FOREIGN = Object.freeze({ id: '(another XState system)' }) as unknown as AnyActorRef;

interface XStateSystem {
  _relay(source: AnyActorRef | undefined, target: AnyActorRef, event: EventObject): void;
  scheduler: { schedule(source: AnyActorRef, target: AnyActorRef, event: EventObject, delay: number, id?: string): void };
}

/**
 * Puts the journal in front of a root actor's XState system, before it starts. Every delivery in an
 * XState 5 system goes through `system._relay(source, target, event)`: external sends (no source),
 * children's outputs (promise results, callback `sendBack`, observable values, done and error
 * events), `sendTo`/`sendParent`, and the scheduler's delayed events, relayed from a `setTimeout`
 * callback of the system's clock. The wrapper asks `admit` about each; a delayed event is told
 * apart by wrapping `scheduler.schedule`, so `admit` knows exactly which timer fired (owner and
 * send id), not only which event object (XState shares one between timers).
 *
 * An actor of another XState system delivers through its own system's relay, straight into the
 * target's `_send`: `guard` wraps each actor's `_send` so such a delivery is asked about too.
 *
 * `_relay`, `_send` and `scheduler` are XState internals (5.33).
 *
 * @example
 * ```ts
 * const clock = ingressClock(systemClock); // given to createActor(machine, { clock })
 * const ingress = installIngress(actor, clock, (source, target, event, timer) => journal.admit(source, target, event, timer));
 * ingress.relay(undefined, actor, event); // later, once the event's append has committed
 * ```
 */
export function installIngress(root: AnyActorRef, clock: IngressClock, admit: Admit): Ingress {
  const system = root.system as unknown as XStateSystem;
  const xrelay = system._relay.bind(system);
  const schedule = system.scheduler.schedule.bind(system.scheduler);
  /** The deliveries this system's relay is making now (innermost last): a `_send` that is not one of them is foreign. */
  const relaying: Array<{ target: AnyActorRef; event: EventObject }> = [];
  const relay = (source: AnyActorRef | undefined, target: AnyActorRef, event: EventObject): void => {
    relaying.push({ target, event });
    try {
      xrelay(source, target, event);
    } finally {
      relaying.pop();
    }
  };
  system._relay = (source, target, event) => {
    const timer = clock.firing;
    clock.firing = undefined;
    if (!admit(source, target, event, timer)) relay(source, target, event);
  };
  const guarded = new WeakSet<object>();
  const guard = (ref: AnyActorRef): void => {
    if (guarded.has(ref)) return;
    guarded.add(ref);
    const actor = ref as unknown as { _send(event: EventObject): void };
    const send = actor._send.bind(actor);
    actor._send = (event) => {
      const own = relaying[relaying.length - 1];
      if ((own !== undefined && own.target === ref && own.event === event) || !admit(FOREIGN, ref, event, undefined)) send(event);
    };
  };
  system.scheduler.schedule = (source, target, event, delay, id) => {
    clock.scheduling = { owner: source, id };
    try {
      schedule(source, target, event, delay, id);
    } finally {
      clock.scheduling = undefined;
    }
  };
  guard(root);
  return { relay, guard };
}

/** The clock a journaled actor's system runs on: the system's clock, telling which timer fires. */
export interface IngressClock extends Clock {
  /** Set while `scheduler.schedule` runs: the timer its `setTimeout` is for. */
  scheduling: FiredTimer | undefined;
  /** Set while a timer's callback runs (the scheduler relays the delayed event from it). */
  firing: FiredTimer | undefined;
}

/** Wraps `base` so that each `setTimeout` made by the scheduler knows its timer and flags it when it fires. */
export function ingressClock(base: Clock): IngressClock {
  const clock: IngressClock = {
    scheduling: undefined,
    firing: undefined,
    now: () => base.now(),
    setTimeout: (fn: (...args: unknown[]) => void, ms: number) => {
      const timer = clock.scheduling;
      if (timer === undefined) return base.setTimeout(fn, ms);
      return base.setTimeout(() => {
        clock.firing = timer;
        try {
          fn();
        } finally {
          clock.firing = undefined;
        }
      }, ms);
    },
    clearTimeout: (handle: unknown) => base.clearTimeout(handle),
  };
  return clock;
}

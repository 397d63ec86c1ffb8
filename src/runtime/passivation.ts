import type { Clock } from '../clock.ts';
import { ActorlogError, describeError } from '../errors.ts';

/**
 * Passivation of idle actors (see `ActorSystemOptions.passivation`): how long an actor may stay idle
 * before it is written to the log and dropped from memory, and how often the system looks.
 */
export interface PassivationOptions {
  /** An actor that has taken no input for this long (ms) is passivated once it is quiescent. */
  idleMs: number;
  /**
   * How often to look for idle actors and for passivated ones whose next timer is due (ms); a
   * sleeping actor is woken up to this long before its timer, which then fires at its due time.
   * @default min(idleMs, 1000), at least 10
   */
  checkMs?: number;
}

/** What {@link startPassivation} drives in the actor system. */
export interface PassivationHooks {
  clock: Clock;
  /** Passivates every resident actor idle since before `idleBefore` (ms) that is quiescent. */
  passivateIdle(idleBefore: number): void;
  /** Wakes the passivated actors whose next timer is due by `at` (ms). */
  wakeDue(at: number): Promise<void>;
}

/** The running passivation loop (not the store's `Passivation` record of one sleeping stream). */
export interface PassivationLoop {
  /** How far ahead of a timer a sleeping actor is woken (ms). */
  readonly checkMs: number;
  /** Stops the loop (waits for a round in progress). */
  stop(): Promise<void>;
}

/**
 * Checks `options` and fills in the defaults.
 * @throws ActorlogError `INVALID_OPTIONS` when `idleMs` or `checkMs` is not a finite number >= 0
 */
export function passivationSettings(options: PassivationOptions): Required<PassivationOptions> {
  const { idleMs } = options;
  if (typeof idleMs !== 'number' || !Number.isFinite(idleMs) || idleMs < 0) {
    throw new ActorlogError('INVALID_OPTIONS', `passivation.idleMs must be a finite number of ms >= 0, not ${String(idleMs)}`, { details: { idleMs } });
  }
  const checkMs = options.checkMs ?? Math.max(10, Math.min(idleMs, 1000));
  if (typeof checkMs !== 'number' || !Number.isFinite(checkMs) || checkMs <= 0) {
    throw new ActorlogError('INVALID_OPTIONS', `passivation.checkMs must be a finite number of ms > 0, not ${String(checkMs)}`, { details: { checkMs } });
  }
  return { idleMs, checkMs };
}

/**
 * Every `checkMs` (on the system's clock): passivates the actors idle for `idleMs`, then wakes the
 * sleeping ones whose next timer falls within the coming `checkMs`. A failed round (the store
 * unreachable) is printed to stderr and tried again at the next one.
 */
export function startPassivation(settings: Required<PassivationOptions>, hooks: PassivationHooks): PassivationLoop {
  let stopped = false;
  let timer: unknown;
  let round: Promise<void> = Promise.resolve();
  const tick = async () => {
    const now = hooks.clock.now();
    hooks.passivateIdle(now - settings.idleMs);
    await hooks.wakeDue(now + settings.checkMs);
  };
  const schedule = () => {
    if (stopped) return;
    timer = hooks.clock.setTimeout(() => {
      round = tick()
        .catch((err: unknown) => {
          if (!stopped) console.error(`actorlog: passivation round failed (retrying in ${settings.checkMs} ms): ${describeError(err).message}`);
        })
        .finally(schedule);
    }, settings.checkMs);
  };
  schedule();
  return {
    checkMs: settings.checkMs,
    async stop() {
      stopped = true;
      hooks.clock.clearTimeout(timer);
      await round;
    },
  };
}

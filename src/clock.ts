/**
 * The time source of an actor system: wall time in ms since the epoch, and timers.
 * XState's `SimulatedClock` satisfies it, so tests advance time with `clock.increment(ms)`.
 * No file in src/ reads `Date.now()` or calls `setTimeout` directly; they take a Clock.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(fn: (...args: unknown[]) => void, timeoutMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock: `Date.now()` and the host's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

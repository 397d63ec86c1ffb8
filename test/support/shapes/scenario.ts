/**
 * The shape of one crash scenario of issue 15 (test/e2e/shapes-*.test.ts): machines written as a user
 * would, and phases, each run in a fresh process (test/support/shapes/app.ts) on the same SQLite
 * file. Every phase but the last is killed with SIGKILL once it has reported; the next one starts
 * from what the file holds. Time is a SimulatedClock the phase moves itself (no real timers).
 */
import type { SimulatedClock } from 'xstate';
import type { ActorlogError, ActorSystem, ActorSystemOptions, CommitMode, LogStore, MachineRegistry } from 'actorlog';
import type { SqliteStore } from 'actorlog/stores/sqlite';

/** What a phase gets: its system (on a new connection to the file), the store, its clock, the errors told to onError so far. */
export interface PhaseContext {
  system: ActorSystem;
  store: SqliteStore;
  clock: SimulatedClock;
  errors: Array<{ id: string; code: string }>;
}

/** One process of a scenario. */
export interface Phase {
  /** The machines this process registers (default: the scenario's). */
  machines?: MachineRegistry;
  /** The clock's time when the process starts (ms). */
  at: number;
  /** The system's onMachineChange (default: the runtime's). */
  onMachineChange?: ActorSystemOptions['onMachineChange'];
  /** Wraps the store the system writes through (fault injection). */
  store?: (store: SqliteStore) => LogStore;
  /** Does this process's work; what it returns is reported to the test as JSON. */
  run(ctx: PhaseContext): Promise<unknown>;
}

export interface Scenario {
  machines: MachineRegistry;
  commit?: CommitMode;
  phases: Phase[];
}

/** Fires what is due now, then moves `clock` forward by `ms` in steps of `step` ms, so each timer fires at its due time. */
export function advance(clock: SimulatedClock, ms: number, step = 10): void {
  clock.increment(0);
  for (let done = 0; done < ms; done += step) clock.increment(Math.min(step, ms - done));
}

/** The codes of errors told to onError, for a phase's report. */
export const codes = (errors: ActorlogError[]): string[] => errors.map((e) => e.code);

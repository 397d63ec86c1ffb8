import { VirtualTimeScheduler } from 'rxjs';
import { expect } from 'vitest';
import { isActorlogError, type ErrorCode } from '../../../src/errors.ts';
import type { EventMeta, EventRecord, NewEvent, StreamRecord } from '../../../src/log/types.ts';
import type { EmbeddedStore as LogStore } from '../embeddedStore.ts';

/** Gives the store of the running test (a fresh one per test, closed after it). */
export type GetStore = () => LogStore;

/** A machine reference for test streams. */
export const machine = { name: 'job', hash: 'c0ffee' };

/** A new event `type` with `data`, recorded at `recordedAt` ms (default 1000). */
export function event(type: string, data: unknown = {}, meta: Partial<EventMeta> = {}): NewEvent {
  return { type, data, meta: { source: 'external', recordedAt: 1000, ...meta } };
}

/** `n` events named `${prefix}.1…n`, recorded at 1001, 1002, … ms. */
export function events(n: number, prefix = 'e'): NewEvent[] {
  return Array.from({ length: n }, (_, i) => event(`${prefix}.${i + 1}`, { i: i + 1 }, { recordedAt: 1001 + i }));
}

/** Creates stream `streamId` created at `createdAt` ms (default 100). */
export function createStream(store: LogStore, streamId: string, createdAt = 100, input: unknown = { id: streamId }): StreamRecord {
  return store.createStream({ streamId, machine, input, createdAt });
}

/** Runs `fn`, expects it to throw an ActorlogError with `code` (and `details` containing `details`); returns it. */
export function expectCode(fn: () => unknown, code: ErrorCode, details?: Record<string, unknown>) {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `expected ${code}`).toBeDefined();
  if (!isActorlogError(thrown, code)) throw new Error(`expected ActorlogError ${code}, got ${String(thrown)}`, { cause: thrown });
  if (details) expect(thrown.details).toMatchObject(details);
  return thrown;
}

/** A virtual-time scheduler for the poll interval of subscriptions: no real timers in tests. */
export function virtualTime(): VirtualTimeScheduler {
  return new VirtualTimeScheduler();
}

/** Moves virtual time forward by `ms`, running the timers due meanwhile. */
export function advance(scheduler: VirtualTimeScheduler, ms: number): void {
  const target = scheduler.frame + ms;
  scheduler.maxFrames = target;
  scheduler.flush();
  scheduler.frame = target;
}

/** `[streamId, version]` of each record: compact to compare. */
export const ids = (records: readonly EventRecord[]) => records.map((r) => `${r.streamId}@${r.version}`);
/** Global positions of records. */
export const positions = (records: readonly EventRecord[]) => records.map((r) => r.globalPosition);

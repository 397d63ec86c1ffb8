import type { Observable } from 'rxjs';
import { expect } from 'vitest';
import { isActorlogError, type ErrorCode } from '../../../src/errors.ts';
import type { EventMeta, EventRecord, NewEvent, StreamRecord } from '../../../src/log/types.ts';
import type { LogCursor, LogStore } from '../../../src/log/types.ts';
import { until as waitUntil } from '../../support/kit/until.ts';

/** The store of the running test (a fresh one per test, closed after it). */
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
export async function createStream(store: LogStore, streamId: string, createdAt = 100, input: unknown = { id: streamId }): Promise<StreamRecord> {
  return await store.createStream({ streamId, machine, input, createdAt });
}

/**
 * Runs `fn` (which may throw, or return a promise that rejects), expects an ActorlogError with `code`
 * (and `details` containing `details`); returns it.
 */
export async function expectCode(fn: () => unknown, code: ErrorCode, details?: Record<string, unknown>) {
  let thrown: unknown;
  try {
    await fn();
  } catch (err) {
    thrown = err;
  }
  return checkCoded(thrown, code, details);
}

/** Expects `thrown` to be an ActorlogError with `code` (and `details` containing `details`); returns it. */
export function checkCoded(thrown: unknown, code: ErrorCode, details?: Record<string, unknown>) {
  expect(thrown, `expected ${code}`).toBeDefined();
  if (!isActorlogError(thrown, code)) throw new Error(`expected ActorlogError ${code}, got ${String(thrown)}`, { cause: thrown });
  if (details) expect(thrown.details).toMatchObject(details);
  return thrown;
}

/** An event record without its `transactionId` (which only PostgreSQL fills in), to compare with literals. */
export function plain(record: EventRecord): EventRecord {
  const { transactionId: _omitted, ...rest } = record as EventRecord & { transactionId?: string };
  return rest;
}

/** The resume point after `record`: its transaction id ('0' on stores without one) and global position. */
export function cursorOf(record: EventRecord): LogCursor {
  return { transactionId: (record as EventRecord & { transactionId?: string }).transactionId ?? '0', globalPosition: record.globalPosition };
}

/**
 * Waits until `condition()` holds, checking every 5 ms (the kit's `until`: it fails naming `what`
 * after 10 s). For deliveries that arrive asynchronously; never a timed assertion.
 */
export const until = (condition: () => boolean, what: string): Promise<void> => waitUntil(condition, what, { everyMs: 5 });

/** Subscribes to `records` and keeps what arrives, whether it completed, and its error; `onRecord` sees each record once kept. */
export function collectRecords(records: Observable<EventRecord>, onRecord?: (r: EventRecord) => void) {
  const received: EventRecord[] = [];
  const state = { completed: false, error: undefined as unknown };
  const subscription = records.subscribe({
    next: (r) => {
      received.push(r);
      onRecord?.(r);
    },
    error: (err) => (state.error = err),
    complete: () => (state.completed = true),
  });
  return { received, state, subscription };
}

/** `streamId@version` of each record: compact to compare. */
export const ids = (records: readonly EventRecord[]) => records.map((r) => `${r.streamId}@${r.version}`);
/** Global positions of records. */
export const positions = (records: readonly EventRecord[]) => records.map((r) => r.globalPosition);
/** True when the numbers strictly increase. */
export const increasing = (values: readonly number[]) => values.every((v, i) => i === 0 || v > values[i - 1]!);

import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import { ActorlogError } from '../errors.ts';
import type { EventRecord, LogStore, StreamRecord } from '../log/types.ts';
import { decodeEvent } from '../runtime/eventCodec.ts';
import { Folder } from '../runtime/fold.ts';
import type { StoredSnapshot } from '../runtime/journal.ts';

/** One step of a replay: the logged event and the snapshot after it. */
export interface ReplayStep {
  record: EventRecord;
  event: EventObject;
  snapshot: AnyMachineSnapshot;
}

/** Options of {@link replay}. */
export interface ReplayOptions {
  /** Stop after this stream version (inclusive). */
  to?: number;
}

/**
 * Replays a stream offline, event by event, from the machine's initial state for the logged input:
 * no I/O, no timers, no network (DESIGN.md invariant 2). Yields `{ record, event, snapshot }` per event.
 *
 * @throws ActorlogError `STREAM_NOT_FOUND`
 * @example
 * ```ts
 * for (const step of replay(store, jobMachine, 'job-7', { to: 12 })) console.log(step.record.version, step.snapshot.value);
 * ```
 */
export function* replay(store: LogStore, machine: AnyStateMachine, streamId: string, options: ReplayOptions = {}): Generator<ReplayStep> {
  const stream = requireStream(store, streamId);
  const folder = new Folder(machine);
  const state = folder.initial(stream.input, stream.createdAt);
  for (const record of store.readStream(streamId, { toVersion: options.to })) {
    const event = decodeEvent(record);
    folder.applyEvent(state, event, record);
    yield { record, event, snapshot: state.snapshot };
  }
}

/** The initial snapshot of a stream's actor (before its first event). */
export function initialSnapshot(store: LogStore, machine: AnyStateMachine, streamId: string): AnyMachineSnapshot {
  const stream = requireStream(store, streamId);
  return new Folder(machine).initial(stream.input, stream.createdAt).snapshot;
}

/** The comparable part of a snapshot: value, context, status (JSON-normalised). */
export function comparable(snapshot: { value?: unknown; context?: unknown; status?: unknown }): { value: unknown; context: unknown; status: unknown } {
  return JSON.parse(JSON.stringify({ value: snapshot.value, context: snapshot.context, status: snapshot.status }));
}

/** The result of {@link verifyReplay}. */
export interface VerifyResult {
  ok: boolean;
  /** The version of the live snapshot compared (0 when the stream has none). */
  version: number;
  /** The differing top-level keys (`value`, `context`, `status`) and both sides, when not ok. */
  differences: Array<{ key: string; live: unknown; replayed: unknown }>;
}

/**
 * Replays a stream up to its last live snapshot and compares value, context and status with it.
 * A stream with no live snapshot has nothing to compare: `ok` with version 0.
 */
export function verifyReplay(store: LogStore, machine: AnyStateMachine, streamId: string): VerifyResult {
  requireStream(store, streamId);
  const saved = store.loadSnapshot(streamId);
  if (!saved) return { ok: true, version: 0, differences: [] };
  let last: AnyMachineSnapshot | undefined = saved.version === 0 ? initialSnapshot(store, machine, streamId) : undefined;
  for (const step of replay(store, machine, streamId, { to: saved.version })) last = step.snapshot;
  const live = comparable((saved.snapshot as StoredSnapshot).state as object);
  const replayed = comparable(last!);
  const differences: VerifyResult['differences'] = [];
  for (const key of ['value', 'context', 'status'] as const) {
    if (JSON.stringify(live[key]) !== JSON.stringify(replayed[key])) differences.push({ key, live: live[key], replayed: replayed[key] });
  }
  return { ok: differences.length === 0, version: saved.version, differences };
}

function requireStream(store: LogStore, streamId: string): StreamRecord {
  const stream = store.getStream(streamId);
  if (!stream) throw new ActorlogError('STREAM_NOT_FOUND', `no stream "${streamId}" in the log`, { details: { streamId } });
  return stream;
}

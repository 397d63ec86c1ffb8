import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import { ActorlogError } from '../errors.ts';
import type { EventRecord, LogStore, SnapshotRecord, StreamRecord } from '../log/types.ts';
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
 * no I/O, no timers, no network (docs/architecture.md invariant 2). Yields `{ record, event, snapshot }` per event.
 *
 * @throws ActorlogError `STREAM_NOT_FOUND`
 * @example
 * ```ts
 * for await (const step of replay(store, jobMachine, 'job-7', { to: 12 })) console.log(step.record.version, step.snapshot.value);
 * ```
 */
export async function* replay(store: LogStore, machine: AnyStateMachine, streamId: string, options: ReplayOptions = {}): AsyncGenerator<ReplayStep> {
  const stream = await requireStream(store, streamId);
  const folder = new Folder(machine);
  const state = folder.initial(stream.input, stream.createdAt);
  for (const record of await store.readStream(streamId, { toVersion: options.to })) {
    const event = decodeEvent(record);
    folder.applyEvent(state, event, record);
    yield { record, event, snapshot: state.snapshot };
  }
}

/** The initial snapshot of a stream's actor (before its first event). */
export async function initialSnapshot(store: LogStore, machine: AnyStateMachine, streamId: string): Promise<AnyMachineSnapshot> {
  const stream = await requireStream(store, streamId);
  return new Folder(machine).initial(stream.input, stream.createdAt).snapshot;
}

/** The comparable part of a snapshot: value, context, status (JSON-normalised: `undefined` fields dropped). */
export function comparable(snapshot: { value?: unknown; context?: unknown; status?: unknown }): { value: unknown; context: unknown; status: unknown } {
  return JSON.parse(JSON.stringify({ value: snapshot.value, context: snapshot.context, status: snapshot.status }));
}

/** JSON with object keys sorted, so two equal values compare equal whatever order their keys were set in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** The result of {@link verifyReplay}. */
export interface VerifyResult {
  /** No difference found. Also `true` when nothing was compared: check {@link VerifyResult.nothingToCompare}. */
  ok: boolean;
  /** The version of the last live snapshot compared (0 when the stream has none). */
  version: number;
  /** How many live snapshots were compared. */
  checked: number;
  /** The stream has no live snapshot, so the replay was compared with nothing (`checked` 0). */
  nothingToCompare: boolean;
  /** Each difference: the snapshot's version, the key (`value`, `context`, `status`) and both sides. */
  differences: Array<{ version: number; key: string; live: unknown; replayed: unknown }>;
}

/**
 * Replays a stream and compares value, context and status with every live snapshot the runtime
 * saved for it (periodic ones and the final one), at their versions; the snapshots are read in one
 * `listSnapshots` call. A stream with no live snapshot has nothing to compare: `ok` with `checked` 0
 * and `nothingToCompare` true, which proves nothing (`actorlog replay --verify --strict` exits 1 on it).
 *
 * @throws ActorlogError `STREAM_NOT_FOUND`
 * @example
 * ```ts
 * const result = await verifyReplay(store, jobMachine, 'job-7');
 * if (!result.ok) console.log(result.differences);
 * else if (result.nothingToCompare) console.log('no live snapshot recorded for job-7');
 * ```
 */
export async function verifyReplay(store: LogStore, machine: AnyStateMachine, streamId: string): Promise<VerifyResult> {
  await requireStream(store, streamId);
  const saved = new Map<number, SnapshotRecord>((await store.listSnapshots(streamId)).map((s) => [s.version, s]));
  const last = Math.max(0, ...saved.keys());
  const differences: VerifyResult['differences'] = [];
  const compare = (version: number, replayed: AnyMachineSnapshot) => {
    const record = saved.get(version);
    if (!record) return;
    const live = comparable((record.snapshot as StoredSnapshot).state as object);
    const mine = comparable(replayed);
    for (const key of ['value', 'context', 'status'] as const) {
      if (canonicalJson(live[key]) !== canonicalJson(mine[key])) differences.push({ version, key, live: live[key], replayed: mine[key] });
    }
  };
  if (saved.size === 0) return { ok: true, version: 0, checked: 0, nothingToCompare: true, differences };
  compare(0, await initialSnapshot(store, machine, streamId));
  for await (const step of replay(store, machine, streamId, { to: last })) compare(step.record.version, step.snapshot);
  return { ok: differences.length === 0, version: last, checked: saved.size, nothingToCompare: false, differences };
}

async function requireStream(store: LogStore, streamId: string): Promise<StreamRecord> {
  const stream = await store.getStream(streamId);
  if (!stream) throw new ActorlogError('STREAM_NOT_FOUND', `no stream "${streamId}" in the log`, { details: { streamId } });
  return stream;
}

/**
 * {@link replay} collected into an array: every step of the stream (up to `options.to`).
 * @throws ActorlogError `STREAM_NOT_FOUND`
 * @example
 * ```ts
 * const steps = await replaySteps(store, jobMachine, 'job-7');
 * console.log(steps.at(-1)?.snapshot.value);
 * ```
 */
export async function replaySteps(store: LogStore, machine: AnyStateMachine, streamId: string, options: ReplayOptions = {}): Promise<ReplayStep[]> {
  const steps: ReplayStep[] = [];
  for await (const step of replay(store, machine, streamId, options)) steps.push(step);
  return steps;
}

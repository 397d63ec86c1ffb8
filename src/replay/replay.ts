import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import { ActorlogError } from '../errors.ts';
import type { EventRecord, LogStore, SnapshotRecord, StreamRecord } from '../log/types.ts';
import { foldChunks } from './foldChunks.ts';
import { foldFrom, foldPlan, planReplay, type ReplayPlan } from './plan.ts';
import { machineSegments } from './segments.ts';
import { decodeEvent } from '../runtime/eventCodec.ts';
import { Folder } from '../runtime/fold.ts';
import type { StoredSnapshot } from '../runtime/journal.ts';
import { machineHash } from '../runtime/machineHash.ts';

/** One step of a replay: the logged event and the snapshot after it. */
export interface ReplayStep {
  record: EventRecord;
  event: EventObject;
  snapshot: AnyMachineSnapshot;
}

/** Options of {@link replay}, {@link replaySteps} and {@link verifyReplay}. */
export interface ReplayOptions {
  /** Stop after this stream version (inclusive). Not read by {@link verifyReplay}, which covers the whole stream. */
  to?: number;
  /**
   * The other definitions of the machine the stream ran before or after an upgrade (an
   * `actorlog.upgraded` event), matched by their {@link machineHash}: each stretch of the stream is
   * folded by the machine that ran it. Needed only for a stretch the given machine cannot stand in
   * for (see {@link replay}).
   */
  machines?: readonly AnyStateMachine[];
  /**
   * Fold the whole stream with `machine` from its input, whatever hash the stream recorded and
   * whatever upgrades it went through (a deliberate migration; `actorlog replay --ignore-hash`).
   */
  ignoreHash?: boolean;
}

/**
 * Replays a stream offline, event by event, from the machine's initial state for the logged input:
 * no I/O, no timers, no network (docs/architecture.md invariant 2). Yields `{ record, event, snapshot }` per event.
 *
 * The machine must be one the stream ran: its {@link machineHash} is the stream's, or the `to` of
 * one of its `actorlog.upgraded` events (`MACHINE_MISMATCH` otherwise, unless `ignoreHash`). Across
 * an upgrade the replay does what recovery did: each stretch of the stream is folded by the machine
 * that ran it (the given one, or one of `options.machines`). A machine stands in for the stretches
 * before it that `onMachineChange: 'verify'` checked it against (recovery proved it folds them
 * alike), so the machine you run today replays a stream verified across any number of deploys. After
 * an `accept` upgrade the new machine goes on from the snapshot recovery resumed from (a
 * migration): the stretch before needs the machine that ran it. A stretch whose machine is not
 * given ends the replay with `MACHINE_MISMATCH` when the replay reaches it (the steps before it
 * were yielded): `details.version` is where it starts, `details.needed` its hash.
 *
 * @throws ActorlogError `STREAM_NOT_FOUND`; `MACHINE_MISMATCH` (details `streamId`, `registered`,
 *   `logged`: the hashes the stream ran, and `version`/`needed` for a stretch with no machine);
 *   `REPLAY_MISMATCH` when the snapshot an `accept` upgrade resumed from is no longer kept
 * @example
 * ```ts
 * for await (const step of replay(store, jobMachine, 'job-7', { to: 12 })) console.log(step.record.version, step.snapshot.value);
 * // a stream migrated with onMachineChange 'accept' from ordersV2 to ordersV3:
 * for await (const step of replay(store, ordersV3, 'o-1', { machines: [ordersV2] })) console.log(step.snapshot.context);
 * ```
 */
export async function* replay(store: LogStore, machine: AnyStateMachine, streamId: string, options: ReplayOptions = {}): AsyncGenerator<ReplayStep> {
  const stream = await requireStream(store, streamId);
  if (options.ignoreHash) {
    yield* foldRecords(machine, stream, await store.readStream(streamId, { toVersion: options.to }));
    return;
  }
  const others = options.machines ?? [];
  // the machine the stream was created with folds it chunk by chunk; any other needs the whole plan first
  if (machineHash(machine) === stream.machine.hash) yield* foldChunks(store, stream, machine, others, options.to);
  else yield* foldPlan(stream, await planReplay(store, stream, machine, others), options.to);
}

/** Each step of a fold of `records` with `machine` alone, from the stream's input (replay's `ignoreHash`). @internal */
export function* foldRecords(machine: AnyStateMachine, stream: StreamRecord, records: readonly EventRecord[]): Generator<ReplayStep> {
  const folder = new Folder(machine);
  const state = folder.initial(stream.input, stream.createdAt);
  for (const record of records) {
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
 * Replays a stream ({@link replay}, with the same `machines` and `ignoreHash` options) and compares
 * value, context and status with every live snapshot the runtime saved for it (periodic ones and the
 * final one), at their versions; the snapshots are read in one `listSnapshots` call. A stream with
 * no live snapshot has nothing to compare: `ok` with `checked` 0 and `nothingToCompare` true, which
 * proves nothing (`actorlog replay --verify --strict` exits 1 on it). The machine's hash is checked
 * as {@link replay} checks it; across an upgrade each snapshot is compared with the fold of the
 * machine that ran its stretch.
 *
 * @throws ActorlogError `STREAM_NOT_FOUND`, `MACHINE_MISMATCH`, `REPLAY_MISMATCH` (as {@link replay})
 * @example
 * ```ts
 * const result = await verifyReplay(store, jobMachine, 'job-7');
 * if (!result.ok) console.log(result.differences);
 * else if (result.nothingToCompare) console.log('no live snapshot recorded for job-7');
 * ```
 */
export async function verifyReplay(
  store: LogStore,
  machine: AnyStateMachine,
  streamId: string,
  options: Omit<ReplayOptions, 'to'> = {},
): Promise<VerifyResult> {
  const stream = await requireStream(store, streamId);
  const compare = new SnapshotComparison(await store.listSnapshots(streamId));
  if (compare.saved.size === 0) return compare.result();
  if (options.ignoreHash) {
    compare.at(0, new Folder(machine).initial(stream.input, stream.createdAt).snapshot);
    for (const step of foldRecords(machine, stream, await store.readStream(streamId, { toVersion: compare.last })))
      compare.at(step.record.version, step.snapshot);
    return compare.result();
  }
  const others = options.machines ?? [];
  if (machineHash(machine) !== stream.machine.hash) return verifyPlan(stream, await planReplay(store, stream, machine, others), compare);
  compare.at(0, new Folder(machine).initial(stream.input, stream.createdAt).snapshot);
  for await (const { record, snapshot } of foldChunks(store, stream, machine, others, compare.last)) compare.at(record.version, snapshot);
  return compare.result();
}

/**
 * {@link verifyReplay} of a plan made already (the CLI's, which read the stream once for its
 * replay and its verification): `snapshots` are the stream's live ones. @internal
 */
export function verifyPlan(stream: StreamRecord, plan: ReplayPlan, snapshots: readonly SnapshotRecord[] | SnapshotComparison): VerifyResult {
  const compare = snapshots instanceof SnapshotComparison ? snapshots : new SnapshotComparison(snapshots);
  if (compare.saved.size === 0) return compare.result();
  if (plan.machines[0]) compare.at(0, new Folder(plan.machines[0]).initial(stream.input, stream.createdAt).snapshot);
  for (const { record, snapshot } of foldPlan(stream, plan, compare.last)) compare.at(record.version, snapshot);
  return compare.result();
}

/**
 * Checks a machine that is not yet the stream's against its log, as `onMachineChange: 'verify'`
 * does before recovery goes on with it: it folds the stream from where its current machine's
 * stretch folds from (its input, or the snapshot an `accept` upgrade resumed from) and compares
 * every live snapshot after that point. @internal
 */
export async function verifyUpgrade(store: LogStore, machine: AnyStateMachine, stream: StreamRecord): Promise<VerifyResult> {
  const records = await store.readStream(stream.streamId);
  const base = (await machineSegments(store, stream, records)).at(-1)!.base;
  const compare = new SnapshotComparison((await store.listSnapshots(stream.streamId)).filter((s) => s.version > base || (base === 0 && s.version === 0)));
  if (compare.saved.size === 0) return compare.result();
  const { folder, state } = await foldFrom(store, stream, machine, base);
  compare.at(0, state.snapshot);
  for (const record of records) {
    if (record.version <= base) continue;
    if (record.version > compare.last) break;
    folder.apply(state, record);
    compare.at(record.version, state.snapshot);
  }
  return compare.result();
}

/** Live snapshots by version, compared with replayed ones as a replay reaches their versions. */
class SnapshotComparison {
  readonly saved: Map<number, SnapshotRecord>;
  readonly last: number;
  private readonly differences: VerifyResult['differences'] = [];
  private checked = 0;

  constructor(snapshots: readonly SnapshotRecord[]) {
    this.saved = new Map(snapshots.map((s) => [s.version, s]));
    this.last = Math.max(0, ...this.saved.keys());
  }

  at(version: number, replayed: AnyMachineSnapshot): void {
    const record = this.saved.get(version);
    if (!record) return;
    this.checked++;
    const live = comparable((record.snapshot as StoredSnapshot).state as object);
    const mine = comparable(replayed);
    for (const key of ['value', 'context', 'status'] as const) {
      if (canonicalJson(live[key]) !== canonicalJson(mine[key])) this.differences.push({ version, key, live: live[key], replayed: mine[key] });
    }
  }

  result(): VerifyResult {
    const nothingToCompare = this.saved.size === 0;
    return {
      ok: this.differences.length === 0,
      version: this.last,
      checked: nothingToCompare ? 0 : this.checked,
      nothingToCompare,
      differences: this.differences,
    };
  }
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

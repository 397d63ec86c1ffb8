import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import { ActorlogError } from '../errors.ts';
import type { EventRecord, LogStore, StreamRecord } from '../log/types.ts';
import { decodeEvent } from '../runtime/eventCodec.ts';
import { Folder, type FoldState } from '../runtime/fold.ts';
import type { StoredSnapshot } from '../runtime/journal.ts';
import { machineHash } from '../runtime/machineHash.ts';
import { machineSegments, type MachineSegment } from './segments.ts';

/** How a replay folds a stream that went through upgrades: its records, its stretches, and the machine of each. */
export interface ReplayPlan {
  records: EventRecord[];
  segments: MachineSegment[];
  /** The machine that folds each stretch: its own, or a later one verified against it; undefined when none was given. */
  machines: Array<AnyStateMachine | undefined>;
  /**
   * The stored snapshot each base a stretch folds from (other than 0, the input) resumes from,
   * loaded when the plan is made so the fold itself never waits; the error when it is no longer kept
   * (thrown when the fold reaches that stretch, after the steps before it).
   */
  bases: Map<number, StoredSnapshot | ActorlogError>;
}

/** What a plan is made from when the caller read the stream already (the CLI, to find its hashes). */
export interface ReadStreamParts {
  records: EventRecord[];
  segments: MachineSegment[];
}

/**
 * Matches the given machines to the stretches of `stream` by hash. A machine stands in for the
 * stretches before its own back to (not across) an `accept` upgrade: a `verify` upgrade proved
 * it folds them alike. Reads the stream once (none when `read` is given).
 * @throws ActorlogError `MACHINE_MISMATCH` when `machine` is none the stream ran
 */
export async function planReplay(
  store: LogStore,
  stream: StreamRecord,
  machine: AnyStateMachine,
  others: readonly AnyStateMachine[],
  read?: ReadStreamParts,
): Promise<ReplayPlan> {
  const records = read?.records ?? (await store.readStream(stream.streamId));
  const segments = read?.segments ?? (await machineSegments(store, stream, records));
  const registered = machineHash(machine);
  const logged = [...new Set(segments.map((s) => s.hash))];
  if (!logged.includes(registered)) {
    throw new ActorlogError(
      'MACHINE_MISMATCH',
      `stream ${stream.streamId} was written by another definition of "${stream.machine.name}" (${logged.join(', then ')}; given ${registered}): replay it with the machine that ran it, or with ignoreHash for a deliberate migration`,
      { details: { streamId: stream.streamId, logged, registered } },
    );
  }
  const given = new Map<string, AnyStateMachine>();
  for (const m of [machine, ...others]) if (!given.has(machineHash(m))) given.set(machineHash(m), m);
  const machines: Array<AnyStateMachine | undefined> = [];
  let standIn: AnyStateMachine | undefined;
  for (let k = segments.length - 1; k >= 0; k--) {
    machines[k] = given.get(segments[k]!.hash) ?? standIn;
    standIn = segments[k]!.policy === 'accept' ? undefined : machines[k];
  }
  const bases = new Map<number, StoredSnapshot | ActorlogError>();
  for (const { base } of segments) if (base > 0 && !bases.has(base)) bases.set(base, await loadBase(store, stream, base));
  return { records, segments, machines, bases };
}

/** The stored snapshot at `base` with its bookkeeping, or the `REPLAY_MISMATCH` error when the log no longer keeps it. */
export async function loadBase(store: LogStore, stream: StreamRecord, base: number): Promise<StoredSnapshot | ActorlogError> {
  const saved = await store.loadSnapshot(stream.streamId, base);
  const payload = saved?.snapshot as StoredSnapshot | undefined;
  if (saved?.version === base && payload?.state && payload.bookkeeping) return payload;
  return new ActorlogError(
    'REPLAY_MISMATCH',
    `stream ${stream.streamId}: its machine changed with onMachineChange 'accept' resuming from the snapshot at version ${base}, which the log no longer keeps: replay it with ignoreHash`,
    { details: { streamId: stream.streamId, version: base } },
  );
}

/** A fold of `machine` from `base` (0: the stream's input; else the loaded snapshot, or its error thrown). */
export function startAt(
  machine: AnyStateMachine,
  stream: StreamRecord,
  base: number,
  loaded: StoredSnapshot | ActorlogError | undefined,
): { folder: Folder; state: FoldState } {
  const folder = new Folder(machine);
  if (base === 0) return { folder, state: folder.initial(stream.input, stream.createdAt) };
  if (loaded === undefined || loaded instanceof ActorlogError) throw loaded ?? new Error(`no snapshot loaded at ${base}`);
  return { folder, state: folder.restore(loaded.state, base, loaded.bookkeeping!) };
}

/**
 * A fold of `machine` over `stream` starting at the snapshot kept at `base` (0: the stream's input),
 * as recovery starts one.
 * @throws ActorlogError `REPLAY_MISMATCH` when that snapshot is no longer kept
 */
export async function foldFrom(store: LogStore, stream: StreamRecord, machine: AnyStateMachine, base: number): Promise<{ folder: Folder; state: FoldState }> {
  return startAt(machine, stream, base, base === 0 ? undefined : await loadBase(store, stream, base));
}

/** One step of a fold: the logged record, its event, and the snapshot after it. */
export interface FoldedStep {
  record: EventRecord;
  event: EventObject;
  snapshot: AnyMachineSnapshot;
}

/**
 * Each step of `plan` from version `from` up to version `to`, each folded by its stretch's machine
 * (switching as recovery did; the versions before `from` are folded, not yielded). Synchronous: everything the fold reads was read when the plan was made, so a replay pays one
 * async step per event (its own generator's), not one per layer.
 */
export function* foldPlan(stream: StreamRecord, plan: ReplayPlan, to?: number, from = 1): Generator<FoldedStep> {
  let current: { machine: AnyStateMachine; base: number; folder: Folder; state: FoldState } | undefined;
  let k = 0;
  const { records, segments } = plan;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    if (record.version < from) continue; // yielded by the caller already (foldChunks): refolded below, silently
    if (to !== undefined && record.version > to) return;
    while (k + 1 < segments.length && segments[k + 1]!.from <= record.version) k++;
    const segment = segments[k]!;
    const machine = plan.machines[k];
    if (!machine) {
      const previous = segments[k - 1];
      throw new ActorlogError(
        'MACHINE_MISMATCH',
        previous && (current || from > 1)
          ? `stream ${stream.streamId}: replayed up to version ${record.version - 1}; from version ${segment.from} it runs another definition of "${stream.machine.name}" (${segment.hash}, an actorlog.upgraded event): give that machine too (replay's \`machines\` option; to the CLI, registered under any name), or stop at version ${segment.from - 1}`
          : `stream ${stream.streamId}: its versions from ${record.version} were folded by a definition of "${stream.machine.name}" (${segment.hash}) that was not given, and no given machine was verified against them (a later upgrade was 'accept'ed): give that machine too (replay's \`machines\` option; to the CLI, registered under any name)`,
        { details: { streamId: stream.streamId, version: record.version, needed: segment.hash } },
      );
    }
    if (current?.machine !== machine || current.base !== segment.base) {
      // this stretch's machine takes over from where recovery started it: refold what came before silently
      const { folder, state } = startAt(machine, stream, segment.base, plan.bases.get(segment.base));
      for (const earlier of records) {
        if (earlier.version <= segment.base) continue;
        if (earlier.version >= record.version) break;
        folder.apply(state, earlier);
      }
      current = { machine, base: segment.base, folder, state };
    }
    const event = decodeEvent(record);
    current.folder.applyEvent(current.state, event, record);
    yield { record, event, snapshot: current.state.snapshot };
  }
}

import type { AnyStateMachine, EventObject } from 'xstate';
import { ActorlogError } from '../errors.ts';
import type { EventRecord, LogStore, StreamRecord } from '../log/types.ts';
import { decodeEvent } from '../runtime/eventCodec.ts';
import { Folder, type FoldState } from '../runtime/fold.ts';
import type { StoredSnapshot } from '../runtime/journal.ts';
import { machineHash } from '../runtime/machineHash.ts';
import { machineSegments, segmentAt, type MachineSegment } from './segments.ts';

/** How a replay folds a stream that went through upgrades: its records, its stretches, and the machine of each. */
export interface ReplayPlan {
  records: EventRecord[];
  segments: MachineSegment[];
  /** The machine that folds each stretch: its own, or a later one verified against it; undefined when none was given. */
  machines: Array<AnyStateMachine | undefined>;
}

/**
 * Matches the given machines to the stretches of `stream` by hash. A machine stands in for the
 * stretches before its own back to (not across) an `accept` upgrade: a `verify` upgrade proved
 * it folds them alike.
 * @throws ActorlogError `MACHINE_MISMATCH` when `machine` is none the stream ran
 */
export async function planReplay(store: LogStore, stream: StreamRecord, machine: AnyStateMachine, others: readonly AnyStateMachine[]): Promise<ReplayPlan> {
  const records = await store.readStream(stream.streamId);
  const segments = await machineSegments(store, stream, records);
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
  return { records, segments, machines };
}

/**
 * A fold of `machine` over `stream` starting at the snapshot kept at `base` (0: the stream's input),
 * as recovery starts one.
 * @throws ActorlogError `REPLAY_MISMATCH` when that snapshot is no longer kept
 */
export async function foldFrom(store: LogStore, stream: StreamRecord, machine: AnyStateMachine, base: number): Promise<{ folder: Folder; state: FoldState }> {
  const folder = new Folder(machine);
  if (base === 0) return { folder, state: folder.initial(stream.input, stream.createdAt) };
  const saved = await store.loadSnapshot(stream.streamId, base);
  const payload = saved?.snapshot as StoredSnapshot | undefined;
  if (saved?.version !== base || !payload?.state || !payload.bookkeeping) {
    throw new ActorlogError(
      'REPLAY_MISMATCH',
      `stream ${stream.streamId}: its machine changed with onMachineChange 'accept' resuming from the snapshot at version ${base}, which the log no longer keeps: replay it with ignoreHash`,
      { details: { streamId: stream.streamId, version: base } },
    );
  }
  return { folder, state: folder.restore(payload.state, base, payload.bookkeeping) };
}

/** Each step of `plan` up to version `to`, each folded by its stretch's machine (switching as recovery did). */
export async function* foldPlan(
  store: LogStore,
  stream: StreamRecord,
  plan: ReplayPlan,
  to?: number,
): AsyncGenerator<{ record: EventRecord; event: EventObject; state: FoldState }> {
  let current: { machine: AnyStateMachine; base: number; folder: Folder; state: FoldState } | undefined;
  for (const record of plan.records) {
    if (to !== undefined && record.version > to) return;
    const k = segmentAt(plan.segments, record.version);
    const segment = plan.segments[k]!;
    const machine = plan.machines[k];
    if (!machine) {
      const previous = plan.segments[k - 1];
      throw new ActorlogError(
        'MACHINE_MISMATCH',
        previous && current
          ? `stream ${stream.streamId}: replayed up to version ${record.version - 1}; from version ${segment.from} it runs another definition of "${stream.machine.name}" (${segment.hash}, an actorlog.upgraded event): give that machine too (replay's \`machines\` option; to the CLI, registered under any name), or stop at version ${segment.from - 1}`
          : `stream ${stream.streamId}: its versions from ${record.version} were folded by a definition of "${stream.machine.name}" (${segment.hash}) that was not given, and no given machine was verified against them (a later upgrade was 'accept'ed): give that machine too (replay's \`machines\` option; to the CLI, registered under any name)`,
        { details: { streamId: stream.streamId, version: record.version, needed: segment.hash } },
      );
    }
    if (current?.machine !== machine || current.base !== segment.base) {
      // this stretch's machine takes over from where recovery started it: refold what came before silently
      const { folder, state } = await foldFrom(store, stream, machine, segment.base);
      for (const earlier of plan.records) {
        if (earlier.version <= segment.base) continue;
        if (earlier.version >= record.version) break;
        folder.apply(state, earlier);
      }
      current = { machine, base: segment.base, folder, state };
    }
    const event = decodeEvent(record);
    current.folder.applyEvent(current.state, event, record);
    yield { record, event, state: current.state };
  }
}

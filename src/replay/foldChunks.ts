import type { AnyStateMachine } from 'xstate';
import type { LogStore, StreamRecord } from '../log/types.ts';
import { decodeEvent } from '../runtime/eventCodec.ts';
import type { Folder, FoldState } from '../runtime/fold.ts';
import { machineHash } from '../runtime/machineHash.ts';
import type { UpgradeData } from '../runtime/upgradeEvent.ts';
import { foldPlan, loadBase, planReplay, startAt, type FoldedStep } from './plan.ts';
import { isUpgrade, snapshotBase } from './segments.ts';

/** Stream versions read per query by {@link foldChunks}. */
export const REPLAY_CHUNK = 1_000;

/**
 * The steps of a stream folded by `machine` (which must be the machine it was created with) read
 * {@link REPLAY_CHUNK} versions at a time, so a replay holds one chunk of the log, not all of it:
 * the records it yields die young (reading the whole stream first, the fold spent about a fifth of
 * its time collecting them). An `actorlog.upgraded` event hands over to the given machine of that
 * hash where recovery did (from its base, refolding the versions before it silently); one whose
 * machine was not given may still be folded by a later machine verified against it, which only the
 * rest of the log can tell: the fold then plans the whole stream ({@link planReplay}) and goes on
 * with that plan. The steps are those of `foldPlan(planReplay(...))`, and so are the errors and
 * where they are thrown.
 */
export async function* foldChunks(
  store: LogStore,
  stream: StreamRecord,
  machine: AnyStateMachine,
  others: readonly AnyStateMachine[],
  to?: number,
): AsyncGenerator<FoldedStep> {
  const given = new Map<string, AnyStateMachine>();
  for (const m of [machine, ...others]) if (!given.has(machineHash(m))) given.set(machineHash(m), m);
  let base = 0;
  let current: { machine: AnyStateMachine; base: number; folder: Folder; state: FoldState } = { machine, base, ...startAt(machine, stream, 0, undefined) };
  const end = to ?? Number.MAX_SAFE_INTEGER;
  for (let from = 1; from <= end;) {
    const last = Math.min(end, from + REPLAY_CHUNK - 1);
    const records = await store.readStream(stream.streamId, { fromVersion: from, toVersion: last });
    for (const record of records) {
      if (isUpgrade(record)) {
        const data = record.data as UpgradeData;
        const next = given.get(data.to);
        if (!next) {
          // only the rest of the log can say which machine folds this stretch: plan the whole stream
          yield* foldPlan(stream, await planReplay(store, stream, machine, others), to, record.version);
          return;
        }
        if (data.policy === 'accept') base = data.resumedFrom ?? (await snapshotBase(store, stream.streamId, record.version - 1));
        if (next !== current.machine || base !== current.base) {
          // the new stretch's machine takes over from where recovery started it: refold what came before silently
          const started = startAt(next, stream, base, base === 0 ? undefined : await loadBase(store, stream, base));
          if (record.version - 1 > base) {
            for (const earlier of await store.readStream(stream.streamId, { fromVersion: base + 1, toVersion: record.version - 1 })) {
              started.folder.apply(started.state, earlier);
            }
          }
          current = { machine: next, base, ...started };
        }
      }
      const event = decodeEvent(record);
      current.folder.applyEvent(current.state, event, record);
      yield { record, event, snapshot: current.state.snapshot };
    }
    const got = records.length === 0 ? 0 : records[records.length - 1]!.version;
    if (got < last) return; // the stream ends inside this chunk
    from = got + 1;
  }
}

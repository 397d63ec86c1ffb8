import type { AnyStateMachine } from 'xstate';
import { ActorlogError } from '../errors.ts';
import type { LogStore, NewEvent, StreamRecord, StreamTail } from '../log/types.ts';
import { verifyUpgrade } from '../replay/replay.ts';
import { snapshotBase } from '../replay/segments.ts';
import type { StoredSnapshot } from './journal.ts';
import { machineHash } from './machineHash.ts';
import { UPGRADED_EVENT, type UpgradeData } from './upgradeEvent.ts';

/**
 * What `recover()` does with a stream whose registered machine has another hash than the one the
 * stream runs (a deploy changed the machine's code):
 * - `verify` (default): fold the stream with the new machine and compare it with every snapshot kept
 *   in the log (after the snapshot an earlier `accept` resumed from, if any); equal, the stream goes
 *   on with the new machine and the change is an `actorlog.upgraded` event in it (`UPGRADED_EVENT`,
 *   data `UpgradeData`); different (or no snapshot to compare), `MACHINE_MISMATCH` naming the first
 *   version where they part, told to `onError`, and the stream stays `active`, not resumed;
 * - `refuse`: `MACHINE_MISMATCH` without trying;
 * - `accept`: the stream goes on with the new machine (recorded the same way, with the snapshot it
 *   resumed from) without comparing: a deliberate migration.
 *
 * A change the fold cannot see (the body of an I/O actor) keeps the hash and needs no policy
 * (`machineHash`). `replay()` and `verifyReplay()` follow the upgrades the same way. Set per system
 * or per machine name with `createActorSystem({ onMachineChange })`.
 *
 * @example
 * ```ts
 * createActorSystem({ store, machines: { orders, billing }, onMachineChange: { billing: 'refuse' } });
 * ```
 */
export type MachineChangePolicy = 'verify' | 'refuse' | 'accept';

/**
 * The hash of the machine a stream runs now: its record's, or the `to` of the latest
 * {@link UPGRADED_EVENT} (found in the latest snapshot's payload, or in the events after it).
 */
export async function runningHash(store: LogStore, stream: StreamRecord, tail?: StreamTail): Promise<string> {
  const snapshot = tail ? tail.snapshot : await store.loadSnapshot(stream.streamId);
  let hash = (snapshot?.snapshot as StoredSnapshot | undefined)?.machineHash ?? stream.machine.hash;
  for (const record of tail ? tail.events : await store.readStream(stream.streamId, { fromVersion: (snapshot?.version ?? 0) + 1 })) {
    if (record.type === UPGRADED_EVENT && record.meta.source === 'system') hash = (record.data as UpgradeData).to;
  }
  return hash;
}

/**
 * Checks `machine` against the machine `stream` runs, by `policy`. Returns the upgrade event to
 * append before the stream resumes when its machine changed and the policy lets it go on, or
 * `undefined` when the machine is the one it runs.
 * @throws ActorlogError `MACHINE_MISMATCH` (details: `streamId`, `logged`, `registered`, and for
 *   `verify` the first `version` that differs with its `key`, `live` and `replayed` values)
 */
export async function checkMachineChange(
  store: LogStore,
  stream: StreamRecord,
  machine: AnyStateMachine,
  policy: MachineChangePolicy,
  at: number,
  tail?: StreamTail,
): Promise<NewEvent | undefined> {
  const registered = machineHash(machine);
  // the stream record names the machine it was created with: a later upgrade (then a rollback) is in its log
  const logged = await runningHash(store, stream, tail);
  if (logged === registered) return undefined;
  const name = stream.machine.name;
  const details = { streamId: stream.streamId, logged, registered, policy };
  if (policy === 'refuse') {
    throw new ActorlogError(
      'MACHINE_MISMATCH',
      `stream ${stream.streamId} was written by another definition of "${name}" (${logged}, now ${registered}); onMachineChange is 'refuse'`,
      { details },
    );
  }
  let checked = 0;
  if (policy === 'verify') {
    const result = await verifyUpgrade(store, machine, stream);
    const first = result.differences[0];
    if (first) {
      throw new ActorlogError(
        'MACHINE_MISMATCH',
        `stream ${stream.streamId}: the new definition of "${name}" (${registered}) folds its log differently from the one that wrote it (${logged}): first at version ${first.version} (${first.key}); not resumed. Fix the machine, or recover with onMachineChange 'accept' for a deliberate migration`,
        {
          details: { ...details, version: first.version, key: first.key, live: first.live, replayed: first.replayed },
        },
      );
    }
    if (result.nothingToCompare) {
      throw new ActorlogError(
        'MACHINE_MISMATCH',
        `stream ${stream.streamId}: "${name}" changed (${logged}, now ${registered}) and the log keeps no snapshot to verify the new definition against; not resumed (onMachineChange 'accept' resumes it unverified)`,
        {
          details: { ...details, checked: 0 },
        },
      );
    }
    checked = result.checked;
  }
  const data: UpgradeData = { from: logged, to: registered, policy, checked };
  // where recovery's fold starts the new machine (its latest snapshot), so a replay hands over there too
  if (policy === 'accept') data.resumedFrom = await snapshotBase(store, stream.streamId);
  return { type: UPGRADED_EVENT, data, meta: { source: 'system', recordedAt: at } };
}

import type { EventRecord, LogStore, StreamRecord } from '../log/types.ts';
import type { StoredSnapshot } from '../runtime/journal.ts';
import { UPGRADED_EVENT, type UpgradeData } from '../runtime/upgradeEvent.ts';

/**
 * One stretch of a stream run by one machine: from its first version (1, or the version of the
 * `actorlog.upgraded` event that switched to it) to the next upgrade.
 */
export interface MachineSegment {
  /** The machine hash that ran it. */
  hash: string;
  /** Its first version. */
  from: number;
  /**
   * The version of the stored snapshot its machine folds from (0: the stream's input). A `verify`
   * upgrade keeps the base of the segment before (the new machine was checked against the whole
   * log from there); an `accept` upgrade starts from the snapshot recovery resumed from.
   */
  base: number;
  /** How the stream came to this machine: undefined for the first segment. */
  policy?: UpgradeData['policy'];
}

/** True for the event recovery appends when a stream goes on with a changed machine. */
export const isUpgrade = (record: EventRecord): boolean => record.type === UPGRADED_EVENT && record.meta.source === 'system';

/** The version of the snapshot a fold of `streamId` starts from: its latest at or before `version` (all: its latest); 0 when none is usable. */
export async function snapshotBase(store: LogStore, streamId: string, version?: number): Promise<number> {
  const saved = await store.loadSnapshot(streamId, version);
  const payload = saved?.snapshot as StoredSnapshot | undefined;
  return payload?.state && payload.bookkeeping ? saved!.version : 0;
}

/**
 * The machines a stream ran, in order, from its record and its `actorlog.upgraded` events. An
 * `accept` upgrade written before `resumedFrom` was recorded gets the latest snapshot before it.
 */
export async function machineSegments(store: LogStore, stream: StreamRecord, records: readonly EventRecord[]): Promise<MachineSegment[]> {
  const segments: MachineSegment[] = [{ hash: stream.machine.hash, from: 1, base: 0 }];
  for (const record of records) {
    if (!isUpgrade(record)) continue;
    const data = record.data as UpgradeData;
    const base =
      data.policy === 'accept' ? (data.resumedFrom ?? (await snapshotBase(store, stream.streamId, record.version - 1))) : segments[segments.length - 1]!.base;
    segments.push({ hash: data.to, from: record.version, base, policy: data.policy });
  }
  return segments;
}

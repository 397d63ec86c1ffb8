/**
 * The type of the event (source `system`) recovery appends when a stream goes on with a changed
 * machine (`onMachineChange` `verify` or `accept`); its data is an {@link UpgradeData}. The fold skips
 * it; `replay()` folds the versions after it with the new machine (issue 15 item 12).
 * @example
 * ```ts
 * const upgrades = (await store.readStream('o-1')).filter((r) => r.type === UPGRADED_EVENT && r.meta.source === 'system');
 * ```
 */
export const UPGRADED_EVENT = 'actorlog.upgraded';

/**
 * The data of an {@link UPGRADED_EVENT} record: which machine hash the stream leaves and which it
 * runs from that version on, and how the change was allowed.
 * @example
 * ```ts
 * const { from, to, policy } = record.data as UpgradeData; // '1f0c…', '9ab2…', 'verify'
 * ```
 */
export interface UpgradeData {
  /** The hash the stream ran until this event. */
  from: string;
  /** The hash it runs from this event on. */
  to: string;
  /** How the change was allowed: compared with the kept snapshots (`verify`) or not (`accept`). */
  policy: 'verify' | 'accept';
  /** How many snapshots were compared (`verify`). */
  checked: number;
  /**
   * `accept`: the stream version of the snapshot the new machine resumed from (0: from the stream's
   * input, folding the whole log), so a replay hands the stream over where recovery did.
   */
  resumedFrom?: number;
}

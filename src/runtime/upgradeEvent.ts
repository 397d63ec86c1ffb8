/** The type of the event (source `system`) recovery appends when a stream goes on with a changed machine. */
export const UPGRADED_EVENT = 'actorlog.upgraded';

/** The data of an {@link UPGRADED_EVENT} record. */
export interface UpgradeData {
  /** The hash the stream ran until this event. */
  from: string;
  /** The hash it runs from this event on. */
  to: string;
  /** How the change was allowed: compared with the kept snapshots (`verify`) or not (`accept`). */
  policy: 'verify' | 'accept';
  /** How many snapshots were compared (`verify`). */
  checked: number;
}

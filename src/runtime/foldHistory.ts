import type { AnyMachineSnapshot } from 'xstate';

/**
 * The last `size` snapshots of one actor before an event, by the event's version: what a fold puts
 * back when the log says the actor threw on that event (`actorlog.failed`). A ring, filled as events
 * come (recovery makes one per stream, most of which fold a few events): remembering one costs two
 * stores, with nothing shifted per event.
 *
 * @example
 * ```ts
 * const history = new FoldHistory(32);
 * history.remember(7, snapshotBefore7);
 * history.before(7); // snapshotBefore7, until 32 later events pushed it out
 * ```
 */
export class FoldHistory {
  private readonly versions: number[] = [];
  private readonly snapshots: AnyMachineSnapshot[] = [];
  /** Where the next one goes once the ring is full: the oldest kept (0 until then, where the oldest is). */
  private next = 0;

  constructor(private readonly size: number) {}

  remember(version: number, before: AnyMachineSnapshot): void {
    if (this.versions.length < this.size) {
      this.versions.push(version);
      this.snapshots.push(before);
      return;
    }
    this.versions[this.next] = version;
    this.snapshots[this.next] = before;
    this.next = this.next + 1 === this.size ? 0 : this.next + 1;
  }

  /** The snapshot before the event at `version` (the oldest kept, if one was applied twice); undefined when not kept. */
  before(version: number): AnyMachineSnapshot | undefined {
    const kept = this.versions.length;
    for (let k = 0; k < kept; k++) {
      const i = (this.next + k) % kept;
      if (this.versions[i] === version) return this.snapshots[i];
    }
    return undefined;
  }
}

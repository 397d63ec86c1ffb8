import type { AnyMachineSnapshot } from 'xstate';

/**
 * The last `size` snapshots of one actor before an event, by the event's version: what a fold puts
 * back when the log says the actor threw on that event (`actorlog.failed`). A ring: remembering one
 * costs two stores, with nothing allocated or shifted per event.
 *
 * @example
 * ```ts
 * const history = new FoldHistory(32);
 * history.remember(7, snapshotBefore7);
 * history.before(7); // snapshotBefore7, until 32 later events pushed it out
 * ```
 */
export class FoldHistory {
  private readonly versions: number[];
  private readonly snapshots: Array<AnyMachineSnapshot | undefined>;
  /** Where the next one goes: the oldest kept once the ring is full. */
  private next = 0;

  constructor(private readonly size: number) {
    this.versions = Array.from({ length: size }, () => -1);
    this.snapshots = Array.from({ length: size }, () => undefined);
  }

  remember(version: number, before: AnyMachineSnapshot): void {
    this.versions[this.next] = version;
    this.snapshots[this.next] = before;
    this.next = this.next + 1 === this.size ? 0 : this.next + 1;
  }

  /** The snapshot before the event at `version` (the oldest kept, if one was applied twice); undefined when not kept. */
  before(version: number): AnyMachineSnapshot | undefined {
    for (let k = 0; k < this.size; k++) {
      const i = (this.next + k) % this.size;
      if (this.versions[i] === version) return this.snapshots[i];
    }
    return undefined;
  }
}

import { VirtualTimeScheduler } from 'rxjs';

/** Runs every action of `scheduler` due within the next `ms` (virtual), in order, then sets its clock to now + ms. */
export function advance(scheduler: VirtualTimeScheduler, ms: number): void {
  const target = scheduler.frame + ms;
  scheduler.maxFrames = target;
  scheduler.flush();
  scheduler.frame = target;
}

/** A VirtualTimeScheduler whose clock the test moves: `advance(ms)` runs what falls due, in order. */
export function virtualTime() {
  const scheduler = new VirtualTimeScheduler();
  return {
    scheduler,
    /** Runs every action due within the next `ms` (virtual), then sets the clock to now + ms. */
    advance: (ms: number) => advance(scheduler, ms),
    /** Lets promises and I/O callbacks run (one macrotask turn). */
    settle: () => new Promise<void>((resolve) => setImmediate(resolve)),
  };
}

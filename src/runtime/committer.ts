import type { LogStore } from '../log/types.ts';

/**
 * How journaled writes reach the store.
 * - `each` (default): every event is appended in its own transaction before the actor's transition;
 *   a crash loses nothing the actor acted on.
 * - `tick`: writes made during one synchronous run of JavaScript (a microtask tick) are committed
 *   together in one transaction at its end (group commit). Throughput is far higher; the trade-off
 *   is that a crash inside that tick loses the tick's events although the actors already made
 *   their transitions for them (effects they started are re-run after recovery, at-least-once).
 */
export type CommitMode = 'each' | 'tick';

/** Runs store writes now (`each`) or at the end of the tick in one transaction (`tick`). */
export interface Committer {
  /** Runs `write` (now or at the end of the tick); `onError` is called if it, or its batch, fails. */
  write(write: () => void, onError: (err: unknown) => void): void;
  /** Commits what is pending now (tick mode); a no-op in each mode. */
  flush(): void;
}

/** Creates the committer of a system for `mode`. */
export function createCommitter(store: LogStore, mode: CommitMode): Committer {
  if (mode === 'each') {
    return {
      write(write, onError) {
        try {
          write();
        } catch (err) {
          onError(err);
        }
      },
      flush() {},
    };
  }
  let pending: Array<{ write: () => void; onError: (err: unknown) => void }> = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    try {
      store.transaction(() => {
        // Each write in its own savepoint: one bad write stops only the actor that made it.
        for (const item of batch) {
          try {
            store.transaction(item.write);
          } catch (err) {
            item.onError(err);
          }
        }
      });
    } catch (err) {
      for (const item of batch) item.onError(err);
    }
  };
  return {
    write(write, onError) {
      pending.push({ write, onError });
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(flush);
      }
    },
    flush,
  };
}

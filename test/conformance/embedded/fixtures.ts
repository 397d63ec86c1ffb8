import type { StreamRecord } from '../../../src/log/types.ts';
import type { ErrorCode } from '../../../src/errors.ts';
import type { MemoryStore } from '../../../stores/memory.ts';
import type { SqliteStore } from '../../../stores/sqlite/store.ts';
import { checkCoded, machine } from '../store/fixtures.ts';

export { event, events, ids, machine, positions } from '../store/fixtures.ts';

/** The stores whose methods answer at once (see `Awaitable`), with a `transaction()` of their own: SQLite and memory. */
export type EmbeddedStore = MemoryStore | SqliteStore;

/** The embedded store of the running test (a fresh one per test, closed after it). */
export type GetEmbeddedStore = () => EmbeddedStore;

/** Creates stream `streamId` created at `createdAt` ms (default 100), at once. */
export function createStream(store: EmbeddedStore, streamId: string, createdAt = 100, input: unknown = { id: streamId }): StreamRecord {
  return store.createStream({ streamId, machine, input, createdAt });
}

/**
 * Runs `fn`, which must throw at once (inside a transaction's callback, say) an ActorlogError with
 * `code` (and `details` containing `details`); returns it. The asynchronous twin is `expectCode` of
 * ../store/fixtures.ts.
 */
export function expectCode(fn: () => unknown, code: ErrorCode, details?: Record<string, unknown>) {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  return checkCoded(thrown, code, details);
}

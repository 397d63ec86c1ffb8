import { afterEach, beforeEach, describe } from 'vitest';
import type { EmbeddedStore as LogStore } from './embeddedStore.ts';
import { appendSpecs } from './logStore/appends.ts';
import { definitionSpecs } from './logStore/definitions.ts';
import { snapshotSpecs } from './logStore/snapshots.ts';
import { streamSpecs } from './logStore/streams.ts';
import { subscribeSpecs } from './logStore/subscribe.ts';
import { transactionSpecs } from './logStore/transactions.ts';

/** The store options every store takes (each store's own options are tested next to it). */
export interface ConformanceOptions {
  /** Snapshots kept per stream (default 10; 0 or `Infinity`: all). */
  keepSnapshots?: number;
}

/** Makes a fresh, empty store for one test, with `options` when given. The suite closes it after the test. */
export type LogStoreFactory = (options?: ConformanceOptions) => LogStore | Promise<LogStore>;

/**
 * The conformance suite of the {@link LogStore} contract (src/log/types.ts): every store runs it,
 * from its own test file, with a factory of fresh empty stores. Store-specific behaviour (files,
 * pragmas, other processes) is tested next to the call, not here.
 *
 * Covers: streams (create, get, list by creation and status, STREAM_EXISTS, status, derived version
 * and updatedAt, closed store), appends (versions, global positions, VERSION_CONFLICT stale and
 * ahead, STREAM_NOT_FOUND, empty appends, APPEND_FAILED, JSON round-trip and copies), reads
 * (readStream ranges, readAll order/after/limit/streamId, headPosition), appendBatch atomicity, transactions
 * (rollback, nesting), snapshots (listSnapshots, pruning to keepSnapshots), checkpoints, machine definitions
 * (first saved kept per hash, copies, rollback) and subscribe (on virtual time: no real sleeps).
 *
 * @param name shown in the test titles, e.g. `'sqlite'`
 * @param factory returns a fresh empty store for each test
 * @example
 * ```ts
 * // test/conformance/memory.test.ts
 * import { createMemoryStore } from '../../stores/memory.ts';
 * import { logStoreConformance } from './logStore.ts';
 * logStoreConformance('memory', () => createMemoryStore());
 * ```
 */
export function logStoreConformance(name: string, factory: LogStoreFactory): void {
  describe(`LogStore conformance: ${name}`, () => {
    let store: LogStore | undefined;
    const get = (): LogStore => {
      if (store === undefined) throw new Error('no store: the factory has not run');
      return store;
    };
    beforeEach(async () => {
      store = await factory();
    });
    afterEach(() => {
      store?.close();
      store = undefined;
    });

    streamSpecs(get);
    appendSpecs(get);
    transactionSpecs(get);
    snapshotSpecs(get, factory);
    subscribeSpecs(get);
    definitionSpecs(get);
  });
}

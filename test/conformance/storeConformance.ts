import { afterEach, beforeEach, describe } from 'vitest';
import type { LogStore } from '../../src/log/types.ts';
import { appendSpecs } from './store/appends.ts';
import { batchSpecs } from './store/batches.ts';
import { checkpointSpecs } from './store/checkpoints.ts';
import { definitionSpecs } from './store/definitions.ts';
import { inboxSpecs } from './store/inbox.ts';
import { passivationSpecs } from './store/passivation.ts';
import { snapshotSpecs } from './store/snapshots.ts';
import { streamSpecs } from './store/streams.ts';
import { subscribeSpecs } from './store/subscribe.ts';

/** The store options every store takes (each store's own options are tested next to it). */
export interface ConformanceOptions {
  /** Snapshots kept per stream (default 10; 0 or `Infinity`: all). */
  keepSnapshots?: number;
}

/** Makes a fresh, empty store for one test, with `options` when given. The suite closes it after the test. */
export type StoreFactory = (options?: ConformanceOptions) => Promise<LogStore>;

/**
 * The conformance suite of the asynchronous store contract (src/log/types.ts): every store runs it from its
 * own test file with a factory of fresh empty stores; every call is awaited. Store-specific behaviour
 * (files, servers, other processes, ownership) is tested next to the store.
 *
 * Covers: streams (create, get, list, STREAM_EXISTS, status, derived version and updatedAt, closed
 * store), appends (versions, positions, VERSION_CONFLICT stale/ahead/concurrent, STREAM_NOT_FOUND,
 * empty appends, APPEND_FAILED, JSON round-trip and copies), reads (readStream ranges, readAll
 * order/after/limit/streamId, LogCursor resume, headPosition), appendBatch and write (one
 * transaction, all or none, the contract's order), snapshots (pruning, inside a failed batch),
 * checkpoints (compare-and-set), definitions, the inbox (duplicates ignored, consumed with the
 * append), passivation (resident and sleeping lists, wake by id and by due time), and subscribe (catch-up then live, position and cursor, filters, failed batches).
 * Positions are asserted exactly only where no write was rolled back (PostgreSQL leaves holes).
 *
 * @param name shown in the test titles, e.g. `'postgres'`
 * @param factory returns a fresh empty store for each test
 * @example
 * ```ts
 * storeConformance('postgres', (options) => openPostgresStore(url, { ...options, schema: nextSchema() }));
 * ```
 */
export function storeConformance(name: string, factory: StoreFactory): void {
  describe(`store conformance: ${name}`, () => {
    let store: LogStore | undefined;
    const get = (): LogStore => {
      if (store === undefined) throw new Error('no store: the factory has not run');
      return store;
    };
    beforeEach(async () => {
      store = await factory();
    });
    afterEach(async () => {
      await store?.close();
      store = undefined;
    });

    streamSpecs(get);
    passivationSpecs(get);
    appendSpecs(get);
    batchSpecs(get);
    snapshotSpecs(get, factory);
    checkpointSpecs(get);
    definitionSpecs(get);
    inboxSpecs(get);
    subscribeSpecs(get);
  });
}

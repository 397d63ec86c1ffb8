import { afterEach, beforeEach, describe } from 'vitest';
import { embeddedSubscribeSpecs } from './embedded/subscribe.ts';
import { transactionSpecs } from './embedded/transactions.ts';
import type { EmbeddedStore } from './embedded/fixtures.ts';
import type { ConformanceOptions } from './storeConformance.ts';

/**
 * What the embedded stores (SQLite, memory) share beyond the store contract, which
 * `storeConformance` (./storeConformance.ts) checks on every store: their own `transaction(fn)` (rollback, nesting)
 * and the synchronous side of `subscribe()` (delivery inside the committing call, nothing read in an
 * open transaction, the poll timer on a virtual-time scheduler).
 *
 * @param name shown in the test titles, e.g. `'sqlite'`
 * @param factory returns a fresh empty store for each test; the suite closes it after the test
 * @example
 * ```ts
 * embeddedConformance('memory', (options) => createMemoryStore(options));
 * ```
 */
export function embeddedConformance(name: string, factory: (options?: ConformanceOptions) => EmbeddedStore): void {
  describe(`embedded store conformance: ${name}`, () => {
    let store: EmbeddedStore | undefined;
    const get = (): EmbeddedStore => {
      if (store === undefined) throw new Error('no store: the factory has not run');
      return store;
    };
    beforeEach(() => {
      store = factory();
    });
    afterEach(() => {
      store?.close();
      store = undefined;
    });

    transactionSpecs(get);
    embeddedSubscribeSpecs(get);
  });
}

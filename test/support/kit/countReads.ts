import type { LogStore } from '../../../src/log/types.ts';

/**
 * `store` with a count of the events its `readStream` returned, so a test can hold a reader (a fold,
 * the viewer) to a bound on what it reads. `reset()` starts the count again.
 */
export function countReads<T extends LogStore>(store: T): { store: T; reads: () => number; reset: () => void } {
  let reads = 0;
  const counted = new Proxy(store, {
    get(target, key) {
      if (key === 'readStream') {
        return async (id: string, range?: { fromVersion?: number; toVersion?: number }) => {
          const records = await target.readStream(id, range);
          reads += records.length;
          return records;
        };
      }
      return Reflect.get(target, key) as unknown;
    },
  });
  return { store: counted, reads: () => reads, reset: () => (reads = 0) };
}

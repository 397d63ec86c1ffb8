/** Default of `versionCacheSize` (openSqliteStore): 4096 streams. */
export const DEFAULT_VERSION_CACHE_SIZE = 4096;

/**
 * The SQLite store's cache of stream versions (streamId -> current version), bounded to `capacity`
 * entries, least recently written first out. Every `set` makes its stream the most recent (the
 * append path sets after each append, so a stream being written stays); when full, `set` drops the
 * least recently written one. A dropped stream is a miss, and a miss only costs one version read
 * on its next append (appendToStream.ts), so the bound never changes a result.
 *
 * A `Map` keeps insertion order, so moving a key to the end is a delete and a set: no library and
 * no per-entry object on the append path.
 *
 * @example
 * ```ts
 * const cache = new VersionCache(2);
 * cache.set('a', 1); cache.set('b', 4); cache.set('c', 0); // 'a' is dropped
 * cache.get('a'); // undefined (the store re-reads it)
 * cache.size; // 2
 * ```
 */
export class VersionCache {
  /** The most entries kept (a positive integer). */
  readonly capacity: number;
  private readonly map = new Map<string, number>();

  /** @param capacity the most entries kept, an integer >= 1 */
  constructor(capacity: number = DEFAULT_VERSION_CACHE_SIZE) {
    this.capacity = capacity;
  }

  /** How many streams are cached now (at most `capacity`). */
  get size(): number {
    return this.map.size;
  }

  get(streamId: string): number | undefined {
    return this.map.get(streamId);
  }

  /** Caches `version` as the stream's current one and makes it the most recently written. */
  set(streamId: string, version: number): void {
    const map = this.map;
    if (!map.delete(streamId) && map.size >= this.capacity) map.delete(map.keys().next().value!);
    map.set(streamId, version);
  }

  delete(streamId: string): void {
    this.map.delete(streamId);
  }

  clear(): void {
    this.map.clear();
  }
}

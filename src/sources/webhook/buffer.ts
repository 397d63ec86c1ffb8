/** Bounds of a {@link KeyedBuffer}. */
export interface KeyedBufferLimits {
  /** How long an entry is kept, ms. @default 60000 */
  ttlMs: number;
  /** Entries kept per key. @default 64 */
  maxPerKey: number;
  /** Keys kept at once. @default 1024 */
  maxKeys: number;
  /** Bytes kept over all keys. @default 8388608 (8 MiB) */
  maxBytes: number;
}

/** The defaults of {@link KeyedBufferLimits}. */
export const DEFAULT_BUFFER_LIMITS: KeyedBufferLimits = { ttlMs: 60_000, maxPerKey: 64, maxKeys: 1024, maxBytes: 8 * 1024 * 1024 };

/** Why {@link KeyedBuffer.push} refused an entry. */
export type BufferRefusal = 'key-full' | 'keys-full' | 'bytes-full';

interface Entry<T> {
  value: T;
  at: number;
  bytes: number;
}

/**
 * Entries held by key for a bounded time and size, for a consumer that has not subscribed yet: a
 * webhook that arrives before its job has read the 202 that names it waits here until
 * the job's follower takes it. Pure bookkeeping: no timers; time is passed in (`now`, ms), and
 * expired entries are dropped on every call.
 *
 * @example
 * ```ts
 * const buffer = new KeyedBuffer<string>({ ...DEFAULT_BUFFER_LIMITS, ttlMs: 1000 });
 * buffer.push('job-1', 'payload', 7, clock.now());   // undefined = kept
 * buffer.take('job-1', clock.now());                 // ['payload'], and the key is emptied
 * ```
 */
export class KeyedBuffer<T> {
  private readonly entries = new Map<string, Array<Entry<T>>>();
  private bytes = 0;
  /** Entries dropped because they outlived `ttlMs`. */
  expired = 0;

  constructor(private readonly limits: KeyedBufferLimits = DEFAULT_BUFFER_LIMITS) {}

  /**
   * Keeps `value` (of `bytes` bytes) under `key`, or says why not. Never evicts kept entries:
   * a refusal tells the sender to retry later (the receiver answers 503).
   */
  push(key: string, value: T, bytes: number, now: number): BufferRefusal | undefined {
    this.purge(now);
    const list = this.entries.get(key);
    if (!list && this.entries.size >= this.limits.maxKeys) return 'keys-full';
    if (list && list.length >= this.limits.maxPerKey) return 'key-full';
    if (this.bytes + bytes > this.limits.maxBytes) return 'bytes-full';
    const entry = { value, at: now, bytes };
    if (list) list.push(entry);
    else this.entries.set(key, [entry]);
    this.bytes += bytes;
    return undefined;
  }

  /** Removes and returns the live entries of `key`, oldest first. */
  take(key: string, now: number): T[] {
    this.purge(now);
    const list = this.entries.get(key);
    if (!list) return [];
    this.entries.delete(key);
    for (const e of list) this.bytes -= e.bytes;
    return list.map((e) => e.value);
  }

  /** Entries and bytes held now, over all keys. */
  size(now: number): { keys: number; entries: number; bytes: number } {
    this.purge(now);
    let entries = 0;
    for (const list of this.entries.values()) entries += list.length;
    return { keys: this.entries.size, entries, bytes: this.bytes };
  }

  /** Drops everything. */
  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private purge(now: number): void {
    const oldest = now - this.limits.ttlMs;
    for (const [key, list] of this.entries) {
      let drop = 0;
      while (drop < list.length && list[drop].at <= oldest) {
        this.bytes -= list[drop].bytes;
        drop++;
      }
      if (drop === 0) continue;
      this.expired += drop;
      if (drop === list.length) this.entries.delete(key);
      else list.splice(0, drop);
    }
  }
}

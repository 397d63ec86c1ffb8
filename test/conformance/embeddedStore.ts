import type { MemoryStore } from '../../stores/memory.ts';
import type { SqliteStore } from '../../stores/sqlite/store.ts';

/** The stores this suite runs on today: their methods answer at once (the contract allows it, see `Awaitable`). */
export type EmbeddedStore = MemoryStore | SqliteStore;

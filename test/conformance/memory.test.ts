import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../stores/memory.ts';
import { logStoreConformance } from './logStore.ts';
import { storeConformance } from './storeConformance.ts';

logStoreConformance('memory', (options) => createMemoryStore(options));
storeConformance('memory', async (options) => createMemoryStore(options));

describe('memory store', () => {
  it('keeps stores apart: no shared module state', () => {
    const a = createMemoryStore();
    const b = createMemoryStore();
    a.createStream({ streamId: 's', machine: { name: 'm', hash: 'h' }, input: null, createdAt: 1 });
    expect(b.getStream('s')).toBeUndefined();
    expect(b.headPosition()).toBe(0);
  });
});

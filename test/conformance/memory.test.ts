import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../stores/memory.ts';
import { embeddedConformance } from './embeddedConformance.ts';
import { storeConformance } from './storeConformance.ts';

storeConformance('memory', async (options) => createMemoryStore(options));
embeddedConformance('memory', (options) => createMemoryStore(options));

describe('memory store', () => {
  it('keeps stores apart: no shared module state', () => {
    const a = createMemoryStore();
    const b = createMemoryStore();
    a.createStream({ streamId: 's', machine: { name: 'm', hash: 'h' }, input: null, createdAt: 1 });
    expect(b.getStream('s')).toBeUndefined();
    expect(b.headPosition()).toBe(0);
  });
});

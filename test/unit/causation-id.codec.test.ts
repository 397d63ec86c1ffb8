/**
 * The causation id of a message between journaled actors (src/log/causationId.ts): what the runtime
 * writes, the CLI's inspect and the viewer read back, with a `:` in a stream id or in a child's id.
 */
import { describe, expect, it } from 'vitest';
import { causationIdForms, formatCausationId, parseCausationId } from '../../src/log/causationId.ts';

describe('the causation id codec', () => {
  it('reads back what it writes: sender stream, version, path and send index, with a colon in the stream id or the path', () => {
    for (const c of [
      { streamId: 'order-1', version: 12, path: '', index: 0 },
      { streamId: 'order-1', version: 3, path: 'worker/sub', index: 2 },
      { streamId: 'batch-1.job-07', version: 1, path: 'w%2Fq', index: 1 },
      { streamId: 'tenant:a:order-1', version: 7, path: 'worker', index: 1 },
      { streamId: 'job:7', version: 3, path: '', index: 0 },
      { streamId: 'order-1', version: 4, path: 'x:9:y', index: 0 },
      { streamId: 'tenant:7', version: 4, path: 'a:1/b:2', index: 3 },
      { streamId: 'order-1', version: 4, path: 'id%253A', index: 0 },
    ])
      expect(parseCausationId(formatCausationId(c))).toEqual(c);
  });

  it('writes a path without a colon as the runtime always did, and escapes a colon in a path', () => {
    expect(formatCausationId({ streamId: 'tenant:a', version: 3, path: 'worker/sub', index: 0 })).toBe('tenant:a:3:worker/sub:0');
    expect(formatCausationId({ streamId: 'order-1', version: 3, path: 'a:b', index: 1 })).toBe('order-1:3:a%3Ab:1');
  });

  it('reads an id written before paths escaped their colons, settled by the streams the log has', () => {
    expect(parseCausationId('order-1:4:a:b:0')).toEqual({ streamId: 'order-1', version: 4, path: 'a:b', index: 0 });
    expect(parseCausationId('order-1:4:x:9:y:0', (s) => s === 'order-1')).toEqual({ streamId: 'order-1', version: 4, path: 'x:9:y', index: 0 });
    expect(causationIdForms('order-1:4:a%3Ab:0')).toEqual(['order-1:4:a%3Ab:0', 'order-1:4:a:b:0']);
    expect(causationIdForms('order-1:4:worker:0')).toEqual(['order-1:4:worker:0']);
  });

  it('is undefined for what is not a causation id (an application send id)', () => {
    for (const id of ['', 'order-1', 'order-1:7', 'a:b:c:d', '3f1c2a9e-7b7d-4f5e-9c1a-2d7b3e4f5a6b']) expect(parseCausationId(id)).toBeUndefined();
  });
});

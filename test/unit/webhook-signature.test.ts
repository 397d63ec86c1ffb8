/** Webhook signatures (HMAC-SHA256) and the receiver's buffer, bounded by time and size: no socket (the receiver itself: test/integration/webhook-receiver.test.ts). */
import { describe, expect, it } from 'vitest';
import { KeyedBuffer, signBody, verifySignature } from '../../src/sources/webhook/index.ts';

const SECRET = 'whsec-unit-test';
const body = Buffer.from('{"job_id":"j-1","state":"running"}');

describe('webhook signature (HMAC-SHA256, constant-time)', () => {
  it('verifies a good signature and rejects a bad, missing, short or non-hex one', () => {
    const good = signBody(SECRET, body);
    expect(good).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature(SECRET, body, good)).toBe('verified');
    expect(verifySignature(SECRET, body, [good])).toBe('verified');
    expect(verifySignature(SECRET, Buffer.concat([body, Buffer.from(' ')]), good)).toBe('bad-signature');
    expect(verifySignature(`${SECRET}x`, body, good)).toBe('bad-signature');
    expect(verifySignature(SECRET, body, undefined)).toBe('missing-signature');
    expect(verifySignature(SECRET, body, '')).toBe('missing-signature');
    expect(verifySignature(SECRET, body, good.slice(0, -2))).toBe('bad-signature');
    expect(verifySignature(SECRET, body, `sha256=${'z'.repeat(64)}`)).toBe('bad-signature');
    expect(verifySignature(SECRET, body, good.replace('sha256=', 'sha1='))).toBe('bad-signature');
    expect(verifySignature(undefined, body, undefined)).toBe('unsigned');
  });
});

describe('KeyedBuffer (bounded by time and size)', () => {
  it('keeps entries per key until taken, drops them after ttlMs, and refuses past its limits', () => {
    const buffer = new KeyedBuffer<string>({ ttlMs: 1_000, maxPerKey: 2, maxKeys: 2, maxBytes: 100 });
    expect(buffer.push('a', 'a1', 10, 0)).toBeUndefined();
    expect(buffer.push('a', 'a2', 10, 500)).toBeUndefined();
    expect(buffer.push('a', 'a3', 10, 600)).toBe('key-full');
    expect(buffer.push('b', 'b1', 10, 600)).toBeUndefined();
    expect(buffer.push('c', 'c1', 10, 600)).toBe('keys-full');
    expect(buffer.push('b', 'b2', 200, 600)).toBe('bytes-full');
    expect(buffer.size(600)).toEqual({ keys: 2, entries: 3, bytes: 30 });
    expect(buffer.size(1_000)).toEqual({ keys: 2, entries: 2, bytes: 20 }); // a1 expired
    expect(buffer.expired).toBe(1);
    expect(buffer.take('a', 1_000)).toEqual(['a2']);
    expect(buffer.take('a', 1_000)).toEqual([]);
    expect(buffer.take('b', 1_700)).toEqual([]); // b1 expired
    expect(buffer.size(1_700)).toEqual({ keys: 0, entries: 0, bytes: 0 });
  });
});

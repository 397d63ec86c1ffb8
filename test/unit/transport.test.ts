import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/transport/backoff.ts';
import { httpStatusError, invalidPayload, MAX_RAW_BYTES, networkError, truncateRaw } from '../../src/transport/classify.ts';
import { ActorlogError } from '../../src/errors.ts';
import { DEFAULT_JSON_LIMITS, exceedsJsonDepth, parseJson } from '../../src/transport/boundedJson.ts';
import { keepRawBytes } from '../../src/transport/rawBytes.ts';

describe('transport error classification', () => {
  it('classifies 5xx, 429 and 408 as TRANSIENT and other 4xx as PERMANENT', () => {
    expect([500, 503, 429, 408].map((s) => httpStatusError('x', s).code)).toEqual(['TRANSIENT', 'TRANSIENT', 'TRANSIENT', 'TRANSIENT']);
    expect([400, 401, 403, 404, 410].map((s) => httpStatusError('x', s).code)).toEqual(['PERMANENT', 'PERMANENT', 'PERMANENT', 'PERMANENT', 'PERMANENT']);
    expect(httpStatusError('molecule register', 401).details).toEqual({ status: 401 });
  });

  it('makes network failures TRANSIENT, aborts ABORTED, and passes ActorlogErrors through', () => {
    expect(networkError('x', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })).code).toBe('TRANSIENT');
    expect(networkError('x', Object.assign(new Error('stop'), { name: 'AbortError' })).code).toBe('ABORTED');
    const own = new ActorlogError('PERMANENT', 'no');
    expect(networkError('x', own)).toBe(own);
  });

  it('keeps at most 4 KiB of a bad payload', () => {
    const err = invalidPayload('x', 'y'.repeat(10_000), 'not JSON');
    expect(err.code).toBe('INVALID_PAYLOAD');
    expect((err.details!.raw as string).length).toBe(MAX_RAW_BYTES);
  });
});

describe('backoff', () => {
  it('doubles from the base, adds bounded jitter, and caps at 60 s', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, { baseMs: 100, random: () => 0 }))).toEqual([100, 200, 400, 800]);
    expect(backoffDelay(1, { baseMs: 100, random: () => 0.999 })).toBe(120);
    expect(backoffDelay(30, { random: () => 0.5 })).toBe(60_000);
  });
});

describe('bounded JSON parse', () => {
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  it('accepts JSON within the bounds and refuses deeper or larger payloads before JSON.parse, never throwing', () => {
    expect(parseJson('{"a":[1,{"b":2}]}')).toEqual({ ok: true, value: { a: [1, { b: 2 }] } });
    expect(parseJson(deep(64))).toMatchObject({ ok: true });
    expect(parseJson(deep(65))).toMatchObject({ ok: false, reason: 'too-deep', error: 'payload nested too deep (> maxDepth 64)' });
    expect(parseJson(deep(100_000))).toMatchObject({ ok: false, reason: 'too-deep' });
    expect(parseJson(deep(10), { maxDepth: 9 })).toMatchObject({ ok: false, reason: 'too-deep' });
    expect(parseJson(`"${'é'.repeat(600)}"`, { maxBytes: 1_000 })).toMatchObject({
      ok: false,
      reason: 'too-large',
      error: 'payload too large (1202 bytes > maxBytes 1000)',
    });
    expect(parseJson(`"${'e'.repeat(998)}"`, { maxBytes: 1_000 })).toMatchObject({ ok: true });
    expect(parseJson('{"a":')).toMatchObject({ ok: false, reason: 'not-json', raw: '{"a":' });
    expect(() => parseJson('1', { maxDepth: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });

  it('counts only brackets outside strings, escapes included', () => {
    expect(exceedsJsonDepth('["[[[[", "\\"[[[["]', 1)).toBe(false);
    expect(exceedsJsonDepth('[["\\\\"]]', 1)).toBe(true);
    expect(DEFAULT_JSON_LIMITS).toEqual({ maxDepth: 64, maxBytes: 1024 * 1024 });
  });

  it('keeps the raw text of a refused payload scrubbed and cut, a credential 40 levels deep included', () => {
    const text = '{"a":'.repeat(40) + '{"authorization":"Bearer sk-deep-secret"}' + '}'.repeat(40);
    const r = parseJson(text, { maxDepth: 32 });
    expect(r).toMatchObject({ ok: false, reason: 'too-deep' });
    expect(!r.ok && r.raw).toContain('"authorization":"Bearer [redacted]"');
    expect(!r.ok && r.raw).not.toContain('sk-deep-secret');
    const big = parseJson(`["${'x'.repeat(MAX_RAW_BYTES * 4)}"]`, { maxBytes: MAX_RAW_BYTES });
    expect(!big.ok && big.raw.length).toBe(MAX_RAW_BYTES);
  });

  it('keeps bytes as base64 (3 KiB at most) with the length, or as scrubbed text when they hold a credential form', () => {
    expect(keepRawBytes(Buffer.from([0, 1, 2]))).toEqual({ encoding: 'base64', raw: 'AAEC', byteLength: 3 });
    const large = keepRawBytes(Buffer.alloc(10_000, 7));
    expect([large.encoding, large.raw.length, large.byteLength]).toEqual(['base64', MAX_RAW_BYTES, 10_000]);
    const secret = keepRawBytes(Buffer.concat([Buffer.from([0xff]), Buffer.from('\r\nAuthorization: Bearer abc123\r\n')]));
    expect(secret.encoding).toBe('text');
    expect(secret.raw).toContain('Authorization: Bearer [redacted]');
    expect(secret.raw).not.toContain('abc123');
  });
});

describe('truncateRaw at a character boundary (found by the wire fuzz)', () => {
  it('never exceeds 4 KiB when the cut falls inside a multi-byte character', () => {
    const text = 'ab' + '€'.repeat(3_000); // 2 + 3 bytes each: byte 4096 is inside a character
    const cut = truncateRaw(text);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(MAX_RAW_BYTES);
    expect(cut).toBe('ab' + '€'.repeat(1_364));
  });
});

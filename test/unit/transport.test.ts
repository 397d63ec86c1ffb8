import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/transport/backoff.ts';
import { httpStatusError, invalidPayload, MAX_RAW_BYTES, networkError } from '../../src/transport/classify.ts';
import { ActorlogError } from '../../src/errors.ts';

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

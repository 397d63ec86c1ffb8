import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ActorlogError, describeError } from '../../src/errors.ts';
import { backoffMs } from '../../machines/job/context.ts';
import { sessionBackoffMs } from '../../machines/session/context.ts';
import { poll, type PollRetry } from '../../src/sources/poll/index.ts';
import { decideRetry } from '../../src/sources/sse/retryPolicy.ts';
import { decideReconnect } from '../../src/sources/webSocket/retry.ts';
import { backoffDelay, resolveRetryOptions, seededBackoffDelay } from '../../src/transport/backoff.ts';
import { decodeJson } from '../../src/transport/boundedJson.ts';
import { watchCall } from '../../src/transport/callWatch.ts';
import { httpStatusError, networkError } from '../../src/transport/classify.ts';
import { notDelivered, unlessNotDelivered } from '../../src/transport/outcome.ts';
import { readBodyText } from '../../src/transport/readBody.ts';
import { MAX_RETRY_AFTER_MS, parseRetryAfter, retryAfterMsOf } from '../../src/transport/retryAfter.ts';
import { virtualTime } from '../support/kit/index.ts';

describe('Retry-After (RFC 9110 §10.2.3)', () => {
  it('reads delay-seconds and HTTP dates relative to an injected now, refuses the rest, caps at one hour', () => {
    expect(parseRetryAfter('5')).toBe(5000);
    expect(parseRetryAfter(' 0 ')).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4_000)).toBe(6000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 60_000)).toBe(0); // in the past
    expect(parseRetryAfter(['7', '9'])).toBe(7000);
    for (const bad of [undefined, '', '-5', '1.5', 'soon', '+3']) expect(parseRetryAfter(bad)).toBeUndefined();
    expect(parseRetryAfter('999999999')).toBe(MAX_RETRY_AFTER_MS);
  });

  it('is kept by httpStatusError as details.retryAfterMs for 429 and 503 only, and read back by retryAfterMsOf', () => {
    const e503 = httpStatusError('foreman POST /jobs', 503, {}, { 'Retry-After': '5' });
    expect(e503.details).toEqual({ status: 503, retryAfterMs: 5000 });
    expect(httpStatusError('x', 429, {}, { 'retry-after': '2' }).details?.retryAfterMs).toBe(2000);
    expect(httpStatusError('x', 500, {}, { 'retry-after': '2' }).details).toEqual({ status: 500 });
    expect(httpStatusError('x', 503, {}, { 'retry-after': 'later' }).details).toEqual({ status: 503 });
    expect(retryAfterMsOf(e503)).toBe(5000);
    expect(retryAfterMsOf({ name: 'ActorlogError', message: 'x', retryAfterMs: 7000 })).toBe(7000); // a logged description
    expect(retryAfterMsOf(httpStatusError('x', 429))).toBeUndefined();
  });

  it("is logged by describeError, so the journaled machines' retry timers wait it out, live and on replay alike", () => {
    const e503 = httpStatusError('foreman POST /jobs', 503, {}, { 'retry-after': '5' });
    const live = describeError(e503);
    expect(live.retryAfterMs).toBe(5000);
    const logged = describeError(JSON.parse(JSON.stringify(live))); // what a replay reads back from the log
    expect(logged).toEqual(live);
    expect(backoffMs({ jobId: 'job-1', retryDelayMs: 20, lastError: live }, 1)).toBe(5000);
    expect(sessionBackoffMs({ sessionKey: 's-1', retryDelayMs: 20, lastError: logged }, 1)).toBe(5000);
    expect(backoffMs({ jobId: 'job-1', retryDelayMs: 20, lastError: describeError(httpStatusError('x', 500)) }, 1)).toBeLessThan(25);
  });

  it('makes every retry path wait at least that long, capped at capMs', () => {
    expect(backoffDelay(1, { random: () => 0 }, 5000)).toBe(5000);
    expect(backoffDelay(1, { random: () => 0 }, 100)).toBe(500); // the backoff is longer
    expect(backoffDelay(1, { random: () => 0, capMs: 10_000 }, 3_600_000)).toBe(10_000);
    expect(seededBackoffDelay('job-1', 1, {}, 5000)).toBe(5000);
    const e503 = httpStatusError('sse', 503, {}, { 'retry-after': '5' });
    expect(decideRetry(e503, 1, undefined, { random: () => 0 })).toEqual({ retry: true, delayMs: 5000 });
    expect(decideReconnect({ error: e503 }, 0, { random: () => 0 })).toMatchObject({ reconnect: true, delayMs: 5000 });
  });

  it('is honoured by the poll source', async () => {
    const vt = virtualTime();
    const answers: Array<string | Error> = [httpStatusError('x', 503, {}, { 'retry-after': '5' }), 'ok'];
    const retries: PollRetry[] = [];
    const seen: string[] = [];
    poll(
      async () => {
        const a = answers.shift()!;
        if (a instanceof Error) throw a;
        return a;
      },
      {
        intervalMs: 100,
        random: () => 0,
        scheduler: vt.scheduler,
        onRetry: (r) => retries.push(r),
        until: () => true,
      },
    ).subscribe((v) => seen.push(v));
    await vt.settle();
    expect(retries.map((r) => r.delayMs)).toEqual([5000]);
    vt.advance(4999);
    await vt.settle();
    expect(seen).toEqual([]);
    vt.advance(1);
    await vt.settle();
    expect(seen).toEqual(['ok']);
  });
});

describe('one retry-options type and one seeded backoff', () => {
  it('applies the defaults 500 / 60000 / 0.2 and refuses negative or non-finite values with INVALID_OPTIONS', () => {
    expect(resolveRetryOptions({})).toMatchObject({ baseMs: 500, capMs: 60_000, jitter: 0.2 });
    expect(() => resolveRetryOptions({ capMs: -1 }, 'poll')).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS', details: { option: 'capMs' } }));
    expect(() => resolveRetryOptions({ jitter: Number.NaN })).toThrow(ActorlogError);
  });

  it('derives its jitter from the seed and attempt only (a replay re-arms the same delay), within base..base·1.2', () => {
    const a = [1, 2, 3].map((n) => seededBackoffDelay('job-7', n));
    expect([1, 2, 3].map((n) => seededBackoffDelay('job-7', n))).toEqual(a);
    a.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(500 * 2 ** i);
      expect(d).toBeLessThanOrEqual(600 * 2 ** i);
    });
    expect(new Set(['a', 'b', 'c', 'd', 'e'].map((s) => seededBackoffDelay(s, 1))).size).toBeGreaterThan(1);
    expect(seededBackoffDelay('job-7', 40)).toBe(60_000);
  });
});

describe('decodeJson: the one decoder (bounded JSON, then the schema, else a refusal)', () => {
  const Schema = z.object({ job_id: z.string(), state: z.string() });
  it('returns the checked value, or { ok: false, raw, error } for every bad input, never throwing', () => {
    expect(decodeJson('{"job_id":"j","state":"done"}', Schema)).toEqual({ ok: true, value: { job_id: 'j', state: 'done' } });
    const notJson = decodeJson('{"job_id":', Schema);
    expect(notJson).toMatchObject({ ok: false, raw: '{"job_id":' });
    expect(decodeJson('{"job_id":1}', Schema)).toEqual({ ok: false, raw: '{"job_id":1}', error: expect.stringMatching(/^job_id: .*; state: /) });
    const big = JSON.stringify({ job_id: 'j', state: 'x'.repeat(2 * 1024 * 1024) });
    expect(decodeJson(big, Schema)).toMatchObject({ ok: false, error: expect.stringContaining('too large') });
    expect(decodeJson(big, Schema, { maxBytes: 64 * 1024 * 1024 }).ok).toBe(true); // a binding raises the bound
    expect(decodeJson('['.repeat(100) + ']'.repeat(100), z.unknown())).toMatchObject({ ok: false, error: expect.stringContaining('too deep') });
    expect(decodeJson('{"authorization":"Bearer s3cret","job_id":1}', Schema)).toMatchObject({ ok: false, raw: expect.not.stringContaining('s3cret') });
  });
});

describe('readBodyText: a body within its bound', () => {
  it('reads a body whole, and ends one over maxBytes with INVALID_PAYLOAD (too-large, its head kept) without reading on', async () => {
    expect(await readBodyText(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), { label: 'x', maxBytes: 4 })).toBe('abcd');
    let pulled = 0;
    const endless = Readable.from(
      (function* () {
        for (;;) {
          pulled++;
          yield Buffer.from('0123456789');
        }
      })(),
    );
    const err = await readBodyText(endless, { label: 'foreman GET /jobs/{id}', maxBytes: 25 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_PAYLOAD', details: { reason: 'too-large', maxBytes: 25, raw: '01234567890123456789' } });
    expect((err as Error).message).toContain('larger than maxBytes 25');
    expect(pulled).toBeLessThan(10);
  });
});

describe('watchCall: an overall deadline, and a stall bound a dripping body does not re-arm', () => {
  it('ends the call at timeoutMs however much arrives, as TRANSIENT cause timeout', () => {
    const vt = virtualTime();
    const watch = watchCall('foreman GET /jobs/{id}', { timeoutMs: 10_000 }, vt.scheduler);
    vt.advance(9_999);
    expect(watch.signal.aborted).toBe(false);
    vt.advance(1);
    expect(watch.signal.aborted).toBe(true);
    expect(watch.error(new Error('aborted'))).toMatchObject({ code: 'TRANSIENT', details: { cause: 'timeout', timeoutMs: 10_000 } });
  });

  it('bounds the headers, then the whole body, each by stallTimeoutMs', () => {
    const vt = virtualTime();
    const watch = watchCall('A2A tasks/get', { stallTimeoutMs: 1_000 }, vt.scheduler);
    vt.advance(900);
    watch.answered(); // headers: the body gets 1000 ms from now, and nothing re-arms it
    vt.advance(999);
    expect(watch.signal.aborted).toBe(false);
    vt.advance(1);
    expect(watch.expired).toBe('stall');
    expect(watch.error(undefined)).toMatchObject({ code: 'TRANSIENT', details: { cause: 'stall', stallTimeoutMs: 1_000 } });
  });

  it('tells a caller abort (ABORTED) from a bound, stops its timers, and refuses a negative bound', () => {
    const vt = virtualTime();
    const caller = new AbortController();
    const watch = watchCall('x', { timeoutMs: 100 }, vt.scheduler, caller.signal);
    caller.abort();
    expect(watch.signal.aborted).toBe(true);
    expect(watch.error(Object.assign(new Error('x'), { name: 'AbortError' })).code).toBe('ABORTED');
    const stopped = watchCall('x', { timeoutMs: 100 }, vt.scheduler);
    stopped.stop();
    vt.advance(200);
    expect(stopped.signal.aborted).toBe(false);
    expect(() => watchCall('x', { timeoutMs: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });
});

describe('a lost answer to a non-idempotent call is OUTCOME_UNKNOWN', () => {
  const refused = networkError('x', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
  const reset = networkError('x', Object.assign(new Error('socket hang up'), { code: 'UND_ERR_SOCKET' }));
  it('knows which failures certainly had no effect', () => {
    expect(notDelivered(refused)).toBe(true);
    expect([408, 429, 503].every((s) => notDelivered(httpStatusError('x', s)))).toBe(true);
    expect(notDelivered(reset)).toBe(false);
    expect([500, 502, 504].some((s) => notDelivered(httpStatusError('x', s)))).toBe(false);
  });

  it('turns a TRANSIENT failure after the request was written into OUTCOME_UNKNOWN, and passes the rest', () => {
    const unknown = unlessNotDelivered('foreman POST /jobs', reset, { idempotencyKey: 'job-1:m1' });
    expect(unknown).toMatchObject({ code: 'OUTCOME_UNKNOWN', details: { idempotencyKey: 'job-1:m1', lostAnswer: true }, cause: reset });
    expect(unlessNotDelivered('x', refused)).toBe(refused);
    const permanent = httpStatusError('x', 401);
    expect(unlessNotDelivered('x', permanent)).toBe(permanent);
  });
});

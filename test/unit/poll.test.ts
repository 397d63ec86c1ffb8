import { describe, expect, it } from 'vitest';
import { ActorlogError } from '../../src/errors.ts';
import { poll, type PollRetry } from '../../src/sources/poll/index.ts';
import { httpStatusError } from '../../src/transport/classify.ts';
import { virtualTime } from '../support/kit/index.ts';

/** A scripted request: each call takes the next answer (a value or an error to throw). */
function script<T>(answers: Array<T | Error>) {
  const calls: Array<{ n: number; failures: number; signal: AbortSignal }> = [];
  const request = async (ctx: { n: number; failures: number; signal: AbortSignal }) => {
    calls.push(ctx);
    const next = answers.shift();
    if (next === undefined) return new Promise<T>(() => {});
    if (next instanceof Error) throw next;
    return next;
  };
  return { request, calls };
}

describe('poll source (virtual time)', () => {
  it('asks at once, then every intervalMs, and completes with the first answer that satisfies until', async () => {
    const vt = virtualTime();
    const { request, calls } = script<number[]>([[], [], [1, 2]]);
    const seen: number[][] = [];
    let done = false;
    poll(request, { intervalMs: 1_000, until: (rows) => rows.length > 0, scheduler: vt.scheduler }).subscribe({
      next: (v) => seen.push(v),
      complete: () => (done = true),
    });
    await vt.settle();
    expect(calls).toHaveLength(1);
    vt.advance(999);
    await vt.settle();
    expect(calls).toHaveLength(1);
    vt.advance(1);
    await vt.settle();
    vt.advance(1_000);
    await vt.settle();
    expect(seen).toEqual([[], [], [1, 2]]);
    expect(done).toBe(true);
  });

  it('retries transient failures with capped exponential backoff, tells onRetry, and resets after an answer', async () => {
    const vt = virtualTime();
    const t503 = httpStatusError('x', 503);
    const { request, calls } = script<string>([t503, t503, 'ok', t503, 'again']);
    const retries: PollRetry[] = [];
    const seen: string[] = [];
    poll(request, { intervalMs: 100, baseMs: 200, random: () => 0, scheduler: vt.scheduler, onRetry: (r) => retries.push(r) }).subscribe((v) => seen.push(v));
    await vt.settle();
    for (const ms of [200, 400, 100, 200]) {
      vt.advance(ms);
      await vt.settle();
    }
    expect(seen).toEqual(['ok', 'again']);
    expect(retries.map((r) => [r.attempt, r.delayMs, r.error.code])).toEqual([
      [1, 200, 'TRANSIENT'],
      [2, 400, 'TRANSIENT'],
      [1, 200, 'TRANSIENT'],
    ]);
    expect(calls.map((c) => c.failures)).toEqual([0, 1, 2, 0, 1]);
  });

  it('ends with a permanent failure at once, and with TRANSIENT after maxAttempts retries', async () => {
    const vt = virtualTime();
    let error: ActorlogError | undefined;
    poll(script<string>([httpStatusError('x', 401)]).request, { intervalMs: 10, scheduler: vt.scheduler }).subscribe({ error: (e) => (error = e) });
    await vt.settle();
    expect(error).toMatchObject({ code: 'PERMANENT', details: { status: 401 } });

    const failing = script<string>([new Error('socket hang up'), new Error('socket hang up'), new Error('socket hang up')]);
    poll(failing.request, { intervalMs: 10, maxAttempts: 2, baseMs: 10, random: () => 0, scheduler: vt.scheduler }).subscribe({ error: (e) => (error = e) });
    for (let i = 0; i < 3; i++) {
      await vt.settle();
      vt.advance(40);
    }
    expect(failing.calls).toHaveLength(3);
    expect(error).toMatchObject({ code: 'TRANSIENT', details: { attempts: 2 } });
    expect(error!.message).toMatch(/gave up after 2 retries$/);
  });

  it('aborts the request in flight when unsubscribed', async () => {
    const vt = virtualTime();
    const { request, calls } = script<string>([]);
    const sub = poll(request, { intervalMs: 10, scheduler: vt.scheduler }).subscribe();
    await vt.settle();
    sub.unsubscribe();
    expect(calls[0].signal.aborted).toBe(true);
    expect(() => poll(request, { intervalMs: Number.NaN })).toThrowError(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });
});

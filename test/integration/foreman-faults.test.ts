import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createForemanClient, submitAndWait } from '../../machines/foreman/index.ts';
import { startForemanServer } from '../servers/foreman.ts';
import { startForemanFixture, TOKEN, type ForemanFixture } from '../servers/foreman-fixture.ts';
import { until, virtualTime } from '../support/kit/index.ts';

/** Lets real I/O run until `cond` holds. */
let f: ForemanFixture;
beforeAll(async () => {
  f = await startForemanFixture('ff');
});
afterAll(async () => {
  await f.close();
});

describe('foreman under faults: lost answers, lost webhooks, slow and trickling answers', () => {
  it('a POST /jobs whose answer is lost after the daemon created the job ends OUTCOME_UNKNOWN, never submitted twice', async () => {
    const id = f.nextId();
    const before = f.server.stats().jobsCreated;
    f.server.faults.dropAccepts = 1;
    const err = await submitAndWait(f.system, { id, request: f.chat('answer lost'), ...f.fast }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    const last = f.finalValue(id);
    expect(last.value).toBe('failed');
    expect((last.context as { lastError?: { code?: string } }).lastError?.code).toBe('OUTCOME_UNKNOWN');
    expect(last.context.submitAttempts).toBe(1);
    await f.server.settled();
    expect(f.server.stats().jobsCreated).toBe(before + 1); // the seed's daemon ignores Idempotency-Key: a re-send would make a second job
    expect(f.server.jobs().at(-1)!.idempotencyKey).toBe(`${id}:m1`);
    await f.expectReplayEqualsLive(id);
  });

  it('against a daemon declared to honour Idempotency-Key, a lost answer is re-sent and the key finds the first job', async () => {
    const honouring = await startForemanFixture('ffh', { honourIdempotencyKey: true });
    try {
      const system = honouring.makeSystem({ honoursIdempotencyKey: true });
      const id = honouring.nextId();
      honouring.server.faults.dropAccepts = 1;
      const result = await submitAndWait(system, { id, request: honouring.chat('answer lost, key honoured'), ...honouring.fast, follow: 'poll' });
      expect(result.state).toBe('done');
      expect(honouring.server.stats()).toMatchObject({ jobsCreated: 1, duplicateSubmits: 1 });
    } finally {
      await honouring.close();
    }
  });

  it('a terminal webhook that never arrives (every webhook refused 401): the safety poll ends the job done, once', async () => {
    const wrongSecret = await f.makeReceiver({ secret: 'not-the-daemon-secret' });
    const system = f.makeSystem({ receiver: wrongSecret, safetyPollIntervalMs: 60 });
    const id = f.nextId();
    const result = await submitAndWait(system, { id, request: f.chat('webhooks lost'), ...f.fast });
    expect(result).toMatchObject({ state: 'done', attempt: 1 });
    const updates = f.updates(id);
    expect(updates.every((r) => r.meta.source === 'poll')).toBe(true);
    expect(updates.filter((r) => f.stateOf(r) === 'done')).toHaveLength(1);
    expect(f.events(id).filter((r) => r.type === 'job.invalid').length).toBeGreaterThan(0); // the 401s are recorded
    await f.expectReplayEqualsLive(id);
  });

  it("a result over 1 MiB (2 MiB inline artifact) arrives by webhook and by polling; one over the binding's bound is recorded and fails the job", async () => {
    const big = await startForemanFixture('ffb', { resultBytes: 2 * 1024 * 1024 });
    try {
      const byWebhook = big.nextId();
      const pushed = await submitAndWait(big.system, { id: byWebhook, request: big.chat('big result'), ...big.fast });
      expect(Buffer.from(pushed.artifacts.find((a) => a.name === 'big.bin')!.data!, 'base64')).toHaveLength(2 * 1024 * 1024);
      expect(big.receiver.maxBodyBytes).toBe(128 * 1024 * 1024); // the receiver's bound followed the binding's
      expect(
        big.updates(byWebhook, 'webhook').some((r) => big.stateOf(r) === 'done') || big.updates(byWebhook, 'poll').some((r) => big.stateOf(r) === 'done'),
      ).toBe(true);
      const byPolling = big.nextId();
      const polled = await submitAndWait(big.system, { id: byPolling, request: big.chat('big result polled'), ...big.fast, follow: 'poll' });
      expect(polled.artifacts.find((a) => a.name === 'big.bin')!.size).toBe(2 * 1024 * 1024);

      const bounded = big.makeSystem({ maxBodyBytes: 1024 * 1024, polling: true });
      const over = big.nextId();
      const err = await submitAndWait(bounded, { id: over, request: big.chat('over the bound'), ...big.fast }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'INVALID_PAYLOAD' });
      const invalid = big.events(over).filter((r) => r.type === 'job.invalid');
      expect(invalid).toHaveLength(1);
      expect((invalid[0].data as { error: string }).error).toMatch(/body larger than maxBytes 1048576/);
      expect((invalid[0].data as { raw: string }).raw.length).toBeLessThanOrEqual(4096);
      await big.expectReplayEqualsLive(byWebhook);
    } finally {
      await big.close();
    }
  });

  it('a GET whose body drips ends at requestTimeoutMs (an overall deadline), TRANSIENT cause timeout', async () => {
    const server = await startForemanServer({ token: TOKEN, stepMs: 5 });
    try {
      const vt = virtualTime();
      const client = createForemanClient({ url: server.url, token: TOKEN, requestTimeoutMs: 10_000, scheduler: vt.scheduler });
      const jobId = await client.submitJob({ model: 'llama3:8b', messages: [{ role: 'user', content: 'drip' }] });
      server.faults.dripGets = 1;
      let settled = false;
      const get = client
        .getJob(jobId)
        .catch((e: unknown) => e)
        .finally(() => {
          settled = true;
        });
      await until(() => server.stats().gets === 1, 'the catch-up GET');
      await new Promise((r) => setTimeout(r, 60)); // a few bytes drip in
      vt.advance(9_999);
      await new Promise((r) => setTimeout(r, 60)); // more bytes: they do not extend the deadline
      expect(settled).toBe(false);
      vt.advance(1);
      expect(await get).toMatchObject({ code: 'TRANSIENT', details: { cause: 'timeout', timeoutMs: 10_000 } });
    } finally {
      await server.close();
    }
  });

  it('a 503 with Retry-After on POST /jobs is TRANSIENT with details.retryAfterMs (never reached the queue: safe to retry)', async () => {
    const server = await startForemanServer({ token: TOKEN });
    try {
      const client = createForemanClient({ url: server.url, token: TOKEN });
      server.faults.busyWithRetryAfter = 1;
      server.faults.retryAfter = '7';
      const err = await client.submitJob({ model: 'llama3:8b', messages: [{ role: 'user', content: 'busy' }] }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'TRANSIENT', details: { status: 503, retryAfterMs: 7000, serverError: 'queue full' } });
      expect(server.stats().jobsCreated).toBe(0);
    } finally {
      await server.close();
    }
  });

  it("a daemon that gives a new job the id of a running one (reuseJobIds): the running job never takes the other job's answer; by webhook it ends with its own, by polling OUTCOME_UNKNOWN", async () => {
    const system = f.makeSystem({ safetyPollIntervalMs: 50 }); // safety GETs while the first job runs: they read the other job
    const contentOf = (r: { result?: unknown }) => (r.result as { message: { content: string } }).message.content;
    for (const follow of ['push', 'poll'] as const) {
      const first = f.nextId();
      const pending = submitAndWait(system, { id: first, request: f.chat(`a slow ${follow} job`), ...f.fast, follow }).catch((e: unknown) => e);
      await until(() => f.updates(first).length > 0, 'a first update of the first job (its created_at is known)');
      f.server.faults.reuseJobIds = 1;
      const second = await submitAndWait(system, { id: f.nextId(), request: f.chat('a quick job'), ...f.fast, follow: 'poll' });
      expect(contentOf(second)).toBe('echo: a quick job');
      const outcome = await pending;
      const remoteId = (f.finalValue(first).context as { remoteId: string }).remoteId;
      expect(second.jobId).toBe(remoteId); // the daemon did reuse the id
      if (follow === 'push') {
        expect(outcome).toMatchObject({ state: 'done' }); // by its own webhooks, to its own URL
        expect(contentOf(outcome as { result?: unknown })).toBe('echo: a slow push job');
      } else {
        expect(outcome).toMatchObject({ code: 'OUTCOME_UNKNOWN' }); // polling can no longer read it
        expect(f.finalValue(first).value).toBe('failed');
        expect(f.updates(first).some((r) => JSON.stringify(r.data).includes('a quick job'))).toBe(false);
      }
      const invalid = f.events(first).filter((r) => r.type === 'job.invalid');
      expect(invalid.length).toBeGreaterThanOrEqual(1);
      expect((invalid[0].data as { error: string }).error).toMatch(
        new RegExp(`job_id ${remoteId} now names another job \\(created_at .+, ours .+\\): the daemon reused the id`),
      );
      await f.expectReplayEqualsLive(first);
    }
  });
});

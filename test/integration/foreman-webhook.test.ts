import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobMachine } from '../../machines/job/machine.ts';
import { submitAndWait, waitForForemanJob } from '../../machines/foreman/index.ts';
import { isActorlogError, replaySteps, type JournaledActor } from '../../src/index.ts';
import { createWebhookReceiver } from '../../src/sources/webhook/index.ts';
import { startForemanFixture, WEBHOOK_SECRET, type ForemanFixture } from '../servers/foreman-fixture.ts';
import { until } from '../support/kit/index.ts';

let f: ForemanFixture;
beforeAll(async () => {
  f = await startForemanFixture('fw');
});
afterAll(async () => {
  await f.close();
});

describe('foreman jobs followed by webhook (seed 000): HMAC, buffering, ordering, fallback to polling', () => {
  it('HMAC: badly signed and unsigned webhooks are answered 401, recorded as job.invalid and never acted on', async () => {
    f.server.faults.badSignatures = 100;
    const id = f.nextId();
    const before = f.server.stats().webhooks.rejected;
    const err = await submitAndWait(f.system, { id, request: f.chat('forged'), ...f.fast, timeoutMs: 1_200 }).catch((e: unknown) => e);
    f.server.faults.badSignatures = 0;
    expect(isActorlogError(err, 'TIMEOUT')).toBe(true);
    expect(f.server.stats().webhooks.rejected - before).toBeGreaterThanOrEqual(2);
    const invalid = f.events(id).filter((r) => r.type === 'job.invalid');
    expect(invalid.length).toBeGreaterThanOrEqual(2);
    expect(invalid.every((r) => r.meta.source === 'webhook')).toBe(true);
    expect((invalid[0].data as { error: string }).error).toMatch(/bad-signature/);
    expect((invalid[0].data as { raw: string }).raw).toContain('"job_id"');
    expect(f.updates(id, 'webhook')).toHaveLength(0);

    f.server.faults.unsignedWebhooks = 100;
    const id2 = f.nextId();
    await submitAndWait(f.system, { id: id2, request: f.chat('unsigned'), ...f.fast, timeoutMs: 1_000 }).catch(() => undefined);
    f.server.faults.unsignedWebhooks = 0;
    expect(
      f
        .events(id2)
        .filter((r) => r.type === 'job.invalid')
        .map((r) => (r.data as { error: string }).error),
    ).toContainEqual(expect.stringMatching(/missing-signature/));
    expect(f.updates(id2, 'webhook')).toHaveLength(0);
  });

  it('falls back to polling when the webhook receiver cannot bind its port', async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const unbound = createWebhookReceiver({ port: (taken.address() as AddressInfo).port, secret: WEBHOOK_SECRET });
    await expect(unbound.listen()).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    const s = f.makeSystem({ receiver: unbound });
    const id = f.nextId();
    const result = await submitAndWait(s, { id, request: f.chat('no listener'), ...f.fast });
    await new Promise((r) => taken.close(r));
    expect(result.state).toBe('done');
    expect(f.server.job(result.jobId)!.webhook).toBeUndefined();
    const error = f.events(id).find((r) => r.type === 'xstate.error.actor.follow')!;
    expect((error.data as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'PERMANENT',
      message: expect.stringMatching(/no webhook receiver/),
    });
    expect(f.updates(id, 'poll').length).toBeGreaterThan(0);
    await f.expectReplayEqualsLive(id);
  });

  it('keeps a webhook that arrives before the 202 is read (buffered by job id) and applies it', async () => {
    f.server.faults.webhookBeforeAccept = 1;
    const id = f.nextId();
    const buffered = f.receiver.stats().accepted;
    const result = await submitAndWait(f.system, { id, request: f.chat('quick one'), ...f.fast });
    expect(result.state).toBe('done');
    expect(f.receiver.stats().accepted - buffered).toBeGreaterThanOrEqual(3); // queued, running, done: all before the 202
    const accepted = f.events(id).findIndex((r) => r.type === 'job.accepted');
    const done = f.events(id).findIndex((r) => r.type === 'job.update' && f.stateOf(r) === 'done');
    expect(done).toBeGreaterThan(accepted);
    expect(f.events(id)[done].meta.source).toBe('webhook');
    await f.expectReplayEqualsLive(id);
  });

  it('applies duplicate webhooks once', async () => {
    f.server.faults.duplicateWebhooks = 1;
    const id = f.nextId();
    const from = f.diagnostics.length;
    const result = await submitAndWait(f.system, { id, request: f.chat('twice'), ...f.fast });
    await f.server.settled();
    expect(result.state).toBe('done');
    const cursors = f.updates(id, 'webhook').map((r) => r.meta.cursor);
    expect(new Set(cursors).size).toBe(cursors.length);
    expect(
      f.diagnostics
        .slice(from)
        .filter((d) => d.jobId === id)
        .map((d) => d.kind),
    ).toContain('duplicate');
  });

  it('drops stale out-of-order webhooks: the job never goes back a state', async () => {
    f.server.faults.outOfOrderWebhooks = 1;
    const id = f.nextId();
    const from = f.diagnostics.length;
    const result = await submitAndWait(f.system, { id, request: f.chat('scrambled'), ...f.fast });
    expect(result.state).toBe('done');
    const snapshot = f.store.loadSnapshot(id)!.snapshot as { state: { context: { history: string[] } } };
    expect(snapshot.state.context.history).toEqual(['submitted', 'working', 'completed']);
    const kinds = f.diagnostics
      .slice(from)
      .filter((d) => d.jobId === id)
      .map((d) => d.kind);
    expect(kinds).toEqual(expect.arrayContaining(['stale', 'duplicate']));
    await f.expectReplayEqualsLive(id);
  });

  it('recovers a job in a new system whose receiver moved: not submitted again, followed by polling to its end', async () => {
    const first = f.makeSystem();
    const id = f.nextId();
    const pending = submitAndWait(first, { id, request: f.chat('slow survivor'), ...f.fast }).catch((e: unknown) => e);
    await first.get<JobMachine>(id)!.waitFor((s) => s.matches({ active: { working: 'streaming' } }), { timeoutMs: 5_000 });
    await first.close(); // the process stops; its stream stays active in the log
    await pending;
    const created = f.server.stats().jobsCreated;
    const moved = await f.makeReceiver();
    const second = f.makeSystem({ receiver: moved });
    const recovered = (await second.recover()).recovered.find((a) => a.id === id) as JournaledActor<JobMachine>;
    expect(recovered).toBeDefined();
    const result = await waitForForemanJob(recovered);
    expect(result.state).toBe('done');
    expect(f.server.stats().jobsCreated).toBe(created);
    expect(f.events(id).filter((r) => r.type === 'job.accepted')).toHaveLength(1);
    const error = f
      .events(id)
      .filter((r) => r.type === 'xstate.error.actor.follow')
      .at(-1)!;
    expect((error.data as { error: { message: string } }).error.message).toMatch(/is not this receiver's/);
    await f.expectReplayEqualsLive(id);
  });

  it('webhooks missed while the process was down, then a malformed catch-up GET: the follower asks again and every job ends done', async () => {
    // The first process follows 4 jobs by webhook on a fixed port, then goes down before they end.
    const before = await f.makeReceiver();
    const port = Number(new URL(before.urlFor('x')).port);
    const first = f.makeSystem({ receiver: before });
    const ids = [f.nextId(), f.nextId(), f.nextId(), f.nextId()];
    const pending = ids.map((id) => submitAndWait(first, { id, request: f.chat('missed'), ...f.fast, timeoutMs: 4_000 }).catch((e: unknown) => e));
    for (const id of ids) await first.get<JobMachine>(id)!.waitFor((s) => s.matches({ active: { working: 'streaming' } }), { timeoutMs: 5_000 });
    await first.close();
    await before.close();
    await Promise.all(pending);
    const remoteIds = ids.map((id) => (f.finalValue(id).context as { remoteId: string }).remoteId);
    await until(() => remoteIds.every((r) => f.server.job(r)!.state === 'done'), 'the jobs done on the daemon', { timeoutMs: 5_000, everyMs: 20 });
    await f.server.settled(); // their last webhooks failed: nobody listened
    // The process comes back on the same port; the first GET of each job's catch-up is cut short.
    const again = await f.makeReceiver({ port });
    f.server.faults.malformedGets = ids.length;
    const second = f.makeSystem({ receiver: again });
    const recovered = (await second.recover()).recovered.filter((a) => ids.includes(a.id)) as Array<JournaledActor<JobMachine>>;
    expect(recovered).toHaveLength(ids.length);
    const results = await Promise.all(
      recovered.map((a) =>
        waitForForemanJob(a).then(
          (r) => r.state,
          (e: unknown) => (e as { code?: string }).code,
        ),
      ),
    );
    expect(f.server.faults.malformedGets).toBe(0);
    expect(results).toEqual(ids.map(() => 'done'));
    for (const id of ids) {
      const invalid = f.events(id).filter((r) => r.type === 'job.invalid');
      expect(
        invalid.map((r) => r.meta.source),
        id,
      ).toEqual(['poll']);
      expect(f.updates(id, 'poll').map(f.stateOf), id).toContain('done');
      await f.expectReplayEqualsLive(id);
    }
  });

  it('replays every job offline to the live snapshots', async () => {
    for (const stream of f.store.listStreams()) {
      const steps = await replaySteps(f.store, f.machine, stream.streamId);
      expect(steps.length, stream.streamId).toBe(stream.version);
      if (stream.status !== 'active') await f.expectReplayEqualsLive(stream.streamId);
    }
  });

  it('never writes the bearer token or the webhook secret to the log (db, -wal, -shm)', async () => {
    f.expectNoSecretsInLog();
  });
});

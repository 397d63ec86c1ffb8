import { Observable, of } from 'rxjs';
import { createdAtOf, otherJobReason } from '../../machines/foreman/identity.ts';
import { describe, expect, it } from 'vitest';
import { createActor, fromEventObservable, SimulatedClock } from 'xstate';
import {
  FOREMAN_POLL_INTERVAL_MS,
  FOREMAN_SIGNATURE_HEADER,
  foremanJobActors,
  foremanJobMachine,
  foremanJobRequest,
  type ForemanBindingOptions,
} from '../../machines/foreman/index.ts';
import { ForemanJobStatusSchema, jobStateOf, statusToJobUpdate, toForemanArtifact, toJobArtifact } from '../../machines/foreman/schemas.ts';
// the binding's internals, tested where they live
import { foremanSubmitBody } from '../../machines/foreman/actors.ts';
import { formatOrder, isNewer, parseOrder } from '../../machines/foreman/order.ts';
import { foremanOutcome } from '../../machines/foreman/submitAndWait.ts';
import { initialJobContext, NO_TIMEOUT_TIMER_MS, type JobInput } from '../../machines/job/context.ts';
import type { JobWireEvent, PollInput, SubmitInput } from '../../machines/job/events.ts';
import { isActorlogError } from '../../src/index.ts';
import { createWebhookReceiver, DEFAULT_SIGNATURE_SCHEME } from '../../src/sources/webhook/index.ts';

/**
 * The foreman-bound job machine with its submit and poll actors replaced by in-memory ones (the
 * daemon accepts at once, every poll answers `running`), on XState's SimulatedClock: its timers
 * (poll interval, overall timeout) run on injected time only.
 */
function simulatedForemanJob(binding: Partial<ForemanBindingOptions>, input: Partial<JobInput> = {}, getTakesMs = 0) {
  const clock = new SimulatedClock();
  const polls: number[] = [];
  const machine = foremanJobMachine({ url: 'http://127.0.0.1:9', polling: true, ...binding }).provide({
    actors: {
      submit: fromEventObservable<JobWireEvent, SubmitInput>(() =>
        of<JobWireEvent>({ type: 'job.accepted', remoteId: 'r-1', update: { state: 'submitted', remoteState: 'queued' } }),
      ),
      poll: fromEventObservable<JobWireEvent, PollInput>(() => {
        polls.push(clock.now());
        const answer: JobWireEvent = {
          type: 'job.update',
          update: { state: 'working', remoteState: 'running', attempt: 1 },
          meta: { source: 'poll', cursor: 'r-1' },
        };
        if (getTakesMs === 0) return of(answer);
        // a GET answered getTakesMs later, on the simulated clock
        return new Observable<JobWireEvent>((sub) => {
          const t = clock.setTimeout(() => {
            sub.next(answer);
            sub.complete();
          }, getTakesMs);
          return () => clock.clearTimeout(t);
        });
      }),
    },
  });
  const actor = createActor(machine, { clock, input: { jobId: 'j-1', request: foremanJobRequest({ model: 'm', messages: [] }), follow: 'poll', ...input } });
  actor.start();
  return { clock, polls, actor };
}

describe('foreman defaults as seed 000 has them (time injected)', () => {
  it('has no overall job timeout by default: a job the daemon never finishes is still waiting after 30 days; timeoutMs still bounds it', () => {
    const { clock, actor } = simulatedForemanJob({});
    expect(actor.getSnapshot().context.timeoutMs).toBeUndefined();
    clock.increment(300_000); // the old default
    expect(actor.getSnapshot().status).toBe('active');
    clock.increment(NO_TIMEOUT_TIMER_MS); // the no-op timer fired (about 24.8 days)
    clock.increment(6 * 24 * 3600_000);
    expect(actor.getSnapshot().status).toBe('active');
    expect(actor.getSnapshot().value).toEqual({ active: { working: { polling: { get: 'over', tick: 'counting' } } } }); // between two GETs
    actor.stop();

    const bounded = simulatedForemanJob({}, { timeoutMs: 5_000 });
    bounded.clock.increment(4_999);
    expect(bounded.actor.getSnapshot().status).toBe('active');
    bounded.clock.increment(1);
    expect(bounded.actor.getSnapshot().value).toBe('timed-out');
  });

  it("polls every 2 s by default; pollIntervalMs sets it per client, and a job's own pollIntervalMs wins", () => {
    expect(FOREMAN_POLL_INTERVAL_MS).toBe(2_000);
    const byDefault = simulatedForemanJob({});
    byDefault.clock.increment(1_999);
    expect(byDefault.polls).toEqual([0]);
    byDefault.clock.increment(1);
    byDefault.clock.increment(2_000);
    expect(byDefault.polls).toEqual([0, 2_000, 4_000]);
    byDefault.actor.stop();

    const perClient = simulatedForemanJob({ pollIntervalMs: 500 });
    perClient.clock.increment(500); // SimulatedClock runs timers armed during an increment on the next one
    perClient.clock.increment(500);
    expect(perClient.polls).toEqual([0, 500, 1_000]);
    perClient.actor.stop();

    const perJob = simulatedForemanJob({ pollIntervalMs: 500 }, { pollIntervalMs: 300 });
    perJob.clock.increment(300);
    perJob.clock.increment(300);
    expect(perJob.polls).toEqual([0, 300, 600]);
    perJob.actor.stop();

    expect(() => foremanJobActors({ url: 'http://x', pollIntervalMs: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });

  it("polls at a fixed rate, as seed 000's time.Ticker: a GET's time is inside the interval; a GET longer than it is followed at once", () => {
    const run = (getTakesMs: number, until: number) => {
      const job = simulatedForemanJob({ pollIntervalMs: 2_000 }, {}, getTakesMs);
      for (let t = 0; t < until; t += 100) job.clock.increment(100); // small steps: SimulatedClock runs timers armed in a step on the next
      job.actor.stop();
      return job.polls;
    };
    expect(run(1_500, 6_100)).toEqual([0, 2_000, 4_000, 6_000]); // fixed delay would be 0, 3 500, 7 000
    expect(run(3_000, 9_100)).toEqual([0, 3_000, 6_000, 9_000]); // the tick was due during the GET: the next starts when it answers
  });
});

describe('foreman webhook signatures: the receiver and the binding agree', () => {
  it("the receiver reads foreman's header by default; the binding refuses a receiver that reads another one", () => {
    expect(FOREMAN_SIGNATURE_HEADER).toBe('x-foreman-signature');
    expect(DEFAULT_SIGNATURE_SCHEME.header).toBe(FOREMAN_SIGNATURE_HEADER);
    expect(createWebhookReceiver({ secret: 's' }).signature).toEqual({ header: FOREMAN_SIGNATURE_HEADER, prefix: 'sha256=' });
    expect(() => foremanJobActors({ url: 'http://x', receiver: createWebhookReceiver({ secret: 's' }) })).not.toThrow();
    const elsewhere = createWebhookReceiver({ secret: 's', signature: { header: 'X-Signature-256' } });
    let err: unknown;
    try {
      foremanJobActors({ url: 'http://x', receiver: elsewhere });
    } catch (e) {
      err = e;
    }
    expect(isActorlogError(err, 'INVALID_OPTIONS')).toBe(true);
    expect(err).toMatchObject({ details: { receiverHeader: 'x-signature-256', header: FOREMAN_SIGNATURE_HEADER } });
    // A daemon configured to sign elsewhere: say so on both sides.
    expect(() => foremanJobActors({ url: 'http://x', receiver: elsewhere, signatureHeader: 'x-signature-256' })).not.toThrow();
    expect(() => foremanJobActors({ url: 'http://x', receiver: elsewhere, polling: true })).not.toThrow();
  });
});

describe('foreman wire format (seed 000)', () => {
  it('reads GET /jobs/{id} as Go writes it (nulls, no artifacts) and maps it to a generic job update', () => {
    const raw = {
      job_id: 'j-1',
      state: 'done',
      model: 'llama3:8b',
      created_at: '2026-05-23T18:38:16Z',
      started_at: '2026-05-23T18:38:17Z',
      completed_at: '2026-05-23T18:38:20Z',
      attempt: 2,
      result: { message: { content: 'hi' } },
      error: null,
      artifacts: [
        { name: 'a.txt', content_type: 'text/plain', size: 2, data: 'aGk=' },
        { name: 'b.json', content_type: 'application/json', size: 10, url: 'http://x/b' },
      ],
    };
    const update = statusToJobUpdate(ForemanJobStatusSchema.parse(raw));
    expect(update).toEqual({
      state: 'completed',
      remoteState: 'done',
      attempt: 2,
      message: '',
      result: { message: { content: 'hi' } },
      artifacts: [
        { artifactId: 'a.txt', name: 'a.txt', parts: [{ kind: 'file', name: 'a.txt', mimeType: 'text/plain', size: 2, bytes: 'aGk=' }] },
        { artifactId: 'b.json', name: 'b.json', parts: [{ kind: 'file', name: 'b.json', mimeType: 'application/json', size: 10, uri: 'http://x/b' }] },
      ],
      details: { model: 'llama3:8b', created_at: '2026-05-23T18:38:16Z', started_at: '2026-05-23T18:38:17Z', completed_at: '2026-05-23T18:38:20Z' },
    });
    expect(update.artifacts!.map(toForemanArtifact)).toEqual(raw.artifacts);
    expect(toForemanArtifact(toJobArtifact({ name: 'x' }))).toEqual({ name: 'x', content_type: '', size: 0 });
    const failed = statusToJobUpdate(
      ForemanJobStatusSchema.parse({ job_id: 'j-2', state: 'failed', error: 'boom', started_at: null, completed_at: null, artifacts: null }),
    );
    expect(failed).toEqual({ state: 'failed', remoteState: 'failed', attempt: 0, message: 'boom' });
    expect(['queued', 'running', 'done', 'failed', 'warming'].map(jobStateOf)).toEqual(['submitted', 'working', 'completed', 'failed', 'working']);
    // Go reads an absent field as its zero value: no state is '' (not terminal: polled on), no name is '' (ids kept apart)
    expect(statusToJobUpdate(ForemanJobStatusSchema.parse({ job_id: 'j-3' }))).toEqual({ state: 'working', remoteState: '', attempt: 0, message: '' });
    const unnamed = statusToJobUpdate(
      ForemanJobStatusSchema.parse({ job_id: 'j-4', state: 'done', artifacts: [{ size: 1 }, { name: null, url: 'http://x/u' }] }),
    );
    expect(unnamed.artifacts!.map((a) => [a.artifactId, a.name])).toEqual([
      ['#0', ''],
      ['#1', ''],
    ]);
    expect(ForemanJobStatusSchema.safeParse({ state: 'done', job_id: 7 }).success).toBe(false);
  });

  it('orders updates by attempt, then queued < running < done | failed; a terminal state is never superseded', () => {
    const o = (attempt: number, state: string) => ({ attempt, state });
    expect(isNewer(o(0, 'queued'), undefined)).toBe(true);
    expect(isNewer(o(1, 'running'), o(0, 'queued'))).toBe(true);
    expect(isNewer(o(1, 'running'), o(1, 'running'))).toBe(false); // duplicate
    expect(isNewer(o(0, 'queued'), o(1, 'running'))).toBe(false); // stale
    expect(isNewer(o(2, 'running'), o(1, 'running'))).toBe(true); // the daemon's retry
    expect(isNewer(o(1, 'done'), o(2, 'running'))).toBe(true); // terminal wins
    expect(isNewer(o(3, 'running'), o(1, 'failed'))).toBe(false);
    expect(formatOrder(o(1, 'running'))).toBe('a1.running');
    expect(parseOrder('a12.done')).toEqual(o(12, 'done'));
    expect(parseOrder('e5')).toBeUndefined();
    expect(parseOrder(undefined)).toBeUndefined();
  });

  it('builds POST /jobs from a job request and refuses one without a model before any I/O', () => {
    const request = foremanJobRequest({ model: 'm', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function' }], think: true });
    expect(request.text).toBe('hi');
    expect(foremanSubmitBody(request)).toEqual({ model: 'm', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function' }], think: true });
    expect(foremanSubmitBody({ text: 'plain', data: { model: 'm' } })).toEqual({ model: 'm', messages: [{ role: 'user', content: 'plain' }] });
    let err: unknown;
    try {
      foremanSubmitBody({ text: 'x' });
    } catch (e) {
      err = e;
    }
    expect(isActorlogError(err, 'INVALID_OPTIONS')).toBe(true);
  });

  it("turns a finished job snapshot into the seed's Result, or the error it stands for", () => {
    const base = { ...initialJobContext({ jobId: 'j', request: foremanJobRequest({ model: 'm', messages: [] }) }), remoteId: 'r-1' };
    expect(foremanOutcome({ value: 'done', context: { ...base, remoteState: 'completed', attempt: 1, result: 42 } })).toEqual({
      jobId: 'r-1',
      state: 'done',
      model: 'm',
      attempt: 1,
      result: 42,
      artifacts: [],
    });
    expect(foremanOutcome({ value: 'failed', context: { ...base, remoteState: 'failed', statusMessage: 'boom' } })).toMatchObject({
      state: 'failed',
      error: 'boom',
    });
    // seed 000 statusToResult keeps Error whatever the state; a failed job without one reports ''
    expect(foremanOutcome({ value: 'done', context: { ...base, remoteState: 'completed', statusMessage: 'degraded: fell back to CPU' } })).toMatchObject({
      state: 'done',
      error: 'degraded: fell back to CPU',
    });
    expect(foremanOutcome({ value: 'done', context: { ...base, remoteState: 'completed', statusMessage: '' } })).not.toHaveProperty('error');
    expect(foremanOutcome({ value: 'failed', context: { ...base, remoteState: 'failed', statusMessage: '' } })).toMatchObject({ state: 'failed', error: '' });
    expect(foremanOutcome({ value: 'timed-out', context: base })).toMatchObject({ code: 'TIMEOUT' });
    expect(foremanOutcome({ value: 'canceled', context: base })).toMatchObject({ code: 'ABORTED' });
    expect(
      foremanOutcome({ value: 'failed', context: { ...base, lastError: { name: 'ActorlogError', code: 'PERMANENT', message: 'HTTP 401', status: 401 } } }),
    ).toMatchObject({ code: 'PERMANENT', details: { status: 401 } });
  });
});

describe('a reused job_id (issue 16 item 12): a job is told by its created_at', () => {
  it('takes a status born when the job was, or one that cannot be told apart; names another job otherwise', () => {
    const t0 = '2026-12-07T20:00:00.000Z';
    expect(otherJobReason(t0, { job_id: 'j1', created_at: t0 })).toBeUndefined();
    expect(otherJobReason(undefined, { job_id: 'j1', created_at: t0 })).toBeUndefined(); // not seen yet: this one is ours
    expect(otherJobReason(t0, { job_id: 'j1', created_at: null })).toBeUndefined(); // Go's zero value: cannot be told
    expect(otherJobReason(t0, { job_id: 'j1', created_at: '' })).toBeUndefined();
    expect(otherJobReason(t0, { job_id: 'j1', created_at: '2026-12-07T20:00:05.000Z' })).toBe(
      `job_id j1 now names another job (created_at 2026-12-07T20:00:05.000Z, ours ${t0}): the daemon reused the id; not applied`,
    );
    expect(createdAtOf({ created_at: t0, model: 'm' })).toBe(t0);
    expect(createdAtOf({ created_at: '' })).toBeUndefined();
    expect(createdAtOf(undefined)).toBeUndefined();
  });
});

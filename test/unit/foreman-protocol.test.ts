import { describe, expect, it } from 'vitest';
import {
  ForemanJobStatusSchema, foremanSubmitBody, foremanJobRequest, formatOrder, isNewer, jobStateOf, parseOrder, statusToJobUpdate, toForemanArtifact, toJobArtifact,
} from '../../machines/foreman/index.ts';
import { foremanOutcome } from '../../machines/foreman/submitAndWait.ts';
import { initialJobContext } from '../../machines/job/context.ts';
import { isActorlogError } from '../../src/index.ts';

describe('foreman wire format (seed 000)', () => {
  it('reads GET /jobs/{id} as Go writes it (nulls, no artifacts) and maps it to a generic job update', () => {
    const raw = {
      job_id: 'j-1', state: 'done', model: 'llama3:8b', created_at: '2026-05-23T18:38:16Z', started_at: '2026-05-23T18:38:17Z',
      completed_at: '2026-05-23T18:38:20Z', attempt: 2, result: { message: { content: 'hi' } }, error: null,
      artifacts: [{ name: 'a.txt', content_type: 'text/plain', size: 2, data: 'aGk=' }, { name: 'b.json', content_type: 'application/json', size: 10, url: 'http://x/b' }],
    };
    const update = statusToJobUpdate(ForemanJobStatusSchema.parse(raw));
    expect(update).toEqual({
      state: 'completed', remoteState: 'done', attempt: 2, result: { message: { content: 'hi' } },
      artifacts: [
        { artifactId: 'a.txt', name: 'a.txt', parts: [{ kind: 'file', name: 'a.txt', mimeType: 'text/plain', size: 2, bytes: 'aGk=' }] },
        { artifactId: 'b.json', name: 'b.json', parts: [{ kind: 'file', name: 'b.json', mimeType: 'application/json', size: 10, uri: 'http://x/b' }] },
      ],
      details: { model: 'llama3:8b', created_at: '2026-05-23T18:38:16Z', started_at: '2026-05-23T18:38:17Z', completed_at: '2026-05-23T18:38:20Z' },
    });
    expect(update.artifacts!.map(toForemanArtifact)).toEqual(raw.artifacts);
    expect(toForemanArtifact(toJobArtifact({ name: 'x' }))).toEqual({ name: 'x', content_type: '', size: 0 });
    const failed = statusToJobUpdate(ForemanJobStatusSchema.parse({ job_id: 'j-2', state: 'failed', error: 'boom', started_at: null, completed_at: null, artifacts: null }));
    expect(failed).toEqual({ state: 'failed', remoteState: 'failed', attempt: 0, message: 'boom' });
    expect(['queued', 'running', 'done', 'failed', 'warming'].map(jobStateOf)).toEqual(['submitted', 'working', 'completed', 'failed', 'working']);
    expect(ForemanJobStatusSchema.safeParse({ state: 'done' }).success).toBe(false);
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
    try { foremanSubmitBody({ text: 'x' }); } catch (e) { err = e; }
    expect(isActorlogError(err, 'INVALID_OPTIONS')).toBe(true);
  });

  it('turns a finished job snapshot into the seed\'s Result, or the error it stands for', () => {
    const base = { ...initialJobContext({ jobId: 'j', request: foremanJobRequest({ model: 'm', messages: [] }) }), remoteId: 'r-1' };
    expect(foremanOutcome({ value: 'done', context: { ...base, remoteState: 'completed', attempt: 1, result: 42 } })).toEqual({ jobId: 'r-1', state: 'done', model: 'm', attempt: 1, result: 42, artifacts: [] });
    expect(foremanOutcome({ value: 'failed', context: { ...base, remoteState: 'failed', statusMessage: 'boom' } })).toMatchObject({ state: 'failed', error: 'boom' });
    expect(foremanOutcome({ value: 'timed-out', context: base })).toMatchObject({ code: 'TIMEOUT' });
    expect(foremanOutcome({ value: 'canceled', context: base })).toMatchObject({ code: 'ABORTED' });
    expect(foremanOutcome({ value: 'failed', context: { ...base, lastError: { name: 'ActorlogError', code: 'PERMANENT', message: 'HTTP 401', status: 401 } } })).toMatchObject({ code: 'PERMANENT', details: { status: 401 } });
  });
});

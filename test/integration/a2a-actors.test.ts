import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assign, createActor, setup, waitFor, type AnyActorLogic } from 'xstate';
import { startA2AServer, type A2AServerHandle } from '../../examples/a2a-agent-server.ts';
import { a2aJobActors, type A2AJobActors } from '../../machines/a2a/actors.ts';
import type { JobArtifact, JobUpdate, JobWireEvent } from '../../machines/job/events.ts';
import { isActorlogError } from '../../src/errors.ts';

const WAIT_MS = 10_000;
let agent: A2AServerHandle;
let actors: A2AJobActors;

beforeEach(async () => {
  agent = await startA2AServer({ stepMs: 60 });
  actors = a2aJobActors({ url: agent.url, headers: { authorization: 'Bearer s3cret-token' }, dedupesMessageId: true });
});
afterEach(async () => {
  await agent.close();
});

/** A tiny parent machine: invokes `logic` with `input`, records every job.* event it sends, and how it ended. */
function spawnChild(logic: AnyActorLogic, input: unknown) {
  const parent = setup({
    types: { context: {} as { events: JobWireEvent[]; error?: unknown } },
    actors: { child: logic },
  }).createMachine({
    context: { events: [] },
    initial: 'running',
    states: {
      running: {
        invoke: {
          id: 'child',
          src: 'child',
          input: () => input,
          onDone: 'done',
          onError: { target: 'failed', actions: assign({ error: ({ event }) => event.error }) },
        },
        on: { 'job.*': { actions: assign({ events: ({ context, event }) => [...context.events, event as unknown as JobWireEvent] }) } },
      },
      done: { type: 'final' },
      failed: { type: 'final' },
    },
  });
  return createActor(parent).start();
}

/** Runs an actor to its end (bounded): its events and, when it failed, its error. */
async function run(logic: AnyActorLogic, input: unknown) {
  const snapshot = await waitFor(spawnChild(logic, input), (s) => s.status === 'done', { timeout: WAIT_MS });
  const { events, error } = snapshot.context;
  expect(JSON.parse(JSON.stringify(events))).toEqual(events); // logged and replayed: plain JSON only
  return { ended: snapshot.value as 'done' | 'failed', events, error };
}

const updates = (events: JobWireEvent[]): JobUpdate[] => events.flatMap((e) => (e.type === 'job.invalid' ? [] : [e.update]));
/** Folds artifacts the way a job machine should: append chunks, replace otherwise. */
function artifactText(events: JobWireEvent[]): string {
  const byId = new Map<string, JobArtifact>();
  for (const a of updates(events).flatMap((u) => u.artifacts ?? [])) {
    const prev = byId.get(a.artifactId);
    byId.set(a.artifactId, a.append && prev ? { ...prev, parts: [...prev.parts, ...a.parts] } : a);
  }
  return [...byId.values()].flatMap((a) => a.parts.map((p) => (p.kind === 'text' ? p.text : ''))).join('');
}
async function submit(text: string, messageId = `msg-${text}`): Promise<string> {
  const { events } = await run(actors.submit, { jobId: 'job-1', messageId, request: { text } });
  const accepted = events[0];
  if (accepted?.type !== 'job.accepted') throw new Error(`expected job.accepted, got ${JSON.stringify(events)}`);
  return accepted.remoteId;
}

describe('A2A job actors against the example A2A server', () => {
  it('submit -> job.accepted; follow -> job.update per SSE frame to completed, with both artifact chunks', async () => {
    const { events: sent } = await run(actors.submit, { jobId: 'job-1', messageId: 'msg-1', request: { text: 'hello', data: { n: 1 } } });
    expect(sent).toEqual([{ type: 'job.accepted', remoteId: expect.any(String), update: { state: 'submitted', remoteState: 'submitted' } }]);
    const remoteId = sent[0]!.type === 'job.accepted' ? sent[0]!.remoteId : '';
    const { ended, events } = await run(actors.follow, { jobId: 'job-1', remoteId });
    expect(ended).toBe('done');
    expect(events.map((e) => e.meta)).toEqual(events.map((_, i) => ({ source: 'sse', cursor: `${remoteId}:${i}` })));
    expect(updates(events).some((u) => u.artifacts?.[0]?.append)).toBe(true);
    expect(artifactText(events)).toBe('chunk one; chunk two.');
    expect(updates(events).at(-1)).toEqual({ state: 'completed', remoteState: 'completed', message: 'done', final: true });
  });

  it('follow ends a "fail" job with failed and its status message', async () => {
    const remoteId = await submit('please fail');
    const { events } = await run(actors.follow, { jobId: 'job-1', remoteId });
    expect(updates(events).at(-1)).toMatchObject({ state: 'failed', final: true, message: expect.stringContaining('failed') });
  });

  it('"ask": follow stops at input-required; reply resumes; the next follow continues the cursor to completed', async () => {
    const remoteId = await submit('ask first');
    const first = await run(actors.follow, { jobId: 'job-1', remoteId });
    expect(first.ended).toBe('done');
    expect(updates(first.events).at(-1)).toEqual({ state: 'input-required', remoteState: 'input-required', message: 'Which colour should it be?' });
    const reply = await run(actors.reply, { jobId: 'job-1', remoteId, messageId: 'msg-answer', text: 'blue' });
    expect(reply.events).toEqual([{ type: 'job.update', update: { state: 'working', remoteState: 'working' } }]);
    const lastCursor = first.events.at(-1)!.meta!.cursor!;
    const second = await run(actors.follow, { jobId: 'job-1', remoteId, cursor: lastCursor });
    expect(second.events[0]!.meta!.cursor).toBe(`${remoteId}:${Number(lastCursor.split(':')[1]) + 1}`);
    expect(updates(second.events).at(-1)).toMatchObject({ state: 'completed', final: true });
  });

  it('cancel: a running "slow" job is canceled and follow ends with it', async () => {
    const remoteId = await submit('slow job');
    const follower = spawnChild(actors.follow, { jobId: 'job-1', remoteId });
    await waitFor(follower, (s) => updates(s.context.events).some((u) => u.state === 'working'), { timeout: WAIT_MS });
    const { events } = await run(actors.cancel, { jobId: 'job-1', remoteId });
    expect(events).toEqual([{ type: 'job.update', update: expect.objectContaining({ state: 'canceled', remoteState: 'canceled' }) }]);
    const followed = await waitFor(follower, (s) => s.status === 'done', { timeout: WAIT_MS });
    expect(updates(followed.context.events).at(-1)).toMatchObject({ state: 'canceled', final: true });
    const again = await run(actors.cancel, { jobId: 'job-1', remoteId }); // canceling twice is allowed by the SDK
    expect(again.ended).toBe('done');
  });

  it('submit is idempotent by messageId: the same messageId twice gives one task', async () => {
    const a = await submit('hello', 'msg-dup');
    const b = await submit('hello', 'msg-dup');
    expect(b).toBe(a);
    expect(agent.stats()).toMatchObject({ tasksCreated: 1, duplicateMessageIds: 1 });
  });

  it('follow reports a malformed SSE frame as job.invalid and the stream continues to completed', async () => {
    const remoteId = await submit('hello');
    agent.faults.malformedStreamFrames = 1;
    const { ended, events } = await run(actors.follow, { jobId: 'job-1', remoteId });
    expect(ended).toBe('done');
    const invalid = events.filter((e) => e.type === 'job.invalid');
    expect(invalid).toEqual([
      {
        type: 'job.invalid',
        raw: expect.stringContaining('"kind":"task"'),
        error: expect.stringContaining('not JSON'),
        meta: { source: 'sse', cursor: `${remoteId}:1` },
      },
    ]);
    expect(updates(events).at(-1)).toMatchObject({ state: 'completed', final: true });
  });

  it('poll: a non-JSON tasks/get answer is one job.invalid and the actor completes; the next poll updates', async () => {
    const remoteId = await submit('hello');
    agent.faults.nonJsonGet = 1;
    const bad = await run(actors.poll, { jobId: 'job-1', remoteId });
    expect(bad).toMatchObject({
      ended: 'done',
      events: [{ type: 'job.invalid', raw: expect.stringContaining('<html>'), meta: { source: 'poll', cursor: remoteId } }],
    });
    const good = await run(actors.poll, { jobId: 'job-1', remoteId });
    expect(good.events).toEqual([
      { type: 'job.update', update: expect.objectContaining({ state: expect.any(String) }), meta: { source: 'poll', cursor: remoteId } },
    ]);
  });

  it('follow of a task already ended reports its final state from one tasks/get', async () => {
    const remoteId = await submit('hello');
    await run(actors.follow, { jobId: 'job-1', remoteId });
    const { ended, events } = await run(actors.follow, { jobId: 'job-1', remoteId });
    expect(ended).toBe('done');
    expect(events).toEqual([{ type: 'job.update', update: expect.objectContaining({ state: 'completed' }), meta: { source: 'poll', cursor: remoteId } }]);
  });

  it('follow fails TRANSIENT when the stream is cut; a new follow from the cursor completes', async () => {
    agent.faults.dropStreamAfterFrames = 2;
    const remoteId = await submit('hello');
    const cut = await run(actors.follow, { jobId: 'job-1', remoteId });
    expect(cut.ended).toBe('failed');
    expect(isActorlogError(cut.error, 'TRANSIENT')).toBe(true);
    expect(cut.events).toHaveLength(2);
    const resumed = await run(actors.follow, { jobId: 'job-1', remoteId, cursor: cut.events[1]!.meta!.cursor });
    expect(resumed.events[0]!.meta!.cursor).toBe(`${remoteId}:2`);
    expect(updates(resumed.events).at(-1)).toMatchObject({ state: 'completed', final: true });
  });

  it('submit: a non-JSON answer is job.invalid, then the same messageId is sent again and its task accepted', async () => {
    agent.faults.nonJsonSend = 1;
    const { ended, events } = await run(actors.submit, { jobId: 'job-1', messageId: 'msg-x', request: { text: 'hello' } });
    expect(ended).toBe('done');
    expect(events).toEqual([
      { type: 'job.invalid', raw: expect.stringContaining('<html>'), error: expect.any(String) },
      { type: 'job.accepted', remoteId: expect.any(String), update: expect.objectContaining({ state: 'submitted' }) },
    ]);
  });

  it('submit: OUTCOME_UNKNOWN (with the messageId) when the send and every re-send answer unreadably', async () => {
    agent.faults.nonJsonSend = 3;
    const { ended, events, error } = await run(actors.submit, { jobId: 'job-1', messageId: 'msg-y', request: { text: 'hello' } });
    expect(ended).toBe('failed');
    expect(events.map((e) => e.type)).toEqual(['job.invalid', 'job.invalid', 'job.invalid']);
    expect(isActorlogError(error, 'OUTCOME_UNKNOWN') && error.details).toMatchObject({ messageId: 'msg-y', lookups: 2 });
  });

  it('fails TRANSIENT on a refused connection and PERMANENT on a 4xx, without leaking headers', async () => {
    const dead = await startA2AServer();
    await dead.close();
    const refused = await run(a2aJobActors({ url: dead.url, headers: { authorization: 'Bearer s3cret-token' } }).submit, {
      jobId: 'j',
      messageId: 'm',
      request: { text: 'hi' },
    });
    const notFound = await run(a2aJobActors({ url: `${agent.url}/missing`, headers: { authorization: 'Bearer s3cret-token' } }).poll, {
      jobId: 'j',
      remoteId: 't',
    });
    expect([refused.ended, notFound.ended]).toEqual(['failed', 'failed']);
    expect(isActorlogError(refused.error, 'TRANSIENT')).toBe(true);
    expect(isActorlogError(notFound.error, 'PERMANENT') && notFound.error.details).toMatchObject({ status: 404 });
    for (const e of [refused.error, notFound.error] as Error[]) expect(`${e.message} ${JSON.stringify(e)}`).not.toContain('s3cret');
  });
});

import { filter, firstValueFrom, lastValueFrom, materialize, shareReplay, timeout, toArray, type Observable } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startA2AServer, type A2AServerHandle } from '../../examples/a2a-agent-server.ts';
import { createA2AClient, type A2AClient, type StreamFrame } from '../../machines/a2a/client.ts';
import type { A2AStreamResult } from '../../machines/a2a/schemas.ts';
import { ActorlogError } from '../../src/errors.ts';

const WAIT_MS = 10_000;
let agent: A2AServerHandle;
let a2a: A2AClient;

beforeEach(async () => {
  agent = await startA2AServer({ stepMs: 60 });
  a2a = createA2AClient({ url: agent.url, headers: { authorization: 'Bearer s3cret-token' } });
});
afterEach(async () => {
  await agent.close();
});

const collect = (frames: Observable<StreamFrame>) => lastValueFrom(frames.pipe(toArray(), timeout(WAIT_MS)));
const values = (frames: StreamFrame[]): A2AStreamResult[] => frames.flatMap((f) => (f.ok ? [f.value] : []));
const lastStatus = (frames: StreamFrame[]) =>
  values(frames)
    .filter((v) => v.kind === 'status-update')
    .at(-1);
async function failure(promise: Promise<unknown>): Promise<ActorlogError> {
  const err = await promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ActorlogError);
  return err as ActorlogError;
}

describe('example A2A server (A2A v0.3 JSON-RPC through @a2a-js/sdk legacyCompat)', () => {
  it('answers a non-blocking message/send with the submitted task, then streams it to completed with two chunks', async () => {
    // "slowly": steps of 10 x 60 ms, so the resubscription is open before the first chunk (1.2 s), even on a loaded machine
    const task = await a2a.sendMessage({ messageId: 'm-hello', text: 'hello, slowly' });
    expect(task).toMatchObject({ kind: 'task', status: { state: 'submitted' } });
    const frames = await collect(a2a.resubscribe(task.kind === 'task' ? task.id : ''));
    expect(frames.every((f) => f.ok)).toBe(true);
    expect(values(frames)[0]).toMatchObject({ kind: 'task' });
    const chunks = values(frames).filter((v) => v.kind === 'artifact-update');
    expect(chunks.map((c) => [c.artifact.parts, c.append, c.lastChunk])).toEqual([
      [[{ kind: 'text', text: 'chunk one;' }], false, false],
      [[{ kind: 'text', text: ' chunk two.' }], true, true],
    ]);
    expect(lastStatus(frames)).toMatchObject({ final: true, status: { state: 'completed' } });
    const done = await a2a.getTask(task.kind === 'task' ? task.id : '');
    expect(done.artifacts?.[0]?.parts).toEqual([
      { kind: 'text', text: 'chunk one;' },
      { kind: 'text', text: ' chunk two.' },
    ]);
  });

  it('ends a "fail" prompt failed, with a status message', async () => {
    const task = await a2a.sendMessage({ messageId: 'm-fail', text: 'please fail' });
    const frames = await collect(a2a.resubscribe(task.kind === 'task' ? task.id : ''));
    expect(lastStatus(frames)).toMatchObject({ final: true, status: { state: 'failed', message: { parts: [{ text: expect.stringContaining('failed') }] } } });
  });

  it('holds an "ask" prompt in input-required until a follow-up message with a new messageId resumes it', async () => {
    const task = await a2a.sendMessage({ messageId: 'm-ask', text: 'ask me first' });
    const id = task.kind === 'task' ? task.id : '';
    const first = await collect(a2a.resubscribe(id));
    expect(lastStatus(first)).toMatchObject({ status: { state: 'input-required', message: { parts: [{ text: 'Which colour should it be?' }] } } });
    const resumed = await a2a.sendMessage({ messageId: 'm-ask-answer', text: 'blue', taskId: id });
    expect(resumed).toMatchObject({ kind: 'task', id, status: { state: 'working' } });
    expect(lastStatus(await collect(a2a.resubscribe(id)))).toMatchObject({ final: true, status: { state: 'completed' } });
  });

  it('cancels a running "slow" task with tasks/cancel', async () => {
    const task = await a2a.sendMessage({ messageId: 'm-slow', text: 'slow job' });
    const id = task.kind === 'task' ? task.id : '';
    const stream = a2a.resubscribe(id).pipe(shareReplay());
    const all = collect(stream);
    await firstValueFrom(
      stream.pipe(
        filter((f) => f.ok && f.value.kind === 'status-update' && f.value.status.state === 'working'),
        timeout(WAIT_MS),
      ),
    );
    expect(await a2a.cancelTask(id)).toMatchObject({ id, status: { state: 'canceled' } });
    expect(lastStatus(await all)).toMatchObject({ final: true, status: { state: 'canceled' } });
  });

  it('treats messageId as an idempotency key: a repeated message/send returns the same task', async () => {
    const [a, b] = await Promise.all([1, 2].map(() => a2a.sendMessage({ messageId: 'm-same', text: 'hello' })));
    const c = await a2a.sendMessage({ messageId: 'm-same', text: 'hello' });
    expect(a?.kind === 'task' && b?.kind === 'task' && c.kind === 'task' && new Set([a.id, b.id, c.id]).size).toBe(1);
    expect(agent.stats()).toEqual({ tasksCreated: 1, messagesReceived: 3, duplicateMessageIds: 2 });
  });

  it('injects malformed SSE frames (non-JSON, then schema-invalid) and the stream continues', async () => {
    agent.faults.malformedStreamFrames = 2;
    const task = await a2a.sendMessage({ messageId: 'm-bad-frames', text: 'hello' });
    const id = task.kind === 'task' ? task.id : '';
    const [one, two] = await Promise.all([collect(a2a.resubscribe(id)), collect(a2a.resubscribe(id))]);
    const bad = [...one, ...two].filter((f) => !f.ok);
    expect(bad).toHaveLength(2);
    expect(bad.map((f) => (f.ok ? '' : f.error)).join(' ')).toMatch(/not JSON[\s\S]*taskId|taskId[\s\S]*not JSON/);
    for (const frames of [one, two]) expect(lastStatus(frames)).toMatchObject({ final: true, status: { state: 'completed' } });
  });

  it('answers tasks/get with a non-JSON 200 body when asked: INVALID_PAYLOAD with the raw text', async () => {
    const task = await a2a.sendMessage({ messageId: 'm-get', text: 'hello' });
    agent.faults.nonJsonGet = 1;
    const err = await failure(a2a.getTask(task.kind === 'task' ? task.id : ''));
    expect(err.code).toBe('INVALID_PAYLOAD');
    expect(err.details?.raw).toContain('<html>');
    await expect(a2a.getTask(task.kind === 'task' ? task.id : '')).resolves.toMatchObject({ kind: 'task' });
  });

  it('cuts the SSE connection after k frames once per task: TRANSIENT, and a new subscription completes', async () => {
    agent.faults.dropStreamAfterFrames = 2;
    const task = await a2a.sendMessage({ messageId: 'm-drop', text: 'hello' });
    const id = task.kind === 'task' ? task.id : '';
    const notes = await lastValueFrom(a2a.resubscribe(id).pipe(materialize(), toArray(), timeout(WAIT_MS)));
    expect(notes.map((n) => n.kind)).toEqual(['N', 'N', 'E']);
    const err = (notes[2] as { error?: ActorlogError }).error!;
    expect(err.code).toBe('TRANSIENT');
    expect(lastStatus(await collect(a2a.resubscribe(id)))).toMatchObject({ final: true, status: { state: 'completed' } });
  });

  it('classifies failures: 503 TRANSIENT, 404 PERMANENT, JSON-RPC error PERMANENT, refused TRANSIENT; no secrets', async () => {
    agent.faults.unavailable = 1;
    const errors = [await failure(a2a.getTask('nope'))];
    errors.push(await failure(a2a.getTask('nope')));
    errors.push(await failure(createA2AClient({ url: `${agent.url}/nope`, headers: { authorization: 'Bearer s3cret-token' } }).getTask('x')));
    const dead = await startA2AServer();
    await dead.close();
    errors.push(await failure(createA2AClient({ url: dead.url, headers: { authorization: 'Bearer s3cret-token' } }).getTask('x')));
    expect(errors.map((e) => [e.code, e.details?.status ?? e.details?.rpcCode ?? e.details?.cause])).toEqual([
      ['TRANSIENT', 503],
      ['PERMANENT', -32001],
      ['PERMANENT', 404],
      ['TRANSIENT', 'ECONNREFUSED'],
    ]);
    for (const e of errors) expect(`${e.message} ${JSON.stringify(e.details)} ${String(e.cause)}`).not.toContain('s3cret');
  });

  it('serves the agent card with a v0.3 JSON-RPC interface', async () => {
    const res = await fetch(new URL('/.well-known/agent-card.json', agent.url));
    expect(await res.json()).toMatchObject({ protocolVersion: '0.3', url: agent.url, capabilities: { streaming: true } });
  });
});

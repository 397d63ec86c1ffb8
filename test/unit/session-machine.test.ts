import { describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import { fromEventObservable, SimulatedClock, type AnyMachineSnapshot } from 'xstate';
import { sessionMachine, type SessionMachine } from '../../machines/session/index.ts';
import type { SessionWireEvent } from '../../machines/session/events.ts';
import { ActorlogError } from '../../src/errors.ts';
import { createActorSystem, replaySteps, verifyReplay, type JournaledActor } from '../../src/index.ts';
import { createMemoryStore } from '../../stores/memory.ts';

/** Fake binding: each invocation of an actor gets a Subject the test drives; inputs are recorded. */
function fakeBinding() {
  const live = new Map<string, Subject<SessionWireEvent>>();
  const inputs: Array<{ actor: string; input: Record<string, unknown> }> = [];
  const make = (name: string) =>
    fromEventObservable<SessionWireEvent, Record<string, unknown>>(({ input }) => {
      inputs.push({ actor: name, input });
      const s = new Subject<SessionWireEvent>();
      live.set(name, s);
      return s;
    });
  const actors = { open: make('open'), events: make('events'), prompt: make('prompt'), abort: make('abort'), close: make('close') };
  const feed = (name: string) => {
    const s = live.get(name);
    if (!s) throw new Error(`no live ${name}`);
    return s;
  };
  return { machine: sessionMachine.provide({ actors: actors as never }), feed, inputs };
}

const sse = (cursor?: string) => (cursor === undefined ? { source: 'sse' as const } : { source: 'sse' as const, cursor });
const value = (a: JournaledActor<SessionMachine>) => JSON.stringify(a.getSnapshot().value);

function setup(input: Record<string, unknown> = {}) {
  const store = createMemoryStore();
  const clock = new SimulatedClock();
  clock.set(1_000_000);
  const b = fakeBinding();
  const system = createActorSystem({ store, clock, machines: { session: b.machine } });
  const live: AnyMachineSnapshot[] = [];
  const s = system.spawn('session', { id: 's-1', input: { sessionKey: 's-1', retryDelayMs: 100, ...input } });
  s.subscribe((snap) => live.push(snap));
  return { store, clock, system, s, live, ...b };
}

function openIdle(t: ReturnType<typeof setup>) {
  t.feed('open').next({ type: 'session.opened', remoteId: 'ses_1', status: 'idle' });
  t.feed('open').complete();
}

describe('session machine (fake binding, simulated clock)', () => {
  it('connecting -> idle -> busy -> idle, with streamed parts merged, cursors kept, and replay equal to live', async () => {
    const t = setup();
    expect(value(t.s)).toBe('{"connecting":"opening"}');
    openIdle(t);
    expect(value(t.s)).toBe('{"open":{"stream":"live","turn":"idle"}}');
    t.feed('events').next({ type: 'session.stream', channel: 'events', state: 'connected', meta: sse() });
    t.s.send({ type: 'session.prompt', prompt: { kind: 'text', text: 'hi' } });
    expect(value(t.s)).toBe('{"open":{"stream":"live","turn":{"busy":"sending"}}}');
    expect(t.inputs.find((i) => i.actor === 'prompt')!.input).toMatchObject({ promptId: 's-1:p1', remoteId: 'ses_1', prompt: { kind: 'text', text: 'hi' } });
    t.feed('prompt').complete();
    expect(value(t.s)).toBe('{"open":{"stream":"live","turn":{"busy":"running"}}}');
    const ev = t.feed('events');
    ev.next({ type: 'session.status', status: 'busy', kind: 'session.status', meta: sse('1') });
    ev.next({ type: 'session.part', kind: 'message.part.updated', part: { id: 'p1', type: 'text', text: '' }, meta: sse('2') });
    ev.next({ type: 'session.part', kind: 'message.part.delta', part: { id: 'p1', type: 'text', delta: 'Hel' }, meta: sse('3') });
    ev.next({ type: 'session.part', kind: 'message.part.delta', part: { id: 'p1', type: 'text', delta: 'lo' }, meta: sse('4') });
    ev.next({ type: 'session.status', status: 'idle', kind: 'session.status', meta: sse('5') });
    const ctx = t.s.getSnapshot().context;
    expect(value(t.s)).toBe('{"open":{"stream":"live","turn":"idle"}}');
    expect(ctx).toMatchObject({ output: 'Hello', lastEnd: 'completed', turns: 1, cursor: '5', remoteStatus: 'idle' });
    expect(
      t.store
        .readStream('s-1')
        .filter((r) => r.meta.source === 'sse')
        .map((r) => r.meta.cursor),
    ).toEqual([undefined, '1', '2', '3', '4', '5']);
    t.s.send({ type: 'session.close' });
    t.feed('close').complete();
    expect(t.s.getSnapshot().value).toBe('closed');
    const steps = await replaySteps(t.store, t.machine, 's-1');
    expect(steps.map((x) => JSON.parse(JSON.stringify({ v: x.snapshot.value, c: x.snapshot.context })))).toEqual(
      t.live.map((x) => JSON.parse(JSON.stringify({ v: x.value, c: x.context }))),
    );
    expect((await verifyReplay(t.store, sessionMachine, 's-1')).ok).toBe(true);
  });

  it('does not end a new turn on a late idle of the turn before: only idle after busy counts', async () => {
    const t = setup();
    openIdle(t);
    t.s.send({ type: 'session.prompt', prompt: { kind: 'text', text: 'a' } });
    t.feed('prompt').complete();
    t.feed('events').next({ type: 'session.status', status: 'idle', kind: 'session.status', meta: sse() });
    expect(value(t.s)).toContain('running');
    t.feed('events').next({ type: 'session.status', status: 'busy', kind: 'session.status', meta: sse() });
    t.feed('events').next({ type: 'session.status', status: 'idle', kind: 'session.status', meta: sse() });
    expect(value(t.s)).toContain('"turn":"idle"');
  });

  it('aborts a busy turn: aborting -> stopping -> aborted when the remote ends it, or when the abort timeout fires', async () => {
    const t = setup({ abortTimeoutMs: 2_000 });
    openIdle(t);
    t.s.send({ type: 'session.prompt', prompt: { kind: 'text', text: 'slow' } });
    t.feed('prompt').complete();
    t.feed('events').next({ type: 'session.status', status: 'busy', kind: 'session.status', meta: sse() });
    t.s.send({ type: 'session.abort' });
    expect(value(t.s)).toContain('aborting');
    expect(t.inputs.find((i) => i.actor === 'abort')!.input).toMatchObject({ promptId: 's-1:p1' });
    t.feed('abort').complete();
    expect(value(t.s)).toContain('stopping');
    t.feed('events').next({ type: 'session.ended', kind: 'session.error', reason: 'aborted', meta: sse() });
    expect(value(t.s)).toBe('{"open":{"stream":"live","turn":"aborted"}}');
    expect(t.s.getSnapshot().context.lastEnd).toBe('aborted');
    // a second turn, aborted with no answer from the remote: the timer ends it
    t.s.send({ type: 'session.prompt', prompt: { kind: 'text', text: 'slow again' } });
    expect(t.s.getSnapshot().context.promptId).toBe('s-1:p2');
    t.s.send({ type: 'session.abort' });
    t.feed('abort').complete();
    t.clock.increment(1_999);
    expect(value(t.s)).toContain('stopping');
    t.clock.increment(1);
    expect(value(t.s)).toContain('"turn":"aborted"');
    expect(t.store.readStream('s-1').at(-1)).toMatchObject({ meta: { source: 'timer' } });
    expect((await verifyReplay(t.store, sessionMachine, 's-1')).ok).toBe(true);
  });

  it('retries a transient open failure with backoff, then fails TRANSIENT after maxConnectAttempts; a permanent one fails at once', async () => {
    const t = setup({ maxConnectAttempts: 3 });
    const refused = () => new ActorlogError('TRANSIENT', 'open: network error (ECONNREFUSED)');
    t.feed('open').error(refused());
    expect(value(t.s)).toBe('{"connecting":"backoff"}');
    t.clock.increment(60_000);
    t.feed('open').error(refused());
    t.clock.increment(60_000);
    t.feed('open').error(refused());
    expect(t.s.getSnapshot().value).toBe('failed');
    expect(t.s.getSnapshot().context).toMatchObject({ connectAttempts: 3, lastError: { code: 'TRANSIENT' } });
    expect(t.inputs.filter((i) => i.actor === 'open')).toHaveLength(3);
    const p = setup();
    p.feed('open').error(new ActorlogError('PERMANENT', 'open: HTTP 401', { details: { status: 401 } }));
    expect(p.s.getSnapshot().value).toBe('failed');
    expect(p.s.getSnapshot().context.lastError).toMatchObject({ code: 'PERMANENT', status: 401 });
  });

  it('shows reconnecting while a channel reconnects, and fails when the event stream gives up', async () => {
    const t = setup();
    openIdle(t);
    const error = { name: 'ActorlogError', message: 'drop', code: 'TRANSIENT' };
    t.feed('events').next({ type: 'session.stream', channel: 'events', state: 'reconnecting', attempt: 1, error, meta: sse('7') });
    expect(value(t.s)).toBe('{"open":{"stream":"reconnecting","turn":"idle"}}');
    t.feed('events').next({ type: 'session.stream', channel: 'events', state: 'connected', meta: sse() });
    expect(value(t.s)).toBe('{"open":{"stream":"live","turn":"idle"}}');
    expect(t.s.getSnapshot().context.reconnects).toBe(1);
    t.feed('events').error(new ActorlogError('TRANSIENT', 'gave up after 5 reconnection attempts'));
    expect(t.s.getSnapshot().value).toBe('failed');
    expect(t.s.getSnapshot().context.lastError).toMatchObject({ code: 'TRANSIENT' });
  });

  it('records an invalid payload and goes on; retries a transient prompt failure with the same key; a permanent one fails the turn', async () => {
    const t = setup({ maxPromptAttempts: 2 });
    openIdle(t);
    t.feed('events').next({ type: 'session.invalid', raw: '{"type":', error: 'not JSON', meta: sse() });
    expect(t.s.getSnapshot().context).toMatchObject({ invalid: 1, lastError: { code: 'INVALID_PAYLOAD' } });
    t.s.send({ type: 'session.prompt', prompt: { kind: 'text', text: 'x' } });
    t.feed('prompt').error(new ActorlogError('TRANSIENT', 'HTTP 503'));
    expect(value(t.s)).toContain('retrying');
    t.clock.increment(60_000);
    expect(t.inputs.filter((i) => i.actor === 'prompt').map((i) => i.input.promptId)).toEqual(['s-1:p1', 's-1:p1']);
    t.s.send({ type: 'session.prompt', prompt: { kind: 'text', text: 'while busy' } });
    expect(t.s.getSnapshot().context.lastError).toMatchObject({ name: 'SessionBusy' });
    t.feed('prompt').error(new ActorlogError('PERMANENT', 'HTTP 400'));
    expect(value(t.s)).toContain('"turn":"idle"');
    expect(t.s.getSnapshot().context).toMatchObject({ lastEnd: 'failed', lastError: { code: 'PERMANENT' } });
  });

  it('keeps the prompt stream cursor apart (channel prompt) and ends the turn on its result', async () => {
    const t = setup();
    openIdle(t);
    t.s.send({ type: 'session.prompt', prompt: { kind: 'tool', name: 'count', arguments: { n: 2 } } });
    const p = t.feed('prompt');
    p.next({ type: 'session.event', kind: 'mcp.priming', channel: 'prompt', meta: sse('a_1') });
    p.next({
      type: 'session.part',
      kind: 'notifications/progress',
      channel: 'prompt',
      part: { id: 's-1:p1', type: 'progress', progress: 1, total: 2 },
      meta: sse('a_2'),
    });
    expect(t.s.getSnapshot().context.promptCursor).toBe('a_2');
    expect(t.s.getSnapshot().context.cursor).toBeUndefined();
    p.next({ type: 'session.ended', kind: 'tools/call', channel: 'prompt', reason: 'completed', output: 'done', result: { content: [] }, meta: sse('a_3') });
    expect(t.s.getSnapshot().context).toMatchObject({ output: 'done', result: { content: [] }, lastEnd: 'completed' });
    expect(value(t.s)).toContain('"turn":"idle"');
  });

  it('restarts the event stream from its last logged cursor after recovery (invariant 3)', async () => {
    const t = setup();
    openIdle(t);
    t.feed('events').next({ type: 'session.event', kind: 'x', meta: sse('41') });
    t.feed('events').next({ type: 'session.event', kind: 'x', meta: sse('42') });
    await t.system.close();
    const b = fakeBinding();
    const again = createActorSystem({ store: t.store, clock: t.clock, machines: { session: b.machine } });
    const [recovered] = (await again.recover()).recovered;
    expect(recovered.id).toBe('s-1');
    expect(b.inputs.find((i) => i.actor === 'events')!.input).toMatchObject({ remoteId: 'ses_1', cursor: '42' });
    await again.close();
  });
});

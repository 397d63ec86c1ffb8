import { VirtualTimeScheduler } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectionMachine, type ConnectionMachine } from '../../machines/connection/machine.ts';
import {
  createYoiClient,
  encodeBackendCursor,
  yoiConnectionInput,
  yoiConnectionMachine,
  type YoiBindingOptions,
  type YoiConnectionOptions,
  type YoiDelivery,
} from '../../machines/yoi/index.ts';
import { createActorSystem, verifyReplay, type ActorSystem, type JournaledActor } from '../../src/index.ts';
import { openSqliteStore, type SqliteStore } from '../../stores/sqlite/index.ts';
import { startYoiServer, type YoiServerHandle, type YoiServerOptions } from '../servers/yoi-server.ts';
import { tempDb } from '../support/tempDb.ts';
import { suiteLog } from '../support/kit/index.ts';

let server: YoiServerHandle;
let store: SqliteStore;
const db = suiteLog();
const systems: ActorSystem[] = [];

beforeAll(async () => {
  server = await startYoiServer({ token: 'yoi-secret-token' });
  store = db.open();
});
afterEach(async () => {
  for (const s of systems.splice(0)) await s.close();
  for (const key of Object.keys(server.faults)) delete (server.faults as Record<string, unknown>)[key];
});
afterAll(async () => {
  await server.close();
});

type Snapshot = ReturnType<JournaledActor<ConnectionMachine>['getSnapshot']>;
let n = 0;
function observe(opts: Partial<YoiConnectionOptions> = {}, binding: YoiBindingOptions = {}, on: SqliteStore = store, backend: YoiServerHandle = server) {
  const workerId = opts.workerId ?? `w${++n}`;
  const system = createActorSystem({
    store: on,
    machines: { yoi: yoiConnectionMachine({ headers: { authorization: 'Bearer yoi-secret-token' }, ...binding }) },
  });
  systems.push(system);
  const input = yoiConnectionInput({ baseUrl: backend.url, runtimeId: 'rt', retryDelayMs: 20, ...opts, workerId });
  const actor = system.spawn('yoi', { id: input.connectionId, input });
  return { actor, workerId, system };
}
/** Another backend for one test, closed after it. */
async function withServer(options: YoiServerOptions, run: (backend: YoiServerHandle) => Promise<void>) {
  const backend = await startYoiServer({ token: 'yoi-secret-token', ...options });
  try {
    await run(backend);
  } finally {
    for (const s of systems.splice(0)) await s.close();
    await backend.close();
  }
}
const until = (actor: JournaledActor<ConnectionMachine>, what: (s: Snapshot) => boolean) => actor.waitFor(what, { timeoutMs: 10_000 });
const received = (id: string, on: SqliteStore = store) => on.readStream(id).filter((r) => r.type === 'connection.message');
const num = (seq: string) => Number(BigInt(`0x${seq}`));
const seqsOf = (id: string) =>
  received(id)
    .map((r) => (r.data as { message: { seq?: string } }).message.seq)
    .filter((s) => s !== undefined)
    .map(num);
const messages = (s: Snapshot) => s.context.diagnostics.map((d) => d.message);
/** The observation socket is open on the backend and the receive region listens. */
const ready = (actor: JournaledActor<ConnectionMachine>, workerId: string, backend: YoiServerHandle = server) =>
  until(
    actor,
    (s) =>
      s.matches({ online: { receive: 'listening' } }) &&
      backend.observers('rt', workerId) > 0 &&
      (s.context.lastSeq !== undefined || s.context.counts.duplicates > 0 || s.context.cursor !== undefined),
  );
const SEQ = (k: number | bigint) => encodeBackendCursor(k).slice(3);

describe('yoi worker observation (seed 004) on the test backend', () => {
  it('delivers the transcript snapshot first, then observes events with their cursors; the observation snapshot at sequence 0 is dropped as the seed drops it', async () => {
    server.setTranscript('rt', 'w-transcript', {
      items: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
      ],
      diagnostics: [{ code: 'transcript.partial', message: 'first page only' }],
    });
    const { actor } = observe({ workerId: 'w-transcript' });
    await ready(actor, 'w-transcript');
    const c1 = server.emit('rt', 'w-transcript', { type: 'text_delta', text: 'more' });
    const after = await until(actor, (s) => s.context.cursor === c1);
    const kinds = received(actor.id).map((r) => (r.data as { message: { kind: string } }).message.kind);
    expect(kinds).toEqual(['snapshot', 'user_message', 'text_delta', 'text_done', 'snapshot', 'text_delta']);
    expect(after.context.counts).toMatchObject({ received: 5, skipped: 0, duplicates: 1 });
    expect(messages(after)).toContain('Backend transcript diagnostic [transcript.partial]: first page only');
    expect(after.value).toEqual({ online: { heartbeat: 'off', receive: 'listening', dispatch: 'idle', commands: 'idle' } });
    expect(received(actor.id).at(-1)!.meta).toMatchObject({ source: 'ws', actor: 'receive', cursor: c1 });
    expect(JSON.stringify(store.readStream(actor.id))).not.toContain('yoi-secret-token');
  });

  it('reports an unavailable transcript as a diagnostic and then skips no snapshot', async () => {
    server.faults.transcript = [503];
    const { actor, workerId } = observe();
    const s = await ready(actor, workerId);
    expect(messages(s)).toContain(`Backend initial transcript unavailable for rt:${workerId}: yoi transcript: HTTP 503`);
    expect(s.context.skipKind).toBeUndefined();
    const c1 = server.emit('rt', workerId, { type: 'snapshot', entries: [] });
    expect((await until(actor, (x) => x.context.cursor === c1)).context.counts).toMatchObject({ received: 1, skipped: 0 });
  });

  it('resumes a dropped WebSocket from the logged cursor: no gap, no duplicate, and reports the drop ("WebSocket error for …")', async () => {
    const delivered: number[] = [];
    const onEvent = async (d: YoiDelivery) => {
      if (d.seq !== undefined) delivered.push(Number(d.seq));
    };
    server.faults.dropAfterFrames = [3];
    const { actor, workerId } = observe({ deliver: 'dispatch' }, { onEvent });
    await ready(actor, workerId);
    for (let i = 1; i <= 6; i++) server.emit('rt', workerId, { type: 'text_delta', text: `part ${i}` });
    const done = await until(actor, (s) => s.context.lastSeq === SEQ(6) && s.context.queue.length === 0 && s.matches({ online: { receive: 'listening' } }));
    const connections = server.stats.connections.filter((c) => c.workerId === workerId);
    expect(connections.map((c) => c.cursor)).toEqual([null, encodeBackendCursor(2)]);
    expect(seqsOf(actor.id)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(
      store
        .readStream(actor.id)
        .filter((r) => r.type === 'connection.closed')
        .map((r) => (r.data as { code: number }).code),
    ).toEqual([1006]);
    expect(done.context.counts).toMatchObject({ duplicates: 1, dispatched: 7 });
    expect(delivered).toEqual([1, 2, 3, 4, 5, 6]);
    expect(messages(done)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^Backend observation WebSocket error for rt:${workerId}: `))]));
  });

  it('drops a re-sent frame by its sequence, delivers it once, and reports the drop as a counted diagnostic', async () => {
    const delivered: number[] = [];
    const { actor, workerId } = observe(
      { deliver: 'dispatch' },
      {
        onEvent: async (d) => {
          if (d.seq !== undefined) delivered.push(Number(d.seq));
        },
      },
    );
    await ready(actor, workerId);
    server.faults.duplicateFrame = 1;
    server.emit('rt', workerId, { type: 'text_delta', text: 'once' });
    server.emit('rt', workerId, { type: 'text_done', text: 'once' });
    const s = await until(actor, (x) => x.context.counts.dispatched === 3);
    expect(s.context.counts.duplicates).toBe(2); // the sequence-0 snapshot and the re-sent frame
    expect(delivered).toEqual([1, 2]);
    const dup = received(actor.id)[3];
    expect(dup.meta.cursor).toBeUndefined(); // a re-sent frame never moves the logged resume point back
    expect(s.context.diagnostics.filter((d) => d.code === 'duplicate.dropped').map((d) => d.message)).toEqual([
      `message ${encodeBackendCursor(0)} dropped as a duplicate (sequence ${SEQ(0)} is not above ${SEQ(0)}); 1 dropped so far`,
      `message ${encodeBackendCursor(1)} dropped as a duplicate (sequence ${SEQ(1)} is not above ${SEQ(1)}); 2 dropped so far`,
    ]);
  });

  it('compares sequences above 2^53 exactly: consecutive events there are all delivered', async () => {
    await withServer({ firstSeq: 2n ** 53n - 2n }, async (backend) => {
      const delivered: bigint[] = [];
      const { actor, workerId } = observe(
        { deliver: 'dispatch' },
        {
          onEvent: async (d) => {
            if (d.seq !== undefined) delivered.push(d.seq);
          },
        },
        store,
        backend,
      );
      await ready(actor, workerId, backend);
      for (let i = 0; i < 4; i++) backend.emit('rt', workerId, { type: 'text_delta', text: `big ${i}` });
      const s = await until(actor, (x) => x.context.lastSeq === SEQ(2n ** 53n + 2n) && x.context.queue.length === 0);
      expect(delivered).toEqual([2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 53n + 2n]);
      expect(s.context.counts.duplicates).toBe(0);
    });
  });

  it('one frame with cursor bo_ffffffffffffffff does not make every later event a duplicate: the stream going back is followed, with a diagnostic', async () => {
    const delivered: string[] = [];
    const { actor, workerId } = observe(
      { deliver: 'dispatch' },
      {
        onEvent: async (d) => {
          if (d.cursor !== undefined) delivered.push(d.cursor);
        },
      },
    );
    await ready(actor, workerId);
    server.faults.maxCursor = 1;
    server.emit('rt', workerId, { type: 'text_delta', text: 'rogue' });
    for (let i = 0; i < 10; i++) server.emit('rt', workerId, { type: 'text_delta', text: `kept ${i}` });
    const s = await until(actor, (x) => x.context.lastSeq === SEQ(11) && x.context.queue.length === 0);
    expect(delivered).toEqual(['bo_ffffffffffffffff', ...Array.from({ length: 10 }, (_, i) => encodeBackendCursor(i + 2))]);
    expect(s.context.counts.duplicates).toBe(1); // only the sequence-0 snapshot
    expect(messages(s)).toContain(
      `message ${encodeBackendCursor(2)}: sequence ${SEQ(2)} is below ffffffffffffffff, taken last on this connection: the stream went back, so ffffffffffffffff is no longer the last sequence (seed 004 would drop every event up to it)`,
    );
    // the logged resume point follows the stream: a reconnect resumes after event 11, not after the rogue cursor
    server.dropAll();
    server.emit('rt', workerId, { type: 'text_delta', text: 'after the drop' });
    await until(actor, (x) => x.context.lastSeq === SEQ(12));
    expect(server.stats.connections.filter((c) => c.workerId === workerId).at(-1)!.cursor).toBe(encodeBackendCursor(11));
  });

  it('delivers each of several events that share a malformed cursor, each with the diagnostic, as the seed does', async () => {
    const delivered: YoiDelivery[] = [];
    const { actor, workerId } = observe(
      { deliver: 'dispatch' },
      {
        onEvent: async (d) => {
          delivered.push(d);
        },
      },
    );
    await ready(actor, workerId);
    server.faults.malformedCursor = 3;
    for (let i = 1; i <= 3; i++) server.emit('rt', workerId, { type: 'text_delta', text: `shared ${i}` });
    const s = await until(actor, (x) => delivered.filter((d) => d.cursor === 'bogus-cursor').length === 3 && x.context.queue.length === 0);
    const events = delivered.filter((d) => d.diagnostic === undefined && !d.id.startsWith('transcript:'));
    expect(events.map((d) => [d.cursor, (d.event as { text?: string }).text])).toEqual([
      ['bogus-cursor', 'shared 1'],
      ['bogus-cursor', 'shared 2'],
      ['bogus-cursor', 'shared 3'],
    ]);
    // each under an id of its own (its receipt number), so each has its own idempotency key
    expect(events.map((d) => d.id)).toEqual([
      expect.stringMatching(/^bogus-cursor#\d+$/),
      expect.stringMatching(/^bogus-cursor#\d+$/),
      expect.stringMatching(/^bogus-cursor#\d+$/),
    ]);
    expect(new Set(events.map((d) => d.id)).size).toBe(3);
    expect(delivered.filter((d) => d.diagnostic === 'observation.cursor_malformed')).toHaveLength(3);
    expect(s.context.counts.duplicates).toBe(1); // the sequence-0 snapshot only
  });

  it('resumes the observation from the transcript position: events emitted between the load and the WebSocket open are delivered, after two failed upgrades too', async () => {
    await withServer({ transcriptCursor: true }, async (backend) => {
      for (const upgrades of [[], [503, 503]]) {
        const workerId = `window-${upgrades.length}`;
        backend.setTranscript('rt', workerId, { items: [{ role: 'user', content: 'before' }] });
        backend.emit('rt', workerId, { type: 'user_message', segments: [{ type: 'text', text: 'before' }] });
        backend.faults.upgrade = [...upgrades];
        backend.faults.afterTranscript = [
          () => {
            for (let i = 1; i <= 3; i++) backend.emit('rt', workerId, { type: 'text_delta', text: `in the window ${i}` });
          },
        ];
        const delivered: number[] = [];
        const { actor } = observe(
          { workerId, deliver: 'dispatch' },
          {
            onEvent: async (d) => {
              if (d.seq !== undefined) delivered.push(Number(d.seq));
            },
          },
          store,
          backend,
        );
        const s = await until(actor, (x) => x.context.lastSeq === SEQ(4) && x.context.queue.length === 0);
        expect(delivered).toEqual([2, 3, 4]);
        expect(backend.stats.connections.filter((c) => c.workerId === workerId).map((c) => c.cursor)).toEqual([encodeBackendCursor(1)]);
        expect(s.context.counts).toMatchObject({ duplicates: 0, skipped: 0 });
      }
    });
  });

  it('resets an expired cursor and resubscribes without one', async () => {
    const { actor, workerId } = observe();
    await ready(actor, workerId);
    server.emit('rt', workerId, { type: 'text_delta', text: 'a' });
    await until(actor, (s) => s.context.lastSeq === SEQ(1));
    server.dropAll();
    server.emit('rt', workerId, { type: 'text_delta', text: 'b' });
    server.emit('rt', workerId, { type: 'text_delta', text: 'c' });
    server.expire('rt', workerId, 2);
    const s = await until(actor, (x) => x.context.counts.cursorResets === 1 && x.matches({ online: { receive: 'listening' } }) && x.context.lastSeq === SEQ(3));
    expect(server.stats.connections.filter((c) => c.workerId === workerId).map((c) => c.cursor)).toEqual([null, encodeBackendCursor(1), null]);
    expect(messages(s)).toContain(`Backend observation diagnostic [backend.cursor_unknown_or_expired]: cursor ${encodeBackendCursor(1)} is unknown or expired`);
    expect(store.readStream(actor.id).filter((r) => r.type === 'connection.cursorReset')).toHaveLength(1);
  });

  it('records a malformed frame as connection.invalid, reports frames for another worker and malformed cursors, and goes on', async () => {
    const { actor, workerId } = observe();
    await ready(actor, workerId);
    server.faults.malformedFrame = 1;
    server.faults.foreignFrame = 1;
    server.emit('rt', workerId, { type: 'text_delta', text: 'after the bad frames' });
    server.faults.malformedCursor = 1;
    server.emit('rt', workerId, { type: 'text_done', text: 'bogus cursor' });
    const last = server.emit('rt', workerId, { type: 'text_delta', text: 'fine again' });
    const s = await until(actor, (x) => x.context.cursor === last);
    const invalid = store.readStream(actor.id).filter((r) => r.type === 'connection.invalid');
    expect(invalid).toHaveLength(1);
    expect(invalid[0].data).toMatchObject({ raw: '{"kind":"event","envelope":', error: expect.stringMatching(/not valid JSON/) });
    expect(invalid[0].meta.source).toBe('ws');
    expect(messages(s)).toContain(`Backend observation frame target mismatch: got rt:${workerId}-other, expected rt:${workerId}`);
    expect(messages(s)).toContain('Backend observation cursor was malformed: bogus-cursor');
    expect(s.context.counts).toMatchObject({ invalid: 1, received: 4 });
    expect(s.value).toMatchObject({ online: { receive: 'listening' } });
  });

  it('sends input and lifecycle commands with their diagnostics; unsupported ones are reported and never sent', async () => {
    const { actor, workerId } = observe();
    await ready(actor, workerId);
    const sent = () => server.stats.commands.filter((c) => c.key?.startsWith(`${actor.id}:`));
    actor.send({
      type: 'connection.command',
      command: {
        method: 'run',
        input: [
          { type: 'text', text: 'hello' },
          { type: 'file_ref', path: 'src/lib.rs' },
        ],
      },
    });
    await until(actor, (s) => s.context.counts.received >= 4);
    expect(
      received(actor.id)
        .slice(2)
        .map((r) => (r.data as { message: { body: { type: string; text?: string } } }).message.body),
    ).toEqual([
      { type: 'user_message', segments: [{ type: 'text', text: 'hello@src/lib.rs' }] },
      { type: 'text_delta', text: 'echo: hello@src/lib.rs' },
      { type: 'text_done', text: 'echo: hello@src/lib.rs' },
    ]);
    actor.send({ type: 'connection.command', command: { method: 'pause' } });
    actor.send({ type: 'connection.command', command: { method: 'notify', message: 'deploy at noon' } });
    server.faults.lifecycle = [{ state: 'rejected', diagnostics: [{ code: 'worker.idle', message: 'nothing to cancel' }] }];
    actor.send({ type: 'connection.command', command: { method: 'cancel' } });
    server.faults.lifecycle.push(409);
    actor.send({ type: 'connection.command', command: { method: 'shutdown' } });
    server.faults.input = ['malformed'];
    actor.send({ type: 'connection.command', command: { method: 'notify', message: 'again' } });
    const s = await until(actor, (x) => x.context.counts.commands === 6);
    expect(sent().map((c) => [c.op, c.body, c.key])).toEqual([
      ['input', { kind: 'user', content: 'hello@src/lib.rs' }, `${actor.id}:c1`],
      ['input', { kind: 'system', content: 'deploy at noon' }, `${actor.id}:c3`],
      ['cancel', { reason: 'requested from TUI Backend Runtime API client' }, `${actor.id}:c4`],
      ['stop', { reason: 'requested from TUI Backend Runtime API client' }, `${actor.id}:c5`],
      ['input', { kind: 'system', content: 'again' }, `${actor.id}:c6`],
    ]);
    const label = `rt:${workerId}`;
    expect(messages(s)).toEqual(
      expect.arrayContaining([
        'Backend Runtime API does not expose pause/resume for the TUI client yet; command was not sent',
        `Backend runtime cancel was rejected for ${label}`,
        'Backend runtime cancel diagnostic [worker.idle]: nothing to cancel',
        `Backend runtime stop failed for ${label}: yoi stop: HTTP 409`,
        expect.stringMatching(new RegExp(`^Backend runtime input response could not be decoded for ${label}: yoi input: invalid payload`)),
      ]),
    );
  });

  it('retries a command answered 503 with the same Idempotency-Key; the worker runs it once', async () => {
    const { actor, workerId } = observe();
    await ready(actor, workerId);
    server.faults.input = [503];
    actor.send({ type: 'connection.command', command: { method: 'run', input: [{ type: 'text', text: 'retry me' }] } });
    const s = await until(actor, (x) => x.context.counts.commands === 1 && x.context.counts.received >= 4);
    expect(server.stats.commands.filter((c) => c.key === `${actor.id}:c1`).map((c) => c.op)).toEqual(['input', 'input']);
    expect(s.context.counts).toMatchObject({ commandFailures: 0 });
    expect(received(actor.id).filter((r) => (r.data as { message: { kind: string } }).message.kind === 'user_message')).toHaveLength(1);
  });

  it('a command that outlasts its deadline is OUTCOME_UNKNOWN and never re-sent: the worker runs it once', async () => {
    const { actor, workerId } = observe({}, { commandTimeoutMs: 100 });
    await ready(actor, workerId);
    const late = server.stats.lateAnswers;
    server.faults.slowCommands = [1_500]; // undici and the deadline: the answer comes well after 100 ms
    actor.send({ type: 'connection.command', command: { method: 'run', input: [{ type: 'text', text: 'slow one' }] } });
    const s = await until(actor, (x) => x.context.counts.commands === 1);
    while (server.stats.lateAnswers < late + 1) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200)); // a re-send would come within this
    expect(server.stats.commands.filter((c) => c.key === `${actor.id}:c1`)).toHaveLength(1);
    expect(s.context.diagnostics.filter((d) => d.code === 'input.outcome_unknown').map((d) => d.message)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Backend runtime input outcome unknown for rt:${workerId} \\(not sent again: the backend is not declared to honour Idempotency-Key ${actor.id}:c1\\): yoi input: the request was sent but its answer was lost`,
        ),
      ),
    ]);
    // a 500 may have run the command too: unknown, not re-sent
    server.faults.input = [500];
    actor.send({ type: 'connection.command', command: { method: 'notify', message: 'five hundred' } });
    const t = await until(actor, (x) => x.context.counts.commands === 2);
    expect(server.stats.commands.filter((c) => c.key === `${actor.id}:c2`)).toHaveLength(1);
    expect(t.context.diagnostics.at(-1)?.code).toBe('input.outcome_unknown');
  });

  it('without a deadline (the default, as seed 004 waits) a slow command waits for its answer; with idempotentCommands a lost answer is sent again with the same key', async () => {
    const { actor, workerId } = observe();
    await ready(actor, workerId);
    server.faults.slowCommands = [1_500];
    actor.send({ type: 'connection.command', command: { method: 'notify', message: 'patience' } });
    const s = await until(actor, (x) => x.context.counts.commands === 1);
    expect(server.stats.commands.filter((c) => c.key === `${actor.id}:c1`)).toHaveLength(1);
    expect(s.context.diagnostics.filter((d) => d.code.startsWith('input.'))).toEqual([]);
    // no deadline at all: hours of (virtual) time pass while the answer is on its way, and the command still gets it
    const clock = new VirtualTimeScheduler();
    const client = createYoiClient({ headers: { authorization: 'Bearer yoi-secret-token' }, scheduler: clock });
    server.faults.slowCommands = [300];
    const answer = client.input({ baseUrl: server.url, runtimeId: 'rt', workerId }, { kind: 'system', content: 'no deadline' });
    await new Promise((r) => setTimeout(r, 50));
    clock.schedule(() => undefined, 3 * 3_600_000);
    clock.flush();
    await expect(answer).resolves.toEqual({ state: 'accepted', diagnostics: [] });

    const keyed = observe({}, { commandTimeoutMs: 100, idempotentCommands: true });
    await ready(keyed.actor, keyed.workerId);
    server.faults.slowCommands = [1_500];
    keyed.actor.send({ type: 'connection.command', command: { method: 'cancel' } });
    const k = await until(keyed.actor, (x) => x.context.counts.commands === 1);
    expect(server.stats.commands.filter((c) => c.key === `${keyed.actor.id}:c1`).map((c) => c.op)).toEqual(['cancel', 'cancel']);
    expect(k.context.diagnostics.filter((d) => d.code.startsWith('cancel.'))).toEqual([]);
  });

  it('a transcript over 1 MiB is an ordinary answer', async () => {
    server.faults.bigTranscript = [1.5 * 1024 * 1024];
    const { actor, workerId } = observe();
    const s = await ready(actor, workerId);
    const texts = received(actor.id)
      .map((r) => (r.data as { message: { body: { type: string; text?: string } } }).message.body)
      .filter((b) => b.type === 'text_done');
    expect(texts.map((b) => b.text!.length)).toEqual([1.5 * 1024 * 1024]);
    expect(messages(s).filter((m) => m.startsWith('Backend initial transcript unavailable'))).toEqual([]);
  });

  it('losing the observation stops only the observation, with the seed diagnostic; send() keeps working and onEvent sees the diagnostics', async () => {
    server.faults.upgrade = [503, 404, 503, 503];
    const events: YoiDelivery[] = [];
    const { actor, workerId } = observe(
      { maxReconnects: 3, deliver: 'dispatch' },
      {
        onEvent: async (d) => {
          events.push(d);
        },
      },
    );
    const label = `rt:${workerId}`;
    const stopped = await until(actor, (x) => x.matches({ online: { receive: 'stopped' } }) && x.context.queue.length === 0);
    expect(stopped.status).toBe('active');
    expect(messages(stopped)).toContain(`Backend observation stream for ${label} stopped after 3 reconnect attempts`);
    expect(store.readStream(actor.id).filter((r) => r.type === 'xstate.error.actor.receive')).toHaveLength(4);
    expect(server.faults.upgrade).toEqual([]);
    // the consumer's callback got every diagnostic, as seed 004's event stream carries them
    const seen = events.filter((e) => e.diagnostic !== undefined).map((e) => e.event);
    expect(seen).toEqual(
      expect.arrayContaining([
        { type: 'error', code: 'internal', message: `Backend observation WebSocket connect failed for ${label}: WebSocket upgrade: HTTP 404` },
        { type: 'error', code: 'internal', message: `Backend observation stream for ${label} stopped after 3 reconnect attempts` },
      ]),
    );
    actor.send({ type: 'connection.command', command: { method: 'notify', message: 'still there?' } });
    await until(actor, (x) => x.context.counts.commands === 1);
    expect(server.stats.commands.filter((c) => c.key === `${actor.id}:c1`).map((c) => c.body)).toEqual([{ kind: 'system', content: 'still there?' }]);
  });

  it('a close the source classifies permanent (4403 forbidden, 1008 policy) stops the observation: one socket, not one per close; commands go on', async () => {
    for (const code of [4403, 1008]) {
      server.faults.closeCode = Array(30).fill(code);
      const { actor, workerId } = observe();
      const s = await until(actor, (x) => x.matches({ online: { receive: 'stopped' } }));
      expect(server.stats.connections.filter((c) => c.workerId === workerId)).toHaveLength(1);
      expect(s.context.lastClose).toEqual({ code, reason: 'injected close' });
      expect(messages(s)).toContain(
        `Backend observation stream for rt:${workerId} stopped: WebSocket closed with code ${code} (injected close) (permanent: not reconnected)`,
      );
      actor.send({ type: 'connection.command', command: { method: 'notify', message: 'still there?' } });
      await until(actor, (x) => x.context.counts.commands === 1);
      expect(server.stats.connections.filter((c) => c.workerId === workerId)).toHaveLength(1);
    }
  });

  it('classifyClose can make a close transient again: then it reconnects, as seed 004 reconnects after any close', async () => {
    server.faults.closeCode = [1008];
    const { actor, workerId } = observe({}, { webSocket: { classifyClose: (code) => (code === 1008 ? 'transient' : undefined) } });
    await ready(actor, workerId);
    expect(actor.getSnapshot().context.lastClose).toEqual({ code: 1008, reason: 'injected close' });
    expect(server.stats.connections.filter((c) => c.workerId === workerId)).toHaveLength(2);
  });

  it('counts a connection that opens as a success: a close right after open resets the reconnect count (seed: attempts = 0 on connect)', async () => {
    server.faults.closeCode = [1011, 1011, 1011, 1011, 1011];
    const { actor, workerId } = observe({ maxReconnects: 3 });
    const s = await until(
      actor,
      (x) => x.matches({ online: { receive: 'listening' } }) && server.faults.closeCode!.length === 0 && server.observers('rt', workerId) > 0,
    );
    expect(
      store
        .readStream(actor.id)
        .filter((r) => r.type === 'connection.closed')
        .map((r) => (r.data as { code: number }).code),
    ).toEqual([1011, 1011, 1011, 1011, 1011]);
    expect(s.context.lastClose).toEqual({ code: 1011, reason: 'injected close' });
  });

  it('closes a stalled connection (no pong), reports it, and reconnects', async () => {
    const stalled = await startYoiServer({ autoPong: false });
    try {
      const system = createActorSystem({ store, machines: { yoi: yoiConnectionMachine({ webSocket: { pingIntervalMs: 40, stallTimeoutMs: 120 } }) } });
      systems.push(system);
      const input = yoiConnectionInput({ baseUrl: stalled.url, runtimeId: 'rt', workerId: 'quiet', connectionId: 'yoi-stalled', retryDelayMs: 20 });
      const actor = system.spawn('yoi', { id: input.connectionId, input });
      const s = await until(actor, (x) => x.context.lastClose?.reason === 'stalled');
      expect(store.readStream(actor.id).find((r) => r.type === 'connection.closed')!.data).toMatchObject({ code: 1006, reason: 'stalled' });
      expect(messages(s)).toContain('Backend observation WebSocket error for rt:quiet: stalled');
      await until(actor, () => stalled.stats.connections.length >= 2);
      expect(stalled.stats.connections[1].cursor).toBeNull(); // the only frame was the sequence-0 snapshot, dropped: no cursor yet (as the seed)
    } finally {
      await stalled.close();
    }
  });

  it('recovers from the log in a new system after a crash: the observation resumes from the last logged cursor', async () => {
    const t = tempDb();
    const first = openSqliteStore(t.path);
    const { actor, workerId } = observe({}, {}, first);
    await ready(actor, workerId);
    for (let i = 1; i <= 3; i++) server.emit('rt', workerId, { type: 'text_delta', text: `before ${i}` });
    await until(actor, (s) => s.context.lastSeq === SEQ(3));
    first.close(); // the process "dies": the next append fails and the actor stops, its socket closes
    server.emit('rt', workerId, { type: 'text_delta', text: 'while down' });
    const second = openSqliteStore(t.path);
    try {
      const system = createActorSystem({ store: second, machines: { yoi: yoiConnectionMachine({ headers: { authorization: 'Bearer yoi-secret-token' } }) } });
      systems.push(system);
      const [recovered] = (await system.recover()).recovered as Array<JournaledActor<ConnectionMachine>>;
      server.emit('rt', workerId, { type: 'text_delta', text: 'after' });
      await until(recovered, (s) => s.context.lastSeq === SEQ(5));
      expect(server.stats.connections.filter((c) => c.workerId === workerId).at(-1)!.cursor).toBe(encodeBackendCursor(3));
      const seqs = received(recovered.id, second)
        .map((r) => (r.data as { message: { seq?: string } }).message.seq)
        .filter((q) => q !== undefined)
        .map(num);
      expect(seqs).toEqual([0, 1, 2, 3, 4, 5]);
      expect(recovered.getSnapshot().context.counts).toMatchObject({ received: 6, duplicates: 1 });
      system.stop(recovered.id);
      expect(await verifyReplay(second, connectionMachine, recovered.id)).toMatchObject({ ok: true });
    } finally {
      second.close();
      t.cleanup();
    }
  });
});

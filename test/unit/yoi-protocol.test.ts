import { describe, expect, it } from 'vitest';
import { decodeBackendCursor, encodeBackendCursor, validateYoiTarget, yoiConnectionInput, yoiDelivery, type YoiMethod } from '../../machines/yoi/index.ts';
// the binding's internals, tested where they live
import { backendCommandFromMethod, operationDiagnostics } from '../../machines/yoi/commands.ts';
import { observeFrame } from '../../machines/yoi/observation.ts';
import { backendCursorSeq, observationWsUrl, transcriptUrl, workerApiUrl } from '../../machines/yoi/target.ts';
import { transcriptProjectionToEvents } from '../../machines/yoi/transcript.ts';

const target = { baseUrl: 'http://backend', runtimeId: 'runtime-a', workerId: 'worker-b' };
const event = (cursor: string, payload: object, rid = 'runtime-a', wid = 'worker-b') =>
  JSON.stringify({ kind: 'event', envelope: { cursor, runtime_id: rid, worker_id: wid, payload } });

describe('yoi Backend Runtime API protocol (seed 004, pure parts)', () => {
  it('maps run to user input without a runtime endpoint (backend_command_maps_run_to_user_input_without_runtime_endpoint)', () => {
    expect(
      backendCommandFromMethod({
        method: 'run',
        input: [
          { type: 'text', text: 'hello' },
          { type: 'file_ref', path: 'src/lib.rs' },
        ],
      }),
    ).toEqual({ kind: 'input', input: { kind: 'user', content: 'hello@src/lib.rs' } });
  });

  it('uses the backend runtime and worker identity in the observation URL (observation_url_uses_backend_runtime_worker_identity)', () => {
    const t = { baseUrl: 'http://127.0.0.1:8787/', runtimeId: 'runtime/one', workerId: 'worker one' };
    expect(observationWsUrl(t, 'bo_0000000000000001')).toBe(
      'ws://127.0.0.1:8787/api/runtimes/runtime%2Fone/workers/worker%20one/events/ws?cursor=bo_0000000000000001',
    );
    expect(observationWsUrl({ ...t, baseUrl: 'https://h/' })).toBe('wss://h/api/runtimes/runtime%2Fone/workers/worker%20one/events/ws');
    expect(transcriptUrl(t)).toBe('http://127.0.0.1:8787/api/runtimes/runtime%2Fone/workers/worker%20one/transcript?start=0&limit=512');
    expect(workerApiUrl(t, 'cancel')).toBe('http://127.0.0.1:8787/api/runtimes/runtime%2Fone/workers/worker%20one/cancel');
  });

  it('seeds a snapshot and chat events from the transcript projection (transcript_projection_seeds_snapshot_and_chat_events)', () => {
    const { events, diagnostics } = transcriptProjectionToEvents(target, {
      items: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'tool', content: '{}' },
      ],
      diagnostics: [{ code: 'transcript.truncated', message: 'older items omitted' }],
    });
    expect(events.map((e) => e.type)).toEqual(['snapshot', 'user_message', 'text_delta', 'text_done', 'alert']);
    expect(events[0]).toMatchObject({ greeting: { worker_name: 'worker-b', provider: 'backend-runtime-api', model: 'runtime-a' }, status: 'idle' });
    expect(events[4]).toMatchObject({ level: 'warn', message: 'Backend transcript item with role `tool` is not rendered as chat content' });
    expect(diagnostics).toEqual([{ code: 'transcript.truncated', message: 'Backend transcript diagnostic [transcript.truncated]: older items omitted' }]);
  });

  it('validates the target before any I/O, with the seed messages (validate_target)', () => {
    const bad = (t: object) => () => validateYoiTarget(t as never);
    expect(bad({ ...target, baseUrl: ' ' })).toThrowError(expect.objectContaining({ code: 'INVALID_OPTIONS', message: 'Backend API base URL is required' }));
    expect(bad({ ...target, baseUrl: 'ws://x' })).toThrowError('Backend API base URL must start with http:// or https://');
    expect(bad({ ...target, runtimeId: '' })).toThrowError('runtime_id is required');
    expect(bad({ ...target, workerId: '' })).toThrowError('worker_id is required');
    expect(validateYoiTarget(target)).toEqual(target);
  });

  it('decodes backend cursors: bo_ and 16 hex digits, exactly as a u64 (decode_backend_cursor)', () => {
    expect(decodeBackendCursor('bo_0000000000000001')).toBe(1n);
    expect(decodeBackendCursor('bo_00000000000000fF')).toBe(255n);
    expect(decodeBackendCursor(encodeBackendCursor(123456))).toBe(123456n);
    // above 2^53 a double cannot tell these apart; the cursor's sequence must
    expect(decodeBackendCursor('bo_0020000000000001')).toBe(2n ** 53n + 1n);
    expect(decodeBackendCursor('bo_ffffffffffffffff')).toBe(2n ** 64n - 1n);
    expect(backendCursorSeq('bo_0020000000000001')).not.toBe(backendCursorSeq('bo_0020000000000000'));
    expect(backendCursorSeq('bo_00000000000000fF')).toBe('00000000000000ff');
    expect(encodeBackendCursor(2n ** 64n - 1n)).toBe('bo_ffffffffffffffff');
    for (const bad of ['0000000000000001', 'bo_1', 'bo_000000000000000g', 'bo_00000000000000001']) expect(decodeBackendCursor(bad)).toBeUndefined();
  });

  it('maps every console method: notify -> system input, cancel/shutdown -> lifecycle, the rest unsupported and not sent', () => {
    expect(backendCommandFromMethod({ method: 'notify', message: 'heads up' })).toEqual({ kind: 'input', input: { kind: 'system', content: 'heads up' } });
    expect(backendCommandFromMethod({ method: 'cancel' })).toEqual({
      kind: 'lifecycle',
      action: 'cancel',
      reason: 'requested from TUI Backend Runtime API client',
    });
    expect(backendCommandFromMethod({ method: 'shutdown' })).toEqual({
      kind: 'lifecycle',
      action: 'stop',
      reason: 'requested from TUI Backend Runtime API client',
    });
    const unsupported: Array<[YoiMethod['method'], string]> = [
      ['pause', 'does not expose pause/resume'],
      ['resume', 'does not expose resume'],
      ['compact', 'does not expose compaction'],
      ['list_completions', 'does not expose completion lookup'],
      ['list_rewind_targets', 'rewind controls'],
      ['rewind_to', 'rewind controls'],
      ['list_workers', 'worker-management controls'],
      ['restore_worker', 'worker-management controls'],
      ['register_peer', 'worker-management controls'],
      ['worker_event', 'child Worker lifecycle events'],
    ];
    for (const [method, text] of unsupported) {
      expect(backendCommandFromMethod({ method } as YoiMethod)).toEqual({ kind: 'unsupported', message: expect.stringContaining(text) });
    }
  });

  it('turns an operation answer into diagnostics (enqueue_operation_diagnostics)', () => {
    expect(operationDiagnostics('input', 'r:w', 'accepted', [])).toEqual([]);
    expect(operationDiagnostics('cancel', 'r:w', 'rejected', [{ code: 'busy', message: 'worker is idle' }]).map((d) => d.message)).toEqual([
      'Backend runtime cancel was rejected for r:w',
      'Backend runtime cancel diagnostic [busy]: worker is idle',
    ]);
  });

  it('maps observation frames: events, diagnostics, expired cursor, mismatch, malformed cursor, bad JSON, re-sent frames', () => {
    const ok = observeFrame(target, event('bo_0000000000000002', { type: 'text_delta', text: 'x' }));
    expect(ok).toEqual({
      events: [
        {
          type: 'connection.message',
          message: {
            id: 'bo_0000000000000002',
            cursor: 'bo_0000000000000002',
            seq: '0000000000000002',
            kind: 'text_delta',
            body: { type: 'text_delta', text: 'x' },
          },
          meta: { source: 'ws', cursor: 'bo_0000000000000002' },
        },
      ],
      seq: '0000000000000002',
      stale: false,
      reset: false,
    });
    expect(observeFrame(target, event('bo_0000000000000002', { type: 'text_delta' }), { lastSeq: '0000000000000002' }).events[0].meta).toEqual({
      source: 'ws',
    });
    // seed 004: last_sequence starts at 0, so a sequence-0 event is stale from the start
    expect(observeFrame(target, event('bo_0000000000000000', { type: 'snapshot' })).events[0].meta).toEqual({ source: 'ws' });
    // exact above 2^53: the next sequence is new, not a re-sent frame
    expect(observeFrame(target, event('bo_0020000000000001', { type: 'text_delta' }), { lastSeq: '0020000000000000' }).events[0].meta).toEqual({
      source: 'ws',
      cursor: 'bo_0020000000000001',
    });
    // below the last sequence: a re-send (stale) at the start of a connection, but the stream going back once it has delivered
    const rogue = { lastSeq: 'ffffffffffffffff' };
    expect(observeFrame(target, event('bo_000000000000000c', { type: 'text_delta' }), rogue)).toMatchObject({
      stale: true,
      events: [{ meta: { source: 'ws' } }],
    });
    expect(observeFrame(target, event('bo_000000000000000c', { type: 'text_delta' }), { ...rogue, streamSeq: 'ffffffffffffffff' })).toMatchObject({
      stale: false,
      events: [{ meta: { source: 'ws', cursor: 'bo_000000000000000c' } }],
    });
    const mismatch = observeFrame(target, event('bo_0000000000000003', { type: 'x' }, 'runtime-a', 'other'));
    expect(mismatch.events).toEqual([
      expect.objectContaining({
        type: 'connection.diagnostic',
        message: 'Backend observation frame target mismatch: got runtime-a:other, expected runtime-a:worker-b',
      }),
    ]);
    const malformed = observeFrame(target, event('nope', { type: 'x' }));
    expect(malformed.events.map((e) => e.type)).toEqual(['connection.diagnostic', 'connection.message']);
    expect(malformed.events[0]).toMatchObject({ message: 'Backend observation cursor was malformed: nope' });
    expect(malformed.seq).toBeUndefined();
    expect(malformed.events[1]).toMatchObject({ message: { id: 'nope', unkeyed: true } }); // no identity: never a duplicate
    const expired = observeFrame(target, JSON.stringify({ kind: 'diagnostic', diagnostic: { code: 'backend.cursor_unknown_or_expired', message: 'gone' } }));
    expect(expired.reset).toBe(true);
    expect(expired.events.map((e) => e.type)).toEqual(['connection.diagnostic', 'connection.cursorReset']);
    expect(expired.events[0]).toMatchObject({ message: 'Backend observation diagnostic [backend.cursor_unknown_or_expired]: gone' });
    const bad = observeFrame(target, '{"kind":"event"');
    expect(bad.events).toEqual([
      expect.objectContaining({
        type: 'connection.invalid',
        raw: '{"kind":"event"',
        error: expect.stringMatching(/^Backend observation frame was not valid JSON/),
      }),
    ]);
  });

  it('delivers a diagnostic to onEvent as the seed does (an error event in the same stream) and an event with its exact sequence', () => {
    expect(
      yoiDelivery({
        id: 'diagnostic:3',
        kind: 'diagnostic',
        diagnostic: 'receive.stopped',
        body: { code: 'receive.stopped', message: 'Backend observation stream for r:w stopped after 3 reconnect attempts' },
      }),
    ).toEqual({
      id: 'diagnostic:3',
      diagnostic: 'receive.stopped',
      event: { type: 'error', code: 'internal', message: 'Backend observation stream for r:w stopped after 3 reconnect attempts' },
    });
    expect(
      yoiDelivery({ id: 'bo_ffffffffffffffff', cursor: 'bo_ffffffffffffffff', seq: 'ffffffffffffffff', kind: 'text_delta', body: { type: 'text_delta' } }),
    ).toEqual({ id: 'bo_ffffffffffffffff', cursor: 'bo_ffffffffffffffff', seq: 2n ** 64n - 1n, event: { type: 'text_delta' } });
  });

  it('a yoi connection stops only its observation when lost, drops sequence 0, and delivers diagnostics (seed 004)', () => {
    expect(yoiConnectionInput({ ...target, deliver: 'dispatch' })).toMatchObject({
      onReceiveLost: 'stop',
      maxReconnects: 3,
      seqFloor: '0000000000000000',
      deliverDiagnostics: true,
      receiveLabel: 'Backend observation stream for runtime-a:worker-b',
    });
  });
});

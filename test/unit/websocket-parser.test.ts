import { describe, expect, it } from 'vitest';
import type { Writable } from 'node:stream';
import * as wsModule from 'ws';
import { z } from 'zod';
import { decodeFrame, parseJsonFrame } from '../../src/sources/webSocket/parser.ts';
import { classifyClose, decideReconnect } from '../../src/sources/webSocket/retry.ts';
import { resolveWebSocketOptions } from '../../src/sources/webSocket/options.ts';

/** ws's frame parser (exported by the package, not by @types/ws). */
const { Receiver } = wsModule as unknown as { Receiver: new (options: { isServer: boolean }) => Writable };

/** Feeds raw wire bytes to ws's Receiver (the frame parser of RFC 6455 §5) and collects what our decoder makes of each message. */
function receive(hex: string[]) {
  const receiver = new Receiver({ isServer: false });
  const out: ReturnType<typeof decodeFrame>[] = [];
  receiver.on('message', (data: Buffer, isBinary: boolean) => out.push(decodeFrame(data, isBinary)));
  for (const chunk of hex) receiver.write(Buffer.from(chunk, 'hex'));
  return out;
}

describe('WebSocket parser (pure)', () => {
  it('decodes a single unmasked text frame from raw bytes', () => {
    expect(receive(['810548656c6c6f'])).toEqual([{ kind: 'text', text: 'Hello' }]);
  });

  it('decodes a fragmented text message split across writes, and a binary frame', () => {
    // "Hel" (FIN=0, text) + "lo" (FIN=1, continuation), the first frame cut in two writes; then binary 0x01 0x02
    expect(receive(['01034865', '6c', '80026c6f', '82020102'])).toEqual([
      { kind: 'text', text: 'Hello' },
      { kind: 'binary', bytes: Buffer.from([1, 2]) },
    ]);
  });

  it('keeps text that is not valid UTF-8 as bytes, never throws', () => {
    expect(decodeFrame(Buffer.from('c328', 'hex'), false)).toEqual({ kind: 'invalid-text', bytes: Buffer.from('c328', 'hex') });
    expect(decodeFrame([Buffer.from('e282', 'hex'), Buffer.from('ac', 'hex')], false)).toEqual({ kind: 'text', text: '€' });
    expect(decodeFrame(new Uint8Array([0x68, 0x69]).buffer, false)).toEqual({ kind: 'text', text: 'hi' });
  });

  it('parses JSON frames against a schema, keeping bad ones raw (at most 4 KiB) with the reason', () => {
    const schema = z.object({ kind: z.literal('event'), n: z.number() });
    expect(parseJsonFrame('{"kind":"event","n":1}', schema)).toEqual({ ok: true, value: { kind: 'event', n: 1 } });
    const notJson = parseJsonFrame('{"kind":', schema);
    expect(notJson).toMatchObject({ ok: false, raw: '{"kind":', error: expect.stringMatching(/^not JSON/) });
    expect(parseJsonFrame('{"kind":"event","n":"one"}', schema)).toMatchObject({ ok: false, error: expect.stringContaining('n:') });
    const big = parseJsonFrame(`"${'x'.repeat(10_000)}`, schema);
    expect(big.ok || big.raw.length).toBe(4096);
  });

  it('refuses a frame over its depth or size bound before parsing it, a valid 4,200-level frame included', () => {
    const loose = z.unknown();
    const deep = '{"a":'.repeat(4_200) + '1' + '}'.repeat(4_200);
    expect(parseJsonFrame(deep, loose)).toMatchObject({ ok: false, error: 'payload nested too deep (> maxDepth 64)' });
    expect(parseJsonFrame(deep, loose, { maxDepth: 5_000 })).toMatchObject({ ok: true });
    expect(parseJsonFrame(`"${'x'.repeat(2_000)}"`, loose, { maxBytes: 1_000 })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^payload too large \(2002 bytes/),
    });
  });
});

describe('WebSocket retry policy (pure)', () => {
  const noJitter = { random: () => 0 };
  it('classifies close codes: 1000 normal, policy/protocol codes permanent, the rest transient', () => {
    expect([1000, 1001, 1006, 1011, 1012, 1013, 4000].map((c) => classifyClose(c))).toEqual([
      'normal',
      'transient',
      'transient',
      'transient',
      'transient',
      'transient',
      'transient',
    ]);
    expect([1002, 1003, 1007, 1008, 1009, 1010, 3000, 3003, 4401, 4403].map((c) => classifyClose(c))).toEqual(Array(10).fill('permanent'));
    expect(classifyClose(4409, '', (c) => (c === 4409 ? 'permanent' : undefined))).toBe('permanent');
    expect(classifyClose(4403, '', () => 'transient')).toBe('transient');
    expect(
      classifyClose(4403, '', () => {
        throw new Error('bug');
      }),
    ).toBe('permanent');
  });

  it('reconnects after transient ends with capped exponential backoff and jitter, up to maxAttempts in a row', () => {
    const drop = { close: { code: 1006, reason: '' } };
    expect([0, 1, 2].map((a) => decideReconnect(drop, a, { ...noJitter, maxAttempts: 5 }))).toEqual([
      { reconnect: true, attempt: 1, delayMs: 500 },
      { reconnect: true, attempt: 2, delayMs: 1000 },
      { reconnect: true, attempt: 3, delayMs: 2000 },
    ]);
    expect(decideReconnect(drop, 20, { ...noJitter, maxAttempts: 30 })).toMatchObject({ delayMs: 60_000 });
    expect(decideReconnect(drop, 0, { random: () => 0.5, jitter: 0.2 })).toMatchObject({ delayMs: 550 });
    const gaveUp = decideReconnect(drop, 3, { maxAttempts: 3 });
    expect(gaveUp).toMatchObject({ reconnect: false, error: { code: 'TRANSIENT', details: { attempts: 3, closeCode: 1006 } } });
    expect((gaveUp as { error: Error }).error.message).toBe('WebSocket closed with code 1006; stopped after 3 reconnect attempts');
  });

  it('completes after a normal close, fails at once on a permanent close or error', () => {
    expect(decideReconnect({ close: { code: 1000, reason: 'bye' } }, 0)).toEqual({ reconnect: false });
    expect(decideReconnect({ close: { code: 1000, reason: '' } }, 0, { onNormalClose: true, ...noJitter })).toMatchObject({ reconnect: true });
    expect(decideReconnect({ close: { code: 1008, reason: 'policy' } }, 0)).toMatchObject({
      reconnect: false,
      error: { code: 'PERMANENT', details: { closeCode: 1008 } },
    });
  });

  it('checks options before connecting', () => {
    expect(() => resolveWebSocketOptions('http://x')).toThrowError(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() => resolveWebSocketOptions('not a url')).toThrowError(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() => resolveWebSocketOptions('ws://x', { pingIntervalMs: -1 })).toThrowError(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(resolveWebSocketOptions('ws://x/a?b=1', { cursor: 'c 1' }).urlFor('c 1')).toBe('ws://x/a?b=1&cursor=c+1');
  });
});

import type { RawData } from 'ws';
import type { z } from 'zod';
import { keepRaw } from '../../transport/classify.ts';
import { scrubCredentials } from '../../transport/scrubCredentials.ts';

/** A WebSocket message's payload, decoded: text (valid UTF-8) or binary bytes. */
export type DecodedFrame = { kind: 'text'; text: string } | { kind: 'binary'; bytes: Buffer };

/** A text frame checked against a schema: the value, or the raw text (<= 4 KiB) with the reason. */
export type ParsedFrame<T> = { ok: true; value: T } | { ok: false; raw: string; error: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes of a message as `ws` hands them over (one Buffer, an ArrayBuffer, or fragments). */
export function frameBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * Decodes one message payload (the bytes `ws` delivered, RFC 6455 §5.6): a text message must be
 * valid UTF-8 and becomes a string; a binary message stays bytes. Pure; never throws: text that
 * is not valid UTF-8 comes back as `binary` so the caller can record it raw.
 *
 * @example
 * ```ts
 * decodeFrame(Buffer.from('48656c6c6f', 'hex'), false); // { kind: 'text', text: 'Hello' }
 * ```
 */
export function decodeFrame(data: RawData, isBinary: boolean): DecodedFrame {
  const bytes = frameBytes(data);
  if (isBinary) return { kind: 'binary', bytes };
  try {
    return { kind: 'text', text: utf8.decode(bytes) };
  } catch {
    return { kind: 'binary', bytes };
  }
}

/**
 * Parses a text frame as JSON and checks it with a zod schema. Pure; never throws: a frame that
 * is not JSON or fails the schema is returned as `{ ok: false, raw, error }` with the raw text kept
 * by {@link keepRaw} (credential forms scrubbed, cut to 4 KiB), ready for an `*.invalid` event (docs/architecture.md invariant 6).
 *
 * @example
 * ```ts
 * const frame = parseJsonFrame('{"kind":"event"}', FrameSchema);
 * if (!frame.ok) parent.send({ type: 'connection.invalid', raw: frame.raw, error: frame.error });
 * ```
 */
export function parseJsonFrame<T>(text: string, schema: z.ZodType<T>): ParsedFrame<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, raw: keepRaw(text), error: scrubCredentials(`not JSON (${(err as Error).message})`) };
  }
  const result = schema.safeParse(json);
  if (!result.success) return { ok: false, raw: keepRaw(text), error: result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ').slice(0, 1000) };
  return { ok: true, value: result.data };
}

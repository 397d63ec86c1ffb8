import type { RawData } from 'ws';
import type { z } from 'zod';
import { parseJson, type JsonLimits } from '../../transport/boundedJson.ts';
import { keepRaw } from '../../transport/classify.ts';

/**
 * A WebSocket message's payload, decoded: text (valid UTF-8), binary bytes, or a text message
 * whose bytes are not valid UTF-8 (`invalid-text`, kept as bytes so it can be recorded raw).
 */
export type DecodedFrame = { kind: 'text'; text: string } | { kind: 'binary'; bytes: Buffer } | { kind: 'invalid-text'; bytes: Buffer };

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
 * is not valid UTF-8 comes back as `invalid-text` with its bytes, so the caller records it raw
 * (the source asks `ws` not to check UTF-8 itself: `ws` would close the socket with 1007 and the
 * frame would leave no trace).
 *
 * @example
 * ```ts
 * decodeFrame(Buffer.from('48656c6c6f', 'hex'), false); // { kind: 'text', text: 'Hello' }
 * decodeFrame(Buffer.from('c328', 'hex'), false);       // { kind: 'invalid-text', bytes: <c3 28> }
 * ```
 */
export function decodeFrame(data: RawData, isBinary: boolean): DecodedFrame {
  const bytes = frameBytes(data);
  if (isBinary) return { kind: 'binary', bytes };
  try {
    return { kind: 'text', text: utf8.decode(bytes) };
  } catch {
    return { kind: 'invalid-text', bytes };
  }
}

/**
 * Parses a text frame as JSON within bounds and checks it with a zod schema. Pure; never throws
 * for any text: a frame over `limits.maxBytes` (default 1 MiB) or nested deeper than
 * `limits.maxDepth` (default 64), one that is not JSON, or one that fails the schema is returned
 * as `{ ok: false, raw, error }` with the raw text kept by {@link keepRaw} (credential forms
 * scrubbed, cut to 4 KiB), ready for an `*.invalid` event (docs/architecture.md invariant 6). The
 * bounds keep a valid but absurd payload (thousands of levels deep) out of the journal, whose
 * `JSON.stringify` would overflow the stack on it and stop the actor.
 *
 * @param limits depth and size bounds (`parseJson`'s); the defaults by default
 * @throws ActorlogError `INVALID_OPTIONS` only for bad `limits`
 * @example
 * ```ts
 * const frame = parseJsonFrame('{"kind":"event"}', FrameSchema, { maxDepth: 32 });
 * if (!frame.ok) parent.send({ type: 'connection.invalid', raw: frame.raw, error: frame.error });
 * ```
 */
export function parseJsonFrame<T>(text: string, schema: z.ZodType<T>, limits?: JsonLimits): ParsedFrame<T> {
  const json = parseJson(text, limits);
  if (!json.ok) return { ok: false, raw: json.raw, error: json.error };
  const result = schema.safeParse(json.value);
  if (!result.success) return { ok: false, raw: keepRaw(text), error: result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ').slice(0, 1000) };
  return { ok: true, value: result.data };
}

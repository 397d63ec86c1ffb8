import type { RawData } from 'ws';

/**
 * A WebSocket message's payload, decoded: text (valid UTF-8), binary bytes, or a text message
 * whose bytes are not valid UTF-8 (`invalid-text`, kept as bytes so it can be recorded raw).
 */
export type DecodedFrame = { kind: 'text'; text: string } | { kind: 'binary'; bytes: Buffer } | { kind: 'invalid-text'; bytes: Buffer };

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

export { parseJsonFrame, type ParsedFrame } from '../../transport/boundedJson.ts';

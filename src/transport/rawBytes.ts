import { MAX_RAW_BYTES, truncateRaw } from './classify.ts';
import { scrubCredentials } from './scrubCredentials.ts';

/** Raw bytes as an `*.invalid` event keeps them: text or base64, at most 4 KiB, and the full length. */
export interface KeptBytes {
  /** `base64`: the first bytes, base64; `text`: the first bytes as UTF-8 text (bad sequences as U+FFFD), credential forms scrubbed. */
  encoding: 'base64' | 'text';
  /** At most {@link MAX_RAW_BYTES} characters. */
  raw: string;
  /** The length of the whole payload, in bytes. */
  byteLength: number;
}

/**
 * What is kept of a payload that is not text (a binary WebSocket frame, a text frame that is not
 * valid UTF-8): its first bytes, and its length. The bytes are kept as base64 unless, read as
 * UTF-8, they hold a credential form `scrubCredentials` recognises; then as that scrubbed text, so a
 * secret never reaches the log in an encoding the scrubber cannot see (docs/architecture.md invariant 7).
 *
 * @example
 * ```ts
 * keepRawBytes(Buffer.from([0, 1, 2])); // { encoding: 'base64', raw: 'AAEC', byteLength: 3 }
 * ```
 */
export function keepRawBytes(bytes: Uint8Array): KeptBytes {
  const byteLength = bytes.byteLength;
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(byteLength, 16 * MAX_RAW_BYTES));
  const text = head.toString('utf8');
  const scrubbed = scrubCredentials(text); // once: keepRaw would scrub the same text again
  if (scrubbed !== text) return { encoding: 'text', raw: truncateRaw(scrubbed), byteLength };
  const prefix = head.subarray(0, (MAX_RAW_BYTES / 4) * 3); // base64 of 3 KiB is 4 KiB
  return { encoding: 'base64', raw: prefix.toString('base64'), byteLength };
}

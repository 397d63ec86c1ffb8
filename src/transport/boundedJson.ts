import type { z } from 'zod';
import { ActorlogError } from '../errors.ts';
import { keepRaw } from './classify.ts';
import { scrubCredentials } from './scrubCredentials.ts';

/** Bounds of a JSON payload taken from the wire, checked before it is parsed. */
export interface JsonLimits {
  /**
   * The deepest nesting of arrays and objects accepted (`{}` is depth 1). Deeper payloads are
   * refused: the journal serialises every event with `JSON.stringify`, whose recursion overflows
   * the stack at a few thousand levels, which would stop the actor (`APPEND_FAILED`).
   * @default 64
   */
  maxDepth?: number;
  /** The largest payload accepted, in bytes of UTF-8. @default 1048576 (1 MiB) */
  maxBytes?: number;
}

/** The defaults of {@link JsonLimits}. */
export const DEFAULT_JSON_LIMITS: Readonly<Required<JsonLimits>> = Object.freeze({ maxDepth: 64, maxBytes: 1024 * 1024 });

/** Why a payload was refused: over `maxBytes`, over `maxDepth`, or not JSON. */
export type JsonRefusal = 'too-large' | 'too-deep' | 'not-json';

/** What {@link parseJson} returns: the value, or the raw text kept ({@link keepRaw}) with the reason. */
export type ParsedJson = { ok: true; value: unknown } | { ok: false; raw: string; error: string; reason: JsonRefusal };

const positive = (name: string, v: number | undefined, fallback: number): number => {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 1)
    throw new ActorlogError('INVALID_OPTIONS', `JSON limits: ${name} must be a whole number >= 1 (got ${String(v)})`, { details: { option: name } });
  return v;
};

/**
 * {@link JsonLimits} with the defaults applied.
 * @throws ActorlogError `INVALID_OPTIONS` for a bound that is not a whole number >= 1
 */
export function resolveJsonLimits(limits: JsonLimits = {}): Required<JsonLimits> {
  return {
    maxDepth: positive('maxDepth', limits.maxDepth, DEFAULT_JSON_LIMITS.maxDepth),
    maxBytes: positive('maxBytes', limits.maxBytes, DEFAULT_JSON_LIMITS.maxBytes),
  };
}

/**
 * True when `text` nests arrays or objects deeper than `maxDepth`. One pass over the characters
 * (brackets inside strings do not count), no recursion, no allocation; it does not check that the
 * text is JSON (the parse does).
 */
export function exceedsJsonDepth(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * Parses JSON from the wire within bounds (docs/architecture.md invariant 6, "bad input is
 * recorded, not fatal"): a payload over `maxBytes` or nested deeper than `maxDepth` is refused
 * before `JSON.parse`, as is text that is not JSON. Pure; never throws for any input text: a
 * refused payload comes back as `{ ok: false, raw, error, reason }`, its raw text kept by
 * {@link keepRaw} (credential forms scrubbed, then cut to 4 KiB), ready for an `*.invalid` event.
 * Every binding that parses a frame, an SSE `data:` payload or a response body calls this (or
 * `decodeJson`, which adds a zod schema).
 *
 * @param text the payload (an SSE `data:` field, a WebSocket text frame, a response body)
 * @param limits depth and size bounds; {@link DEFAULT_JSON_LIMITS} by default
 * @throws ActorlogError `INVALID_OPTIONS` only for bad `limits`
 * @example
 * ```ts
 * const json = parseJson(item.data, { maxDepth: 32 });
 * if (!json.ok) return { type: 'session.invalid', raw: json.raw, error: json.error };
 * ```
 */
export function parseJson(text: string, limits?: JsonLimits): ParsedJson {
  const { maxDepth, maxBytes } = resolveJsonLimits(limits);
  // a UTF-8 character is at most 3 bytes per UTF-16 unit: count the bytes only when it could matter
  if (text.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > maxBytes) return { ok: false, raw: keepRaw(text), error: `payload too large (${bytes} bytes > maxBytes ${maxBytes})`, reason: 'too-large' };
  }
  if (exceedsJsonDepth(text, maxDepth)) return { ok: false, raw: keepRaw(text), error: `payload nested too deep (> maxDepth ${maxDepth})`, reason: 'too-deep' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, raw: keepRaw(text), error: scrubCredentials(`not JSON (${(err as Error).message})`.slice(0, 1000)), reason: 'not-json' };
  }
}

/** What {@link decodeJson} returns: the checked value, or the raw text (<= 4 KiB, scrubbed) with the reason. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; raw: string; error: string };
/** @deprecated the same as {@link Decoded}: the name of the frame decoder before it decoded bodies too. */
export type ParsedFrame<T> = Decoded<T>;

/** A zod error as one line: `path: message; path: message` (the root is `(root)`), at most 1000 characters. */
export function schemaErrorText(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ')
    .slice(0, 1000);
}

/**
 * The one decoder of wire JSON, for every client and source: bounded JSON ({@link parseJson}:
 * size, then depth, then `JSON.parse`), then the zod schema. Pure; never throws for any text: a
 * payload over `limits.maxBytes` (default 1 MiB; a binding sets its own, e.g. 64 MiB for results)
 * or nested deeper than `limits.maxDepth` (default 64), one that is not JSON, or one that fails
 * the schema comes back as `{ ok: false, raw, error }`, the raw text kept by {@link keepRaw}
 * (credential forms scrubbed, cut to 4 KiB), ready for an `*.invalid` event (docs/architecture.md
 * invariant 6) or, in a client, for `invalidPayload(label, raw, error)` (`INVALID_PAYLOAD`). The
 * depth bound keeps a valid but absurd payload out of the journal, whose `JSON.stringify` would
 * overflow the stack on it and stop the actor.
 *
 * @param text a response body, an SSE `data:` field, a WebSocket text frame
 * @param limits depth and size bounds (`parseJson`'s); the defaults by default
 * @throws ActorlogError `INVALID_OPTIONS` only for bad `limits`
 * @example
 * ```ts
 * const frame = decodeJson('{"kind":"event"}', FrameSchema, { maxDepth: 32 });
 * if (!frame.ok) parent.send({ type: 'connection.invalid', raw: frame.raw, error: frame.error });
 * const status = decodeJson(body, JobStatusSchema, { maxBytes: 64 * 1024 * 1024 });
 * if (!status.ok) throw invalidPayload('foreman GET /jobs/{id}', status.raw, status.error);
 * ```
 */
export function decodeJson<T>(text: string, schema: z.ZodType<T>, limits?: JsonLimits): Decoded<T> {
  const json = parseJson(text, limits);
  if (!json.ok) return { ok: false, raw: json.raw, error: json.error };
  const result = schema.safeParse(json.value);
  if (!result.success) return { ok: false, raw: keepRaw(text), error: schemaErrorText(result.error) };
  return { ok: true, value: result.data };
}

/** @deprecated {@link decodeJson} under its former name (it decoded WebSocket frames first). */
export const parseJsonFrame = decodeJson;

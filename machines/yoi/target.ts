import { ActorlogError } from '../../src/errors.ts';

/**
 * The worker a yoi connection observes (seed 004 `BackendRuntimeTarget`): the Workspace Backend
 * API root (not a Runtime endpoint) and the Backend-owned runtime and worker ids used as path authority.
 */
export interface YoiTarget {
  /** e.g. `http://127.0.0.1:8787` */
  baseUrl: string;
  runtimeId: string;
  workerId: string;
}

/** Items read per transcript snapshot (seed 004 `TRANSCRIPT_SNAPSHOT_LIMIT`). */
export const TRANSCRIPT_SNAPSHOT_LIMIT = 512;

/**
 * Checks a target before any I/O, with the seed's messages (seed 004 `validate_target`).
 * @throws ActorlogError `INVALID_OPTIONS`: "Backend API base URL is required", "... must start with
 *   http:// or https://", "runtime_id is required", "worker_id is required"
 */
export function validateYoiTarget(target: Partial<YoiTarget> | undefined): YoiTarget {
  const fail = (message: string, option: string) => {
    throw new ActorlogError('INVALID_OPTIONS', message, { details: { option } });
  };
  const baseUrl = target?.baseUrl ?? '';
  if (baseUrl.trim() === '') fail('Backend API base URL is required', 'baseUrl');
  if (!(baseUrl.startsWith('http://') || baseUrl.startsWith('https://'))) fail('Backend API base URL must start with http:// or https://', 'baseUrl');
  if (!target?.runtimeId) fail('runtime_id is required', 'runtimeId');
  if (!target?.workerId) fail('worker_id is required', 'workerId');
  return { baseUrl, runtimeId: target!.runtimeId!, workerId: target!.workerId! };
}

/** `runtime:worker`, as the seed's diagnostics name a target (`display_label`). */
export function displayLabel(target: YoiTarget): string {
  return `${target.runtimeId}:${target.workerId}`;
}

/** Percent-encodes every byte of UTF-8 except ASCII letters, digits and `-._~`, hex in upper case (seed 004 `percent_encode`). */
export function percentEncode(input: string): string {
  let out = '';
  for (const byte of Buffer.from(input, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `base` without trailing slashes, then `path` (seed 004 `join_base_and_path`). */
export function joinBaseAndPath(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}

/** http:// -> ws://, https:// -> wss:// (seed 004 `http_base_to_ws`). */
export function httpBaseToWs(base: string): string {
  if (base.startsWith('https://')) return `wss://${base.slice('https://'.length)}`;
  if (base.startsWith('http://')) return `ws://${base.slice('http://'.length)}`;
  return base;
}

const workerPath = (t: YoiTarget) => `/api/runtimes/${percentEncode(t.runtimeId)}/workers/${percentEncode(t.workerId)}`;

/** The observation WebSocket URL, with `?cursor=` when resuming (seed 004 `observation_ws_url`). */
export function observationWsUrl(target: YoiTarget, cursor?: string): string {
  const url = joinBaseAndPath(httpBaseToWs(target.baseUrl), `${workerPath(target)}/events/ws`);
  return cursor === undefined ? url : `${url}?cursor=${percentEncode(cursor)}`;
}

/** `/api/runtimes/:rid/workers/:wid/<suffix>` on the base URL (seed 004 `worker_api_url`). */
export function workerApiUrl(target: YoiTarget, suffix: string): string {
  return joinBaseAndPath(target.baseUrl, `${workerPath(target)}/${suffix}`);
}

/** The transcript snapshot URL: `…/transcript?start=0&limit=512` (seed 004 `load_initial_transcript`). */
export function transcriptUrl(target: YoiTarget): string {
  return `${workerApiUrl(target, 'transcript')}?start=0&limit=${TRANSCRIPT_SNAPSHOT_LIMIT}`;
}

/**
 * The sequence number in a backend cursor `bo_` + 16 hex digits, exactly (a u64, as seed 004
 * `decode_backend_cursor`'s `u64::from_str_radix`); undefined when malformed. A bigint, never a
 * double: cursors above 2^53 stay distinct.
 * @example
 * ```ts
 * decodeBackendCursor('bo_ffffffffffffffff'); // 18446744073709551615n
 * ```
 */
export function decodeBackendCursor(cursor: string): bigint | undefined {
  const hex = backendCursorSeq(cursor);
  return hex === undefined ? undefined : BigInt(`0x${hex}`);
}

/**
 * The sequence of a backend cursor as its 16 hex digits in lower case (JSON-safe, ordered like the
 * number, compared exactly by the connection machine); undefined when malformed. Pure.
 * @example
 * ```ts
 * backendCursorSeq('bo_00000000000000fF'); // '00000000000000ff'
 * ```
 */
export function backendCursorSeq(cursor: string): string | undefined {
  if (!cursor.startsWith('bo_')) return undefined;
  const hex = cursor.slice(3);
  return /^[0-9a-fA-F]{16}$/.test(hex) ? hex.toLowerCase() : undefined;
}

/** The cursor of sequence number `seq` (what a backend sends; the test server uses it). */
export function encodeBackendCursor(seq: number | bigint): string {
  return `bo_${BigInt(seq).toString(16).padStart(16, '0')}`;
}

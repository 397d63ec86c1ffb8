import { parseJsonFrame } from '../../src/sources/webSocket/parser.ts';
import type { ConnectionMessage, ConnectionWireEvent, WireMeta } from '../connection/events.ts';
import { CURSOR_EXPIRED, FrameSchema, type YoiEvent } from './schemas.ts';
import { decodeBackendCursor, displayLabel, type YoiTarget } from './target.ts';

const WS: WireMeta = { source: 'ws' };

/** What one observation frame becomes: connection events, in order, and whether the observation must reset and resubscribe. */
export interface ObservedFrame {
  events: ConnectionWireEvent[];
  /** The sequence number of an event frame (undefined: none, or a malformed cursor). */
  seq?: number;
  /** True after a `backend.cursor_unknown_or_expired` diagnostic. */
  reset: boolean;
}

/** A yoi event as a connection message: id and cursor = the envelope cursor, seq from it, kind = the event's `type`. */
export function eventMessage(cursor: string, seq: number | undefined, payload: YoiEvent): ConnectionMessage {
  const message: ConnectionMessage = { id: cursor, cursor, kind: payload.type, body: payload };
  return seq === undefined ? message : { ...message, seq };
}

/**
 * Maps one text frame of the observation WebSocket to connection events, as seed 004
 * `observe_worker_events` handles it. Pure.
 * - Not JSON or not a frame: `connection.invalid` (raw text <= 4 KiB and the error), then the stream goes on.
 * - An event for another runtime or worker: a diagnostic "Backend observation frame target
 *   mismatch: got r:w, expected r:w", and the frame is ignored (its cursor is not taken).
 * - An event whose cursor is not `bo_` + 16 hex digits: a diagnostic "Backend observation cursor
 *   was malformed: …", then the event is delivered without a sequence number.
 * - An event: `connection.message` with `meta { source: 'ws', cursor }`. When `lastSeq` is given
 *   and the event's sequence is not above it (a re-sent frame), the meta carries no cursor so the
 *   logged resume point never moves back; the machine drops the duplicate.
 * - A diagnostic frame: a diagnostic "Backend observation diagnostic [code]: message"; with code
 *   `backend.cursor_unknown_or_expired`, also `connection.cursorReset`, and `reset` is true.
 * @example
 * ```ts
 * const { events, reset } = observeFrame({ baseUrl, runtimeId: 'r1', workerId: 'w1' }, text, lastSeq);
 * for (const e of events) parent.send(e);
 * ```
 */
export function observeFrame(target: YoiTarget, text: string, lastSeq?: number): ObservedFrame {
  const frame = parseJsonFrame(text, FrameSchema);
  if (!frame.ok) return { events: [{ type: 'connection.invalid', raw: frame.raw, error: `Backend observation frame was not valid JSON: ${frame.error}`, meta: WS }], reset: false };
  if (frame.value.kind === 'diagnostic') {
    const { code, message } = frame.value.diagnostic;
    const events: ConnectionWireEvent[] = [{ type: 'connection.diagnostic', code, message: `Backend observation diagnostic [${code}]: ${message}`, meta: WS }];
    if (code !== CURSOR_EXPIRED) return { events, reset: false };
    events.push({ type: 'connection.cursorReset', reason: code, meta: WS });
    return { events, reset: true };
  }
  const { envelope } = frame.value;
  if (envelope.runtime_id !== target.runtimeId || envelope.worker_id !== target.workerId) {
    return {
      events: [{
        type: 'connection.diagnostic', code: 'observation.target_mismatch', meta: WS,
        message: `Backend observation frame target mismatch: got ${envelope.runtime_id}:${envelope.worker_id}, expected ${displayLabel(target)}`,
      }],
      reset: false,
    };
  }
  const seq = decodeBackendCursor(envelope.cursor);
  const events: ConnectionWireEvent[] = [];
  if (seq === undefined) {
    events.push({ type: 'connection.diagnostic', code: 'observation.cursor_malformed', message: `Backend observation cursor was malformed: ${envelope.cursor}`, meta: WS });
  }
  const stale = seq !== undefined && lastSeq !== undefined && seq <= lastSeq;
  events.push({ type: 'connection.message', message: eventMessage(envelope.cursor, seq, envelope.payload), meta: stale ? WS : { source: 'ws', cursor: envelope.cursor } });
  return { events, seq, reset: false };
}

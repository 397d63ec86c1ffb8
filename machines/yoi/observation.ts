import type { WebSocketEvent } from '../../src/sources/webSocket/webSocket.ts';
import { parseJsonFrame } from '../../src/sources/webSocket/parser.ts';
import type { JsonLimits } from '../../src/transport/boundedJson.ts';
import { keepRawBytes } from '../../src/transport/rawBytes.ts';
import type { ConnectionMessage, ConnectionWireEvent, WireMeta } from '../connection/events.ts';
import { CURSOR_EXPIRED, FrameSchema, type YoiEvent } from './schemas.ts';
import { seqOrder } from '../connection/context.ts';
import { backendCursorSeq, displayLabel, type YoiTarget } from './target.ts';

const WS: WireMeta = { source: 'ws' };
/** Seed 004 `let mut last_sequence = 0_u64`: every sequence must be above 0. */
export const SEQ_FLOOR = '0000000000000000';

/** What one observation frame becomes: connection events, in order, and whether the observation must reset and resubscribe. */
export interface ObservedFrame {
  events: ConnectionWireEvent[];
  /** The sequence of an event frame, 16 lower-case hex digits (undefined: none, or a malformed cursor). */
  seq?: string;
  /** True when `seq` is stale (a re-send): the position does not move. */
  stale?: boolean;
  /** True after a `backend.cursor_unknown_or_expired` diagnostic. */
  reset: boolean;
}

/**
 * Where the observation stands: the last sequence taken (seed 004 `last_sequence`, from 0) and the
 * one taken last on the current connection (none yet after it opened).
 */
export interface SeqPosition {
  lastSeq: string;
  streamSeq?: string;
}

/**
 * A yoi event as a connection message: id and cursor = the envelope cursor, seq from it, kind =
 * the event's `type`. Without a sequence (a malformed cursor) the cursor text is no identity (many
 * events may share it): the message is `unkeyed`, never taken for a duplicate, as the seed delivers it.
 */
export function eventMessage(cursor: string, seq: string | undefined, payload: YoiEvent): ConnectionMessage {
  const message: ConnectionMessage = { id: cursor, cursor, kind: payload.type, body: payload };
  return seq === undefined ? { ...message, unkeyed: true } : { ...message, seq };
}

/**
 * Maps one text frame of the observation WebSocket to connection events, as seed 004
 * `observe_worker_events` handles it. Pure.
 * - Not JSON, not a frame, or over the JSON `limits` (default: 1 MiB, 64 levels deep):
 *   `connection.invalid` (raw text <= 4 KiB and the error), then the stream goes on.
 * - An event for another runtime or worker: a diagnostic "Backend observation frame target
 *   mismatch: got r:w, expected r:w", and the frame is ignored (its cursor is not taken).
 * - An event whose cursor is not `bo_` + 16 hex digits: a diagnostic "Backend observation cursor
 *   was malformed: …", then the event is delivered without a sequence number (`unkeyed`: each one,
 *   even when several share the malformed text, as the seed delivers them).
 * - An event: `connection.message` with `meta { source: 'ws', cursor }`, its `seq` the cursor's 16
 *   hex digits. When the sequence is `stale` against `position` (`seqOrder`: not above `lastSeq`,
 *   default `0000000000000000`: seed 004's `last_sequence` starts at 0, so a sequence-0 event is
 *   dropped; compared exactly), the meta carries no cursor so the logged resume point never moves
 *   back; the machine drops it as a duplicate, counted and reported. A sequence that went
 *   `backwards` on the same connection keeps its cursor: the last sequence was out of line.
 * - A diagnostic frame: a diagnostic "Backend observation diagnostic [code]: message"; with code
 *   `backend.cursor_unknown_or_expired`, also `connection.cursorReset`, and `reset` is true.
 * @example
 * ```ts
 * const { events, reset } = observeFrame({ baseUrl, runtimeId: 'r1', workerId: 'w1' }, text, { lastSeq: '0000000000000007' });
 * for (const e of events) parent.send(e);
 * ```
 */
export function observeFrame(target: YoiTarget, text: string, position: SeqPosition = { lastSeq: SEQ_FLOOR }, limits?: JsonLimits): ObservedFrame {
  const frame = parseJsonFrame(text, FrameSchema, limits);
  if (!frame.ok)
    return {
      events: [{ type: 'connection.invalid', raw: frame.raw, error: `Backend observation frame was not valid JSON: ${frame.error}`, meta: WS }],
      reset: false,
    };
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
      events: [
        {
          type: 'connection.diagnostic',
          code: 'observation.target_mismatch',
          meta: WS,
          message: `Backend observation frame target mismatch: got ${envelope.runtime_id}:${envelope.worker_id}, expected ${displayLabel(target)}`,
        },
      ],
      reset: false,
    };
  }
  const seq = backendCursorSeq(envelope.cursor);
  const events: ConnectionWireEvent[] = [];
  if (seq === undefined) {
    events.push({
      type: 'connection.diagnostic',
      code: 'observation.cursor_malformed',
      message: `Backend observation cursor was malformed: ${envelope.cursor}`,
      meta: WS,
    });
  }
  const stale = seq !== undefined && seqOrder(seq, position.lastSeq, position.streamSeq) === 'stale';
  events.push({
    type: 'connection.message',
    message: eventMessage(envelope.cursor, seq, envelope.payload),
    meta: stale ? WS : { source: 'ws', cursor: envelope.cursor },
  });
  return { events, seq, stale, reset: false };
}

/**
 * A frame the observation cannot read as text, as `connection.invalid` (seed 004 reads text frames
 * only and would skip it; here it is recorded, never dropped): a binary frame or a text frame that
 * is not UTF-8, its first bytes kept ({@link keepRawBytes}: base64, or scrubbed text when it holds a
 * credential form) and its length; a message over `maxPayloadBytes`, that `ws` refused unread.
 */
export function unreadableFrame(event: Extract<WebSocketEvent, { type: 'message' | 'invalid' }>): ConnectionWireEvent {
  if (event.type === 'invalid' && event.bytes === undefined)
    return { type: 'connection.invalid', raw: '', error: `Backend observation frame was refused: ${event.error}`, meta: WS };
  const kept = keepRawBytes(event.bytes ?? Buffer.alloc(0));
  const what = event.type === 'invalid' ? 'not valid UTF-8' : 'binary';
  return {
    type: 'connection.invalid',
    raw: kept.raw,
    error: `Backend observation frame was ${what} (${kept.byteLength} bytes; raw ${kept.encoding})`,
    meta: WS,
  };
}

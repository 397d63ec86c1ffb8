import type { EventObject } from 'xstate';
import { describeError } from '../errors.ts';
import type { EventRecord } from '../log/types.ts';
import { hasSecrets, redactSecrets } from './redact.ts';

/**
 * Turns an XState event into the JSON-safe `data` of its log record: the event without `type`,
 * Error instances replaced by {@link describeError} (so `xstate.error.actor.*` keeps its message),
 * secrets redacted. Replay rebuilds the event with {@link decodeEvent}; machines that read errors
 * through `describeError` see the same values live and replayed.
 */
export function encodeEventData(event: EventObject): unknown {
  const { type: _type, ...rest } = event as EventObject & Record<string, unknown>;
  let needsJson = false;
  for (const key in rest) {
    const v = rest[key];
    if (v instanceof Error || (typeof v === 'object' && v !== null)) { needsJson = true; break; }
  }
  if (!needsJson) return rest;
  const plain = JSON.parse(JSON.stringify(rest, (_k, v) => (v instanceof Error ? describeError(v) : v)));
  return hasSecrets(plain) ? redactSecrets(plain) : plain;
}

/** The event a log record carries: `{ type, ...data }`, as the live actor received it. */
export function decodeEvent(record: Pick<EventRecord, 'type' | 'data'>): EventObject {
  const data = record.data;
  return data !== null && typeof data === 'object' ? { ...(data as object), type: record.type } : { type: record.type };
}

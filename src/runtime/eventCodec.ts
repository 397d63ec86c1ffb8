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
    if (typeof v === 'object' && v !== null) {
      needsJson = true;
      break;
    }
  }
  const plain = needsJson ? JSON.parse(JSON.stringify(rest, (_k, v) => (v instanceof Error ? describeError(v) : v))) : rest;
  return hasSecrets(plain) ? redactSecrets(plain) : plain;
}

/**
 * Redacts, in place, the fields of a live event that hold secrets (see {@link redactSecrets}), so
 * the actor acts on exactly what the log keeps and replay stays equal to live (DESIGN.md
 * invariants 2 and 7): a field named like a secret reaches the machine as `"[redacted]"`.
 * Returns false when the event is frozen and could not be redacted.
 */
export function redactEventInPlace(event: EventObject): boolean {
  const fields = event as unknown as Record<string, unknown>;
  try {
    for (const key of Object.keys(fields)) {
      if (key === 'type') continue;
      const holder = { [key]: fields[key] };
      if (hasSecrets(holder)) fields[key] = redactSecrets(holder)[key];
    }
    return true;
  } catch {
    return false;
  }
}

/** The event a log record carries: `{ type, ...data }`, as the live actor received it. */
export function decodeEvent(record: Pick<EventRecord, 'type' | 'data'>): EventObject {
  const data = record.data;
  return data !== null && typeof data === 'object' ? { ...(data as object), type: record.type } : { type: record.type };
}

import type { EventObject } from 'xstate';
import { describeError } from '../errors.ts';
import type { EventRecord } from '../log/types.ts';
import { redactEntry } from './redact.ts';

/**
 * The JSON-safe `data` of an event's log record: the event without `type`, secrets redacted
 * ({@link redactSecrets}), Error instances replaced by {@link describeError} (so
 * `xstate.error.actor.*` keeps its message). Redacted fields are also replaced in the live event
 * itself, so the actor acts on exactly what the log keeps and replay stays equal to live (DESIGN.md
 * invariants 2 and 7): a field named like a secret reaches the machine as `"[redacted]"`.
 * One pass over the event's fields; the common event with no secret and no object field is
 * returned without any copy. Replay rebuilds the event with {@link decodeEvent}.
 *
 * @throws TypeError when the event is not JSON-safe (a cycle, a BigInt): the journal then fails the actor.
 */
export function journalEventData(event: EventObject): unknown {
  const fields = event as unknown as Record<string, unknown>;
  const data: Record<string, unknown> = {};
  let needsJson = false;
  for (const key of Object.keys(fields)) {
    if (key === 'type') continue;
    const value = redactEntry(key, fields[key]);
    if (value !== fields[key]) {
      try {
        fields[key] = value;
      } catch {
        // a frozen event keeps its value live; the log still gets the redacted one
      }
    }
    data[key] = value;
    if (typeof value === 'object' && value !== null) needsJson = true;
  }
  return needsJson ? JSON.parse(JSON.stringify(data, (_k, v) => (v instanceof Error ? describeError(v) : v))) : data;
}

/** The event a log record carries: `{ type, ...data }`, as the live actor received it. */
export function decodeEvent(record: Pick<EventRecord, 'type' | 'data'>): EventObject {
  const data = record.data;
  return data !== null && typeof data === 'object' ? { ...(data as object), type: record.type } : { type: record.type };
}

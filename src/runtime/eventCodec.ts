import type { EventObject } from 'xstate';
import { describeError } from '../errors.ts';
import type { EventRecord } from '../log/types.ts';

/** JSON.stringify replacer: an Error becomes its {@link describeError} description (name, message, code, status). */
const describeErrors = (_key: string, value: unknown): unknown => (value instanceof Error ? describeError(value) : value);

/**
 * The JSON-safe `data` of an event's log record: the event without `type`, Error instances
 * replaced by {@link describeError} (so `xstate.error.actor.*` keeps its message). Nothing else is
 * changed: the runtime does not look for secrets in events (docs/architecture.md invariant 7: bindings and
 * transports redact what they name at the boundary, so an event already holds no secret, and
 * `"Basic usage of git"` or `next_page_token` are logged as sent). The common event with no object
 * field is returned without any copy. Replay rebuilds the event with {@link decodeEvent}.
 *
 * @throws TypeError when the event is not JSON-safe (a cycle, a BigInt): the journal then fails the actor.
 */
export function journalEventData(event: EventObject): unknown {
  const fields = event as unknown as Record<string, unknown>;
  const data: Record<string, unknown> = {};
  let needsJson = false;
  for (const key of Object.keys(fields)) {
    if (key === 'type') continue;
    const value = fields[key];
    data[key] = value;
    if (typeof value === 'object' && value !== null) needsJson = true;
  }
  return needsJson ? JSON.parse(JSON.stringify(data, describeErrors)) : data;
}

/**
 * The JSON-safe copy of a stream's input that the log keeps and the actor starts from (so replay
 * and recovery start from the same input): `null` for none, Errors described. Not redacted: an
 * application keeps secrets out of input (they belong in the binding's options or the machine's
 * `provide()`d actors).
 *
 * @throws TypeError when the input is not JSON-safe (a cycle, a BigInt)
 * @example
 * ```ts
 * journalInput({ query: 'Basic usage of git', at: new Date(0), skip: undefined });
 * // { query: 'Basic usage of git', at: '1970-01-01T00:00:00.000Z' }
 * ```
 */
export function journalInput(input: unknown): unknown {
  return input === undefined || input === null ? null : JSON.parse(JSON.stringify(input, describeErrors));
}

/** The event a log record carries: `{ type, ...data }`, as the live actor received it. */
export function decodeEvent(record: Pick<EventRecord, 'type' | 'data'>): EventObject {
  const data = record.data;
  return data !== null && typeof data === 'object' ? { ...(data as object), type: record.type } : { type: record.type };
}

import type { EventObject } from 'xstate';
import { ActorlogError, describeError } from '../errors.ts';
import type { EventRecord } from '../log/types.ts';
import { copyExact, fieldPath, isActorRef, NotJson, plainProto, unwritable } from './jsonValue.ts';

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

/**
 * The `data` of the log record of an event the log holds exactly (the event without `type`, copied):
 * the actor gets exactly what replay will fold.
 * @throws NotJson naming the first field (`event.at`, `event.items[2]`) that is not exactly JSON
 */
export function exactEventData(event: EventObject): Record<string, unknown> {
  if (!plainProto(event)) throw new NotJson('event', `a ${(event as object).constructor?.name ?? 'class instance'}`);
  const fields = event as unknown as Record<string, unknown>;
  const data: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (key === 'type' || value === undefined) continue;
    data[key] = typeof value === 'string' ? value : copyExact(value, fieldPath('event', key));
  }
  return data;
}

/**
 * An event as the log holds it, with its record's `data`: `event` itself when the log holds it
 * exactly, else the event rebuilt from its JSON (an Error described, a `Date` as its ISO string, a
 * `Map` as `{}`…), which the actor then gets in its place, so live and replay see the same event.
 * @throws NotJson when JSON cannot write it at all (a BigInt, a reference cycle), naming where
 */
export function loggedEvent(event: EventObject): { event: EventObject; data: unknown } {
  try {
    return { event, data: exactEventData(event) };
  } catch (err) {
    if (!(err instanceof NotJson)) throw err;
  }
  const { type, ...fields } = event as unknown as Record<string, unknown>;
  const stuck = unwritable(fields, 'event');
  if (stuck) throw stuck;
  const data = JSON.parse(JSON.stringify(fields, describeErrors)) as Record<string, unknown>;
  const delivered = { ...data, type } as Record<string, unknown>;
  // an actor ref at the top (a reply-to) stays a ref for the live actor, as on the exact path
  for (const key of Object.keys(fields))
    if (typeof fields[key] === 'object' && fields[key] !== null && isActorRef(fields[key] as object)) delivered[key] = fields[key];
  return { event: delivered as EventObject, data };
}

/**
 * The copy of a `spawn` input the log keeps and the actor starts from: `null` for none.
 * @throws ActorlogError `INVALID_EVENT` when the input holds a value the log cannot keep exactly (`details.path`)
 */
export function exactInput(input: unknown, streamId: string): unknown {
  if (input === undefined || input === null) return null;
  try {
    return copyExact(input, 'input');
  } catch (err) {
    if (!(err instanceof NotJson)) throw err;
    throw invalidEvent(err, { streamId, input: true }, `the input of ${streamId}`);
  }
}

/** The `INVALID_EVENT` error for `found`, in `what` (an event of a stream, an input). */
export function invalidEvent(found: NotJson, details: Record<string, unknown>, what: string): ActorlogError {
  return new ActorlogError(
    'INVALID_EVENT',
    `${what} holds a value the log cannot keep exactly: ${found.path} is ${found.kind} (the log keeps JSON: strings, finite numbers, booleans, null, plain objects and arrays; send a Date as text or a number, a Map or Set as an array)`,
    { details: { ...details, path: found.path, kind: found.kind } },
  );
}

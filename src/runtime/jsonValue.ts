/**
 * What the log can hold exactly: JSON. An event's data and an actor's input are kept as JSON text,
 * so a value JSON writes as something else (a `Date` becomes a string, a `Map` `{}`, `NaN` `null`, a
 * function disappears) would reach the live actor as one thing and the replay as another. These
 * functions find such a value and say where it is, as a JSON path (`event.at`, `input.items[2].due`).
 * @internal
 */

/** The first value under a path that the log cannot hold exactly, and what it is. */
export class NotJson extends Error {
  constructor(
    readonly path: string,
    readonly kind: string,
  ) {
    super(`${path} is ${kind}`);
  }
}

/** How deep a value may nest: deeper, JSON.stringify (and these walks) could overflow the stack. */
export const MAX_DEPTH = 1000;

/** True for an object literal or `Object.create(null)`: what JSON reads back as itself. */
export const plainProto = (value: object): boolean => {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/** A name for what `value` is, when it is not exactly JSON (for messages). */
function kindOf(value: unknown): string {
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'bigint') return 'a BigInt';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (value === undefined) return 'undefined (in an array)';
  const name = (value as object).constructor?.name;
  return name ? `a ${name}` : 'an object with a prototype';
}

/**
 * True for an actor ref (XState's test, as its `getPersistedSnapshot` makes it, plus the runtime's
 * stand-ins for journaled actors that do not run here): the log keeps it as XState writes it,
 * `{ xstate$$type: 1, id }`, and the live actor gets the ref itself, to reply to at once.
 */
export const isActorRef = (value: object): boolean => 'sessionId' in value && 'send' in value;

/**
 * A deep copy of `value` if the log holds it exactly: `null`, booleans, strings, finite numbers,
 * arrays (no holes, no `undefined`) and plain objects (an `undefined` field is left out, as JSON does);
 * an actor ref becomes `{ xstate$$type: 1, id }` (see {@link isActorRef}).
 * @throws NotJson naming the first value under `path` that is anything else (a cycle, or nesting deeper than {@link MAX_DEPTH}, included)
 */
export function copyExact(value: unknown, path: string, ancestors: object[] = []): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value)) return value;
      throw new NotJson(path, kindOf(value));
    case 'object':
      if (value === null) return null;
      break;
    default:
      throw new NotJson(path, kindOf(value));
  }
  const object = value as object;
  if (isActorRef(object)) return { xstate$$type: 1, id: (object as { id: unknown }).id };
  if (ancestors.includes(object)) throw new NotJson(path, 'a reference cycle');
  if (ancestors.length >= MAX_DEPTH) throw new NotJson(path, `nested more than ${MAX_DEPTH} levels deep`);
  ancestors.push(object);
  try {
    if (Array.isArray(object)) {
      const copy: unknown[] = [];
      for (let i = 0; i < object.length; i++) {
        if (!(i in object)) throw new NotJson(`${path}[${i}]`, 'a hole (in an array)');
        copy[i] = copyExact(object[i], `${path}[${i}]`, ancestors);
      }
      return copy;
    }
    if (!plainProto(object) || typeof (object as { toJSON?: unknown }).toJSON === 'function') throw new NotJson(path, kindOf(object));
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(object)) {
      const field = (object as Record<string, unknown>)[key];
      if (field !== undefined) copy[key] = copyExact(field, fieldPath(path, key), ancestors);
    }
    return copy;
  } finally {
    ancestors.pop();
  }
}

/**
 * The first value under `path` that JSON cannot write at all (a BigInt, a reference cycle), or
 * `undefined` when `JSON.stringify` can write `value` (maybe as something else).
 */
export function unwritable(value: unknown, path: string, ancestors: object[] = []): NotJson | undefined {
  if (typeof value === 'bigint') return new NotJson(path, kindOf(value));
  if (typeof value !== 'object' || value === null) return undefined;
  if (ancestors.includes(value)) return new NotJson(path, 'a reference cycle');
  if (ancestors.length >= MAX_DEPTH) return new NotJson(path, `nested more than ${MAX_DEPTH} levels deep`);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined;
  ancestors.push(value);
  try {
    for (const key of Object.keys(value)) {
      const found = unwritable((value as Record<string, unknown>)[key], Array.isArray(value) ? `${path}[${key}]` : fieldPath(path, key), ancestors);
      if (found) return found;
    }
    return undefined;
  } finally {
    ancestors.pop();
  }
}

/** `path.key`, or `path["key"]` when the key is not an identifier. */
export function fieldPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

import { ActorlogError } from '../errors.ts';
import { assertStreamId } from '../log/streamId.ts';

/** The keys `spawn` takes in its options. */
const KNOWN = new Set(['id', 'input']);

/**
 * Checks what `spawn(machine, options)` was given, before anything is created or written: `machine`
 * a string, `options` an object with a non-empty string `id` and no key other than `id` and `input`
 * (a typo such as `inputs` would otherwise start the actor without its input, for good).
 * @returns the stream id and the input
 * @throws ActorlogError `INVALID_OPTIONS` naming what is wrong
 * @example
 * ```ts
 * const { id, input } = spawnOptions('job', options);
 * ```
 */
export function spawnOptions(machine: unknown, options: unknown): { id: string; input: unknown } {
  if (typeof machine !== 'string')
    throw new ActorlogError('INVALID_OPTIONS', `spawn: the machine is named by the string it was registered under, got ${typeof machine}`);
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ActorlogError(
      'INVALID_OPTIONS',
      `spawn('${machine}'): options are { id, input? }, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`,
      { details: { machine } },
    );
  }
  const unknown = Object.keys(options).filter((key) => !KNOWN.has(key));
  if (unknown.length > 0) {
    throw new ActorlogError('INVALID_OPTIONS', `spawn('${machine}'): unknown option ${unknown.map((k) => `"${k}"`).join(', ')} (spawn takes id and input)`, {
      details: { machine, unknown },
    });
  }
  const { id, input } = options as { id?: unknown; input?: unknown };
  assertStreamId(id, `spawn('${machine}')`);
  return { id, input };
}

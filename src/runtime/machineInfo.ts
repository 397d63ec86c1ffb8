import { createHash } from 'node:crypto';
import type { AnyStateMachine } from 'xstate';

const hashes = new WeakMap<AnyStateMachine, string>();

/**
 * The hash of a machine's definition: sha256 (hex, first 16 chars) of `JSON.stringify(machine.toJSON())`.
 * Implementations given with `.provide()` do not change it; states, transitions and names do.
 * A stream records it, so recovery can tell a log written by another version of the machine.
 */
export function machineHash(machine: AnyStateMachine): string {
  let hash = hashes.get(machine);
  if (!hash) {
    hash = createHash('sha256').update(JSON.stringify(machine.toJSON())).digest('hex').slice(0, 16);
    hashes.set(machine, hash);
  }
  return hash;
}

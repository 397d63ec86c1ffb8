import { ActorlogError } from '../errors.ts';

/** Default of a store's `keepSnapshots` option: 10 snapshots per stream. */
export const DEFAULT_KEEP_SNAPSHOTS = 10;

/**
 * A store's `keepSnapshots` option as the store prunes by it: how many snapshots per stream it
 * keeps (the highest versions), `Infinity` for all (given as `0` or `Infinity`), the default when
 * `undefined`. One rule for every store.
 * @throws ActorlogError `INVALID_OPTIONS` when it is not an integer >= 0 or `Infinity`
 */
export function resolveKeepSnapshots(value: number | undefined): number {
  const keep = value ?? DEFAULT_KEEP_SNAPSHOTS;
  if (keep !== Infinity && !(Number.isInteger(keep) && keep >= 0)) {
    throw new ActorlogError('INVALID_OPTIONS', `keepSnapshots must be an integer >= 0 or Infinity, not ${String(keep)}`, { details: { keepSnapshots: keep } });
  }
  return keep === 0 ? Infinity : keep;
}

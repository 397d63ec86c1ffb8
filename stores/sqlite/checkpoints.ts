import type Database from 'better-sqlite3';

/** The checkpoint operations of the SQLite store (see {@link prepareCheckpoints}). */
export interface Checkpoints {
  saveCheckpoint(name: string, position: number, expected?: number): boolean;
  loadCheckpoint(name: string): number | undefined;
}

/**
 * Prepares the operations on `checkpoints`: a named subscriber's last processed global position,
 * saved with an upsert (the last save wins, also when it moves backwards, e.g. for a rebuild), or,
 * given the position expected to be stored (none counts as 0), with a compare-and-set.
 *
 * @example
 * ```ts
 * const checkpoints = prepareCheckpoints(db);
 * checkpoints.saveCheckpoint('projection:jobs', 1200);
 * checkpoints.loadCheckpoint('projection:jobs'); // 1200
 * checkpoints.loadCheckpoint('unknown'); // undefined
 * ```
 */
export function prepareCheckpoints(db: Database.Database): Checkpoints {
  const upsert = db.prepare('INSERT INTO checkpoints (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position');
  const select = db.prepare<[string], number>('SELECT position FROM checkpoints WHERE name = ?').pluck();
  const compareAndSet = db.transaction((name: string, position: number, expected: number): boolean => {
    if ((select.get(name) ?? 0) !== expected) return false;
    upsert.run(name, position);
    return true;
  });
  return {
    saveCheckpoint(name, position, expected) {
      if (expected !== undefined) return compareAndSet(name, position, expected);
      upsert.run(name, position);
      return true;
    },
    loadCheckpoint(name) {
      return select.get(name);
    },
  };
}

import type Database from 'better-sqlite3';

/** The checkpoint operations of the SQLite store (see {@link prepareCheckpoints}). */
export interface Checkpoints {
  saveCheckpoint(name: string, position: number): void;
  loadCheckpoint(name: string): number | undefined;
}

/**
 * Prepares the operations on `checkpoints`: a named subscriber's last processed global position,
 * saved with an upsert (the last save wins, also when it moves backwards, e.g. for a rebuild).
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
  return {
    saveCheckpoint(name, position) {
      upsert.run(name, position);
    },
    loadCheckpoint(name) {
      return select.get(name);
    },
  };
}

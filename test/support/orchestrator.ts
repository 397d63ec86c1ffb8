import Database from 'better-sqlite3';
import { runTsx, type ChildRun } from './kit/index.ts';

/** The main job (examples/main.ts) as a child process, with its output collected. */
export type Orchestrator = ChildRun;

/** Starts `examples/main.ts` with `args` in a child process (cwd: the repository root). */
export function startOrchestrator(args: string[]): Orchestrator {
  return runTsx('examples/main.ts', args);
}

/** The number of events in the log file, read through a separate read-only connection (0 before the schema exists). */
export function eventCount(path: string): number {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

import fs from 'node:fs';
import Database from 'better-sqlite3';
import { ActorlogError } from '../../src/errors.ts';
import { migrate } from './schema.ts';

/** How a log file is opened (see {@link SqliteStoreOptions} in index.ts for the documented fields). */
export interface ConnectionOptions {
  synchronous: 'NORMAL' | 'FULL';
  busyTimeoutMs: number;
  readonly: boolean;
}

const FILE_MODE = 0o600;

function isMemoryPath(path: string): boolean {
  return path === ':memory:' || path === '';
}

/** Sets mode 0600 on `path` if it exists (the -wal and -shm companions of a log file). */
function restrict(path: string): void {
  try {
    fs.chmodSync(path, FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Opens the one long-lived connection of a store: creates the file with mode 0600 when missing
 * (read-write only), sets WAL, `synchronous` and the busy timeout, migrates the schema, and restricts
 * the -wal and -shm files to 0600.
 *
 * @throws ActorlogError `STORE_UNAVAILABLE` when the file cannot be opened (or, read-only, is missing);
 *   `SCHEMA_VERSION` when the file's schema is newer than this build
 * @example
 * ```ts
 * const db = openConnection('/var/lib/app/log.db', { synchronous: 'NORMAL', busyTimeoutMs: 5000, readonly: false });
 * ```
 */
export function openConnection(path: string, options: ConnectionOptions): Database.Database {
  const memory = isMemoryPath(path);
  if (!memory) {
    if (options.readonly) {
      if (!fs.existsSync(path)) {
        throw new ActorlogError('STORE_UNAVAILABLE', `no log file at ${path} (a read-only store does not create one)`, { details: { path } });
      }
    } else {
      try {
        fs.writeFileSync(path, '', { mode: FILE_MODE, flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new ActorlogError('STORE_UNAVAILABLE', `cannot create log file ${path}: ${(err as Error).message}`, { cause: err, details: { path } });
        }
      }
    }
  }
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: options.readonly, fileMustExist: options.readonly, timeout: options.busyTimeoutMs });
  } catch (err) {
    throw new ActorlogError('STORE_UNAVAILABLE', `cannot open log file ${path}: ${(err as Error).message}`, { cause: err, details: { path } });
  }
  try {
    if (!options.readonly) {
      if (!memory) db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous}`);
    }
    migrate(db, options.readonly);
    if (!memory && !options.readonly) {
      restrict(`${path}-wal`);
      restrict(`${path}-shm`);
    }
  } catch (err) {
    db.close();
    if (err instanceof ActorlogError) throw err;
    throw new ActorlogError('STORE_UNAVAILABLE', `cannot open log file ${path}: ${(err as Error).message}`, { cause: err, details: { path } });
  }
  return db;
}

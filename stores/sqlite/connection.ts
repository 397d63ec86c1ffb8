import fs from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { ActorlogError } from '../../src/errors.ts';
import { inspectFile, migrate } from './schema.ts';

// better-sqlite3 honours `file:` URI filenames only when this variable is '1' as its native addon
// loads (the first `new Database()` of the process). The read-only fallback below needs one
// (`immutable=1`); a plain path never starts with `file:`, so nothing else changes meaning.
process.env.SQLITE_USE_URI ??= '1';

/** How a log file is opened (see {@link SqliteStoreOptions} in index.ts for the documented fields). */
export interface ConnectionOptions {
  synchronous: 'NORMAL' | 'FULL';
  busyTimeoutMs: number;
  readonly: boolean;
}

/** An open connection and how it was opened. */
export interface Connection {
  db: Database.Database;
  /**
   * True when a read-only connection fell back to `immutable=1` (the file's directory is not
   * writable, so SQLite cannot create the WAL's -shm file): no locks, changes by others unseen.
   */
  immutable: boolean;
}

const FILE_MODE = 0o600;

function isMemoryPath(path: string): boolean {
  return path === ':memory:' || path === '';
}

/** How a failed load of better-sqlite3's native addon reads, and what to tell the user about it. */
const NATIVE_BUILD: Array<[RegExp, string]> = [
  [/Could not locate the bindings file/, 'better-sqlite3 has no native build here'],
  [
    /NODE_MODULE_VERSION|compiled against a different Node\.js version/,
    `better-sqlite3 was built for another Node.js version than this one (${process.version})`,
  ],
  [
    /invalid ELF header|wrong ELF class|not a valid Win32 application|incompatible architecture|mach-o file/i,
    `better-sqlite3 was built for another platform than this one (${process.platform}-${process.arch})`,
  ],
];

/** The error of a file that cannot be opened, with its SQLite or file-system `cause`. */
function unavailable(path: string, err: unknown, what = 'cannot open log file'): ActorlogError {
  if (err instanceof ActorlogError) return err;
  const message = (err as Error)?.message ?? String(err);
  const native = NATIVE_BUILD.find(([pattern]) => pattern.test(message));
  if (native) {
    return new ActorlogError(
      'STORE_UNAVAILABLE',
      `${what} ${path}: ${native[1]}. Run \`npm rebuild better-sqlite3\` in the application (it downloads a prebuilt binary, or compiles one with Python and a C++ toolchain)`,
      {
        cause: err,
        details: { path, kind: 'native-build' },
      },
    );
  }
  return new ActorlogError('STORE_UNAVAILABLE', `${what} ${path}: ${message}`, { cause: err, details: { path } });
}

/**
 * Sets mode 0600 on `path` if it exists (the log file and its -wal and -shm companions). A file of
 * another user whose mode this process may not change (EPERM) is left as it is.
 */
function restrict(path: string): void {
  try {
    fs.chmodSync(path, FILE_MODE);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EPERM') throw err;
  }
}

/** Whether this process may create files in `dir` (SQLite's -shm and -wal). */
function writableDir(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether `path` exists with content (a -wal file that still holds commits). */
function nonEmpty(path: string): boolean {
  try {
    return fs.statSync(path).size > 0;
  } catch {
    return false;
  }
}

/**
 * Opens a read-only connection and reads the schema version once, so an unreadable file fails here.
 * A WAL file needs its -shm, which SQLite creates next to it; when the directory is not writable
 * (`SQLITE_READONLY_DIRECTORY`) and no -wal holds commits, it reopens the file as
 * `file:…?immutable=1`: SQLite then takes no locks and assumes nobody changes the file, so the store
 * sees the file as it stood (a tail sees no later records; a writer changing it meanwhile makes reads
 * fail or wrong). With a -wal present it refuses: the main file alone may miss commits.
 */
function openReadonly(path: string, busyTimeoutMs: number): Connection {
  const options = { readonly: true, fileMustExist: true, timeout: busyTimeoutMs };
  const db = new Database(path, options);
  try {
    db.pragma('user_version');
    return { db, immutable: false };
  } catch (err) {
    db.close();
    const code = (err as { code?: unknown }).code;
    if (code !== 'SQLITE_READONLY_DIRECTORY' || writableDir(dirname(resolve(path)))) throw err;
    if (nonEmpty(`${path}-wal`)) {
      throw new ActorlogError(
        'STORE_UNAVAILABLE',
        `cannot open ${path} read-only: its directory is not writable and its -wal file holds commits (open it where SQLite can create ${path}-shm)`,
        {
          cause: err,
          details: { path },
        },
      );
    }
  }
  const uri = `${pathToFileURL(resolve(path)).href}?immutable=1`;
  let db2: Database.Database;
  try {
    db2 = new Database(uri, options);
  } catch (err) {
    throw new ActorlogError(
      'STORE_UNAVAILABLE',
      `cannot open ${path} read-only in a directory that is not writable (SQLite URI filenames are off: SQLITE_USE_URI)`,
      {
        cause: err,
        details: { path },
      },
    );
  }
  return { db: db2, immutable: true };
}

/**
 * Opens the one long-lived connection of a store. Read-write: creates the file with mode 0600 when
 * missing, refuses a file that holds something other than an actorlog log (before writing anything:
 * such a file is left exactly as it was), sets mode 0600 on an existing log file, WAL, `synchronous`
 * and the busy timeout, migrates the schema, and restricts the -wal and -shm files to 0600.
 * Read-only: never writes; falls back to `immutable=1` when the directory is not writable (see
 * `openReadonly` above for the consequence).
 *
 * @throws ActorlogError `STORE_UNAVAILABLE` when the file cannot be opened, is not an actorlog log
 *   (details `{ path, kind: 'foreign' }`), or (read-only) is missing or new; `SCHEMA_VERSION` when
 *   the file's schema is newer than this build (or, read-only, too old)
 * @example
 * ```ts
 * const { db } = openConnection('/var/lib/app/log.db', { synchronous: 'NORMAL', busyTimeoutMs: 5000, readonly: false });
 * ```
 */
export function openConnection(path: string, options: ConnectionOptions): Connection {
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
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw unavailable(path, err, 'cannot create log file');
      }
    }
  }
  let connection: Connection;
  try {
    connection =
      options.readonly && !memory
        ? openReadonly(path, options.busyTimeoutMs)
        : { db: new Database(path, { readonly: options.readonly, timeout: options.busyTimeoutMs }), immutable: false };
  } catch (err) {
    throw unavailable(path, err);
  }
  const { db } = connection;
  try {
    const kind = inspectFile(db);
    if (kind === 'foreign') {
      throw new ActorlogError(
        'STORE_UNAVAILABLE',
        `${path} is not an actorlog log file (it holds other tables or another application's id); it was not changed`,
        {
          details: { path, kind },
        },
      );
    }
    if (!options.readonly) {
      if (!memory) {
        restrict(path);
        db.pragma('journal_mode = WAL');
      }
      db.pragma(`synchronous = ${options.synchronous}`);
    }
    migrate(db, options.readonly);
    if (!memory && !options.readonly) {
      restrict(`${path}-wal`);
      restrict(`${path}-shm`);
    }
  } catch (err) {
    db.close();
    throw unavailable(path, err);
  }
  return connection;
}

import { closeSync, fstatSync, openSync } from 'node:fs';

/**
 * The identity of the log file a connection holds open. SQLite keeps writing to the file it opened,
 * so a log deleted (or replaced, say by a restore copied over it) while the service runs would take
 * every later commit into an unlinked file, lost at exit. `same()` checks that the file opened still
 * has a name: a descriptor of our own on it shows no link left once it is deleted or another file is
 * renamed over its path (one `fstat`, a few microseconds).
 *
 * @example
 * ```ts
 * const identity = fileIdentity('./actorlog.db');
 * if (identity && !identity.same()) throw new Error('the log file was deleted or replaced');
 * identity?.close();
 * ```
 */
export interface FileIdentity {
  /** True while the path names the file opened. */
  same(): boolean;
  /** Closes the descriptor kept on the file. */
  close(): void;
}

/** The identity of the file at `path`, or `undefined` for an in-memory database (`':memory:'`, `''`). */
export function fileIdentity(path: string): FileIdentity | undefined {
  if (path === ':memory:' || path === '' || path.startsWith('file:')) return undefined;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  return {
    same() {
      return fstatSync(fd).nlink > 0; // 0: deleted, or another file renamed over it
    },
    close() {
      closeSync(fd);
    },
  };
}

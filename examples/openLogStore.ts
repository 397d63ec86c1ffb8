import { createHash } from 'node:crypto';
import type { LogStore } from '../src/index.ts';
import { openSqliteStore } from '../stores/sqlite/index.ts';
import { isPostgresUrl } from '../stores/postgres/url.ts';

export { isPostgresUrl };

/**
 * Opens the log an example writes: a SQLite file (created when missing), or a shared PostgreSQL
 * log by URL (`postgres://…`, as `ACTORLOG_DB` may say). An example calls `system.recover()` before
 * it spawns, which on PostgreSQL registers the process as a node that owns what it spawns.
 * @example
 * ```ts
 * const store = await openLogStore(process.env.ACTORLOG_DB ?? './actorlog.db');
 * ```
 */
export async function openLogStore(db: string): Promise<LogStore> {
  if (!isPostgresUrl(db)) return openSqliteStore(db);
  const { openPostgresStore } = await import('../stores/postgres/index.ts');
  return openPostgresStore(db);
}

/**
 * Where an example keeps its files beside a log (server records, run ids, server output): the log
 * file itself, or for a URL a local name derived from it (the URL's password never reaches a file name).
 */
export function localPathOf(db: string): string {
  return isPostgresUrl(db) ? `./actorlog-pg-${createHash('sha256').update(db).digest('hex').slice(0, 12)}` : db;
}

/**
 * How an example names its log on the console: the file path, or for a URL the `"$ACTORLOG_DB"`
 * variable (what a copied command should use) — never the URL, whose password is a secret.
 */
export function shownLog(db: string): string {
  return isPostgresUrl(db) ? '"$ACTORLOG_DB"' : db;
}

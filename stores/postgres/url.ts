/**
 * Whether `db` names a PostgreSQL log (`postgres://…` or `postgresql://…`, as node-postgres takes
 * them) rather than a SQLite file. Imports nothing, so tools can decide before loading `pg`.
 * @example
 * ```ts
 * isPostgresUrl('postgres://app@127.0.0.1:5432/orchestrator'); // true
 * isPostgresUrl('./actorlog.db'); // false
 * ```
 */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

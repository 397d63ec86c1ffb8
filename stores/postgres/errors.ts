import { ActorlogError, type ErrorCode } from '../../src/errors.ts';

/** SQLSTATE classes that mean "the server or the connection is not usable" rather than "this statement failed". */
const UNAVAILABLE_CLASSES = ['08', '53', '57', '58', '28', '3D'];
/** Node socket errors of a connection that could not be made or was lost. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EAI_AGAIN']);

/** The SQLSTATE (e.g. `23505`) or socket code (e.g. `ECONNREFUSED`) of a pg error, when it has one. */
export function pgCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True when `err` says the server or the connection is unusable (not this statement's fault). */
export function isUnavailable(err: unknown): boolean {
  const code = pgCode(err);
  if (code === undefined) {
    const message = (err as { message?: unknown } | null)?.message;
    // pg's own client errors carry no code: "Connection terminated…", "Client has encountered a connection error…"
    return typeof message === 'string' && /connection|terminated|timeout/i.test(message);
  }
  return SOCKET_CODES.has(code) || UNAVAILABLE_CLASSES.includes(code.slice(0, 2));
}

/**
 * Turns a node-postgres error into an {@link ActorlogError} whose message never carries SQL text,
 * values or server detail (those can hold stream ids, payloads or, from a connection string, a
 * password): only what was being done and the SQLSTATE or socket code. The pg error is the `cause`
 * (for logs that the application controls) and the code is in `details.pgCode`.
 *
 * Connection and server failures become `STORE_UNAVAILABLE`; any other failure becomes `fallback`
 * (`APPEND_FAILED` on the write path). An ActorlogError passes through unchanged.
 *
 * @param err what node-postgres threw
 * @param what what the store was doing, for people (e.g. `append to stream job-1`)
 * @param fallback the code of a failure that is not about the connection
 * @example
 * ```ts
 * try { await pool.query(sql, values); }
 * catch (err) { throw wrapPgError(err, 'read the log', 'STORE_UNAVAILABLE'); }
 * ```
 */
export function wrapPgError(err: unknown, what: string, fallback: ErrorCode, details: Record<string, unknown> = {}): ActorlogError {
  if (err instanceof ActorlogError) return err;
  const code = pgCode(err);
  const unavailable = isUnavailable(err);
  const reason = code === undefined ? (unavailable ? 'the connection failed' : 'an unexpected error') : `PostgreSQL error ${code}`;
  return new ActorlogError(unavailable ? 'STORE_UNAVAILABLE' : fallback, `could not ${what}: ${reason}`, {
    cause: err,
    details: code === undefined ? details : { ...details, pgCode: code },
  });
}

/**
 * A connection string with its password (and any `password` query parameter) replaced by `***`,
 * for messages: `postgres://app:***@db:5432/log`. A string that is not a URL becomes `(connection string)`.
 *
 * @example
 * ```ts
 * redactUrl('postgres://app:s3cret@db/log'); // 'postgres://app:***@db/log'
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
    return parsed.toString().replace('%2A%2A%2A', '***');
  } catch {
    return '(connection string)';
  }
}

import pg from 'pg';
import { ActorlogError, type ErrorCode } from '../../src/errors.ts';
import { redactUrl, wrapPgError } from './errors.ts';

/** Something that runs a query: the store's pool, or one client inside a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** A PostgreSQL schema name the store accepts: lower-case letters, digits and `_`, at most 63 bytes. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Checks a schema name given in the options. Names are interpolated into SQL (quoted), so only
 * plain lower-case identifiers are taken.
 * @throws ActorlogError `INVALID_OPTIONS` for anything else
 */
export function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new ActorlogError('INVALID_OPTIONS', 'schema must be a lower-case identifier (a-z, 0-9, _; at most 63 characters, not starting with a digit)', {
      details: { schema },
    });
  }
  return schema;
}

/**
 * The store's connections: the pool every query goes through, the connection settings a dedicated
 * LISTEN client is made from, and whether the store owns the pool (made it from a URL: `close()` ends
 * it) or borrowed it (the application's `pg.Pool`: left open).
 */
export class Connection {
  readonly pool: pg.Pool;
  /** Ends the pool on close: true when the store made it from a URL. */
  readonly ownsPool: boolean;
  /** The server for messages, without password: `postgres://app:***@db:5432/log` or `(application pool)`. */
  readonly label: string;

  constructor(urlOrPool: string | pg.Pool) {
    if (typeof urlOrPool === 'string') {
      this.pool = new pg.Pool({ connectionString: urlOrPool, max: 10 });
      this.ownsPool = true;
      this.label = redactUrl(urlOrPool);
      // an idle client that loses its connection emits 'error' on the pool; without a listener Node
      // would end the process. The next query gets a new client (and its own error, if any).
      this.pool.on('error', () => {});
    } else {
      this.pool = urlOrPool;
      this.ownsPool = false;
      this.label = '(application pool)';
    }
  }

  /** A new client with the pool's settings, for LISTEN (never returned to the pool). */
  listenClient(): pg.Client {
    return new pg.Client(this.pool.options);
  }

  /**
   * Runs one statement on the pool (autocommit). A pg error becomes an ActorlogError (see
   * `wrapPgError`): `STORE_UNAVAILABLE` for connection failures, `fallback` otherwise.
   */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    what: string,
    text: string,
    values: unknown[] = [],
    fallback: ErrorCode = 'STORE_UNAVAILABLE',
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (err) {
      throw wrapPgError(err, what, fallback);
    }
  }

  /**
   * Runs `fn` in one transaction on one client of the pool: `BEGIN`, `fn(client)`, `COMMIT`; on any
   * error `ROLLBACK` (a client whose connection broke is destroyed, not returned) and rethrow, wrapped
   * as for {@link query}.
   */
  async transaction<T>(what: string, fn: (client: pg.PoolClient) => Promise<T>, fallback: ErrorCode = 'APPEND_FAILED'): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw wrapPgError(err, what, 'STORE_UNAVAILABLE');
    }
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError;
      }
      throw wrapPgError(err, what, fallback);
    } finally {
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async end(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}

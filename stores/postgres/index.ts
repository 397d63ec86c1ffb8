import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { ActorlogError } from '../../src/errors.ts';
import { resolveKeepSnapshots } from '../../src/log/keepSnapshots.ts';
import { checkSchemaName, Connection } from './connection.ts';
import { PostgresOwnership } from './ownership.ts';
import { migrate } from './schema.ts';
import { PostgresStore } from './store.ts';
import { DEFAULT_POLL_INTERVAL_MS } from './subscribe.ts';

export { PostgresStore } from './store.ts';
export { PostgresOwnership } from './ownership.ts';
export { SCHEMA_VERSION } from './schema.ts';
export { DEFAULT_POLL_INTERVAL_MS, DEFAULT_BATCH_SIZE, MIN_POLL_INTERVAL_MS } from './subscribe.ts';
export { redactUrl } from './errors.ts';

/** Default of {@link PostgresStoreOptions.leaseMs}: 10 s. */
export const DEFAULT_LEASE_MS = 10_000;
/** Default of {@link PostgresStoreOptions.schema}. */
export const DEFAULT_SCHEMA = 'actorlog';

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /**
   * How long a node's lease lasts (ms, database clock): a node whose last heartbeat is older has lost
   * its streams to whichever node claims them. Failover takes up to this long. @default 10000
   */
  leaseMs?: number;
  /**
   * Once registered, the store renews its lease itself every `heartbeatMs` (ms) and reports a lost
   * lease on `ownership.lost`; 0: never by itself (the application calls `ownership.heartbeat()`).
   * Keep it well below `leaseMs` (a third is usual). @default 0
   */
  heartbeatMs?: number;
  /** Snapshots kept per stream (the highest versions); 0 or `Infinity`: all. @default 10 */
  keepSnapshots?: number;
  /** The longest wait between two polls of a subscription (ms); a NOTIFY or a local commit polls at once. @default 1000 */
  pollIntervalMs?: number;
  /**
   * The PostgreSQL schema of the store's tables, created when missing (lower-case identifier). Several
   * logs may share a database in different schemas. @default 'actorlog'
   */
  schema?: string;
  /** This store's node id for ownership (each `register()` gives it a new epoch). @default `<hostname>-<pid>-<random>` */
  nodeId?: string;
}

function positiveInteger(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (Number.isInteger(value) && value >= min) return value;
  throw new ActorlogError('INVALID_OPTIONS', `${name} must be an integer >= ${min}, not ${String(value)}`, { details: { [name]: value } });
}

/**
 * Opens the PostgreSQL log store (node-postgres): the multi-node store of actorlog. Creates the
 * schema and applies its versioned migrations when needed (one transaction, under an advisory lock).
 *
 * What it guarantees:
 * - **Global order without skips**: every event row records its transaction id (xid8);
 *   `readAll` and `subscribe` deliver only events of transactions older than
 *   `pg_snapshot_xmin(pg_current_snapshot())`, ordered by (transaction id, global position), so an
 *   event is never delivered before one of an older transaction that was still open, and nothing is
 *   skipped (no gap timeouts). Delivery lags while any transaction in the cluster that holds an id is
 *   open. A `LogCursor` (transaction id, global position) resumes exactly; global positions are
 *   increasing but have holes where a transaction rolled back. `readAll` also waits until this
 *   store's own last commit is inside the horizon (read your writes).
 * - **Fenced appends**: each append is ONE statement per stream checking expected version, owner
 *   node, owner epoch and (registered store) status `active` together; nothing is written when any
 *   fails, and one follow-up read names the reason.
 * - **Live delivery**: polling with adaptive backoff (10 ms up to `pollIntervalMs`), an empty NOTIFY
 *   after each commit as a wake-up only, one dedicated LISTEN client while there are subscribers.
 *
 * Errors (all {@link ActorlogError}): `STREAM_EXISTS`; `STREAM_NOT_FOUND`; `VERSION_CONFLICT`
 * (details `{ streamId, expectedVersion, actualVersion }`); `LEASE_LOST` (another node or epoch owns
 * the stream, or an unregistered store writes an owned stream); `ACTOR_STOPPED` (a registered store
 * appends to a stream that has ended); `APPEND_FAILED` (a value not JSON-safe, a failed write);
 * `STORE_UNAVAILABLE` (closed store, connection or server failure); `SCHEMA_VERSION` (the schema was
 * written by a newer actorlog); `INVALID_OPTIONS`. PostgreSQL errors are wrapped: the message names
 * what failed and the SQLSTATE (`details.pgCode`), never SQL text or values; the pg error is the
 * `cause`. A password in the URL never appears in a message.
 *
 * @param urlOrPool a connection string (`postgres://user:password@host:5432/db`; the store makes a
 *   pool of up to 10 connections and ends it on `close()`), or the application's `pg.Pool` (left
 *   open on `close()`). One more connection is opened for LISTEN while there are subscribers.
 * @param options `leaseMs` (ms, default 10000), `heartbeatMs` (ms, default 0: manual), `keepSnapshots`
 *   (default 10), `pollIntervalMs` (ms, default 1000), `schema` (default `'actorlog'`), `nodeId`
 * @returns the store, implementing the asynchronous log contract with `ownership`
 * @throws ActorlogError `STORE_UNAVAILABLE` (server unreachable, authentication), `SCHEMA_VERSION`, `INVALID_OPTIONS`
 * @example
 * ```ts
 * import { openPostgresStore } from 'actorlog/stores/postgres';
 * const store = await openPostgresStore(process.env.DATABASE_URL!, { leaseMs: 10_000, heartbeatMs: 3_000 });
 * await store.ownership.register();
 * await store.createStream({ streamId: 'job-1', machine: { name: 'job', hash: 'ab12' }, input: {}, createdAt: Date.now() });
 * await store.append('job-1', 0, [{ type: 'submit', data: { prompt: 'hi' }, meta: { source: 'external', recordedAt: Date.now() } }]);
 * store.subscribe({ after: 0 }).subscribe((r) => console.log(r.globalPosition, r.type));
 * await store.close();
 * ```
 */
export async function openPostgresStore(urlOrPool: string | pg.Pool, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
  const keepSnapshots = resolveKeepSnapshots(options.keepSnapshots);
  const leaseMs = positiveInteger('leaseMs', options.leaseMs, DEFAULT_LEASE_MS, 1);
  const heartbeatMs = positiveInteger('heartbeatMs', options.heartbeatMs, 0, 0);
  const pollIntervalMs = positiveInteger('pollIntervalMs', options.pollIntervalMs, DEFAULT_POLL_INTERVAL_MS, 1);
  const nodeId = options.nodeId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  if (typeof nodeId !== 'string' || nodeId.length === 0)
    throw new ActorlogError('INVALID_OPTIONS', 'nodeId must be a non-empty string', { details: { nodeId } });
  if (
    typeof urlOrPool !== 'string' &&
    (typeof urlOrPool !== 'object' || urlOrPool === null || typeof (urlOrPool as { query?: unknown }).query !== 'function')
  ) {
    throw new ActorlogError('INVALID_OPTIONS', 'openPostgresStore takes a connection string or a pg.Pool');
  }
  const connection = new Connection(urlOrPool);
  try {
    await migrate(connection, schema);
  } catch (err) {
    await connection.end().catch(() => {});
    throw err;
  }
  return new PostgresStore(
    connection,
    { schema, keepSnapshots, pollIntervalMs },
    (assertOpen) => new PostgresOwnership(connection, `"${schema}"`, { nodeId, leaseMs, heartbeatMs }, assertOpen),
  );
}

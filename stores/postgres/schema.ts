import { ActorlogError } from '../../src/errors.ts';
import type { Connection } from './connection.ts';

/**
 * The versioned migrations of an actorlog schema, applied in order: migration `i` brings the schema
 * from version `i` to `i + 1` (the version is the row count of `schema_migrations`). Append new ones
 * at the end; never edit a released one. `S` stands for the quoted schema name.
 *
 * Version 1:
 * - `streams`: one row per actor. `seq` (identity) orders streams by creation; `version` is the
 *   stream's current version, raised by the append statement itself (the row every append to the
 *   stream locks: appends to one stream serialize on it); `status_at` and `last_at` (ms, double precision like every time column) give
 *   `updatedAt`; `owner_node` and `owner_epoch` are the fencing token of the node incarnation that owns
 *   the stream (NULL: nobody). Indexes: `(status, seq)` for `listStreams({ status })`, and the active
 *   streams by owner.
 * - `events`: `global_position` (identity: increasing, with holes where a transaction rolled back),
 *   `transaction_id` (xid8 of the writing transaction, `pg_current_xact_id()`), `owner_epoch` of the
 *   writer (NULL when the writer was not registered), `type`, `data`, `meta` as `json` (kept as
 *   written: key order and numbers unchanged). `UNIQUE (stream_id, version)` is the backstop of
 *   optimistic concurrency; `(transaction_id, global_position)` is the commit-safe order of `readAll`
 *   and subscriptions; `(stream_id, global_position)` serves `readAll({ streamId })`.
 * - `snapshots` keyed `(stream_id, version)`; `definitions` keyed by hash; `checkpoints` (name,
 *   position); `inbox` (messages to a stream: `id` identity, unique `(stream_id, causation_id)`);
 *   `nodes` (one row per node id: its current epoch and heartbeat time, database clock) with the
 *   epoch sequence `node_epoch`.
 *
 * Version 2 adds `fence_check(passed, wanted)`, which raises SQLSTATE `AL001` when they differ: the
 * multi-stream append statement calls it with the count of stream rows its fenced UPDATE matched,
 * so one refused stream undoes the whole statement.
 *
 * Version 3 adds passivation to `streams`: `passivated_at` (ms, NULL while the actor is resident
 * somewhere) and `wake_at` (its earliest pending timer, ms), with two partial indexes on active
 * streams: `streams_resident` (by `seq`: what `recover()` and `claimOrphans` read, never the sleeping
 * ones) and `streams_wake` (sleeping ones by due time). A passivated stream has no owner.
 */
export const migrations: readonly ((S: string) => string)[] = [
  (S) => `
  CREATE TABLE ${S}.streams (
    stream_id    text PRIMARY KEY,
    seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    machine_name text NOT NULL,
    machine_hash text NOT NULL,
    input        json NOT NULL,
    status       text NOT NULL CHECK (status IN ('active', 'done', 'error', 'stopped')),
    version      bigint NOT NULL DEFAULT 0,
    created_at   double precision NOT NULL,
    status_at    double precision NOT NULL,
    last_at      double precision,
    owner_node   text,
    owner_epoch  bigint
  );
  CREATE INDEX streams_status ON ${S}.streams (status, seq);
  CREATE INDEX streams_owner ON ${S}.streams (owner_node, owner_epoch) WHERE status = 'active';
  CREATE TABLE ${S}.events (
    global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
    stream_id       text NOT NULL,
    version         bigint NOT NULL,
    owner_epoch     bigint,
    type            text NOT NULL,
    data            json NOT NULL,
    meta            json NOT NULL,
    UNIQUE (stream_id, version)
  );
  CREATE INDEX events_transaction_position ON ${S}.events (transaction_id, global_position);
  CREATE INDEX events_stream_position ON ${S}.events (stream_id, global_position);
  CREATE TABLE ${S}.snapshots (
    stream_id   text NOT NULL,
    version     bigint NOT NULL,
    snapshot    json NOT NULL,
    recorded_at double precision NOT NULL,
    PRIMARY KEY (stream_id, version)
  );
  CREATE TABLE ${S}.definitions (
    hash        text PRIMARY KEY,
    name        text NOT NULL,
    definition  json NOT NULL,
    recorded_at double precision NOT NULL
  );
  CREATE TABLE ${S}.checkpoints (
    name     text PRIMARY KEY,
    position bigint NOT NULL
  );
  CREATE TABLE ${S}.inbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id    text NOT NULL,
    causation_id text NOT NULL,
    type         text NOT NULL,
    data         json NOT NULL,
    sender       text NOT NULL,
    posted_at    double precision NOT NULL,
    UNIQUE (stream_id, causation_id)
  );
  CREATE INDEX inbox_stream_id ON ${S}.inbox (stream_id, id);
  CREATE SEQUENCE ${S}.node_epoch;
  CREATE TABLE ${S}.nodes (
    node_id      text PRIMARY KEY,
    epoch        bigint NOT NULL,
    heartbeat_at timestamptz NOT NULL
  );
  `,
  (S) => `
  CREATE FUNCTION ${S}.fence_check(passed bigint, wanted bigint) RETURNS boolean LANGUAGE plpgsql AS $$
  BEGIN
    IF passed <> wanted THEN
      RAISE EXCEPTION 'actorlog: % of % streams refused the append', wanted - passed, wanted USING ERRCODE = 'AL001';
    END IF;
    RETURN true;
  END
  $$;
  `,
  (S) => `
  ALTER TABLE ${S}.streams ADD COLUMN passivated_at double precision, ADD COLUMN wake_at double precision;
  CREATE INDEX streams_resident ON ${S}.streams (seq) WHERE status = 'active' AND passivated_at IS NULL;
  CREATE INDEX streams_wake ON ${S}.streams (wake_at) WHERE status = 'active' AND passivated_at IS NOT NULL;
  `,
];

/**
 * The SQLSTATE `fence_check` (migration 2) raises when some streams of a multi-stream append refused
 * it: the whole statement is undone and the store reads why (see appendBatch.ts).
 */
export const FENCE_REFUSED = 'AL001';

/** The schema version this build writes and understands. */
export const SCHEMA_VERSION = migrations.length;

/** A schema name quoted for SQL (the name was checked by `checkSchemaName`). */
export const quoted = (schema: string): string => `"${schema}"`;

/**
 * Creates the schema when missing and applies the pending migrations, all in one transaction under
 * a transaction-level advisory lock keyed by the schema name, so several processes opening the same
 * schema at once migrate it once.
 *
 * @returns the schema version found before migrating (0 for a new schema)
 * @throws ActorlogError `SCHEMA_VERSION` when the schema was written by a newer actorlog;
 *   `STORE_UNAVAILABLE` when the server cannot be reached; `INVALID_OPTIONS` never (the name is checked before)
 * @example
 * ```ts
 * await migrate(connection, 'actorlog'); // 0 the first time, SCHEMA_VERSION afterwards
 * ```
 */
export async function migrate(connection: Connection, schema: string): Promise<number> {
  const S = quoted(schema);
  return connection.transaction(
    'prepare the actorlog schema',
    async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`actorlog:${schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${S}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${S}.schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
      const found = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${S}.schema_migrations`)).rows[0]!.n);
      if (found > SCHEMA_VERSION) {
        throw new ActorlogError(
          'SCHEMA_VERSION',
          `schema ${schema} is at version ${found}, newer than this build understands (${SCHEMA_VERSION}); upgrade actorlog`,
          {
            details: { schema, found, known: SCHEMA_VERSION },
          },
        );
      }
      for (let v = found; v < SCHEMA_VERSION; v++) {
        await client.query(migrations[v]!(S));
        await client.query(`INSERT INTO ${S}.schema_migrations (version) VALUES ($1)`, [v + 1]);
      }
      return found;
    },
    'STORE_UNAVAILABLE',
  );
}

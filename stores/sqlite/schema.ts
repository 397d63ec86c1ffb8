import type Database from 'better-sqlite3';
import { ActorlogError } from '../../src/errors.ts';

/** `PRAGMA application_id` of an actorlog log file (ASCII "AcLg"), set by migration 2. */
export const APPLICATION_ID = 0x41634c67;

/**
 * The versioned migrations of the log file, applied in order. Migration `i` brings the file from
 * `PRAGMA user_version = i` to `i + 1`. Append new migrations at the end; never edit a released one.
 *
 * Shape (version 1):
 * - `streams`: one row per actor, ordered by `rowid` (creation order). The stream's version and the
 *   time of its last append are derived from `events` (no UPDATE on the append path).
 * - `events`: `global_position INTEGER PRIMARY KEY` (the rowid: increasing, in commit order, since
 *   nothing is ever deleted), `UNIQUE (stream_id, version)` as the optimistic-concurrency backstop.
 *   `data` and `meta` are JSON text; `meta` holds `recordedAt`.
 * - `snapshots`: keyed by `(stream_id, version)`, `snapshot` is JSON text.
 * - `checkpoints`: a subscriber's name and its last processed global position.
 *
 * Version 2 adds `events (stream_id, global_position)`, the index of `readAll({ streamId })` (one
 * stream's events from a global position), and stamps the file with {@link APPLICATION_ID}.
 *
 * Version 3 adds `definitions`: one row per machine definition hash (`hash` as streams record it in
 * `machine_hash`), the registered `name` it was first saved under, `definition` (JSON text of
 * `machine.toJSON()`, see `machineDefinition`) and `recorded_at`; `WITHOUT ROWID`, keyed by `hash`.
 *
 * Version 4 adds `inbox`: messages waiting for a stream, unique by `(stream_id, causation_id)`.
 *
 * Version 5 adds passivation to `streams`: `passivated_at` (ms, NULL while the actor is resident) and
 * `wake_at` (its earliest pending timer, ms), with two partial indexes: `streams_resident` (what
 * `recover()` lists: resident streams by status) and `streams_wake` (passivated streams by due time).
 * Only the queries of passivation read the new columns, so an older file still opens read-only.
 */
export const migrations: readonly string[] = [
  `
  CREATE TABLE streams (
    stream_id    TEXT PRIMARY KEY,
    machine_name TEXT NOT NULL,
    machine_hash TEXT NOT NULL,
    input        TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('active', 'done', 'error', 'stopped')),
    created_at   INTEGER NOT NULL,
    status_at    INTEGER NOT NULL
  );
  CREATE INDEX streams_status ON streams (status);
  CREATE TABLE events (
    global_position INTEGER PRIMARY KEY,
    stream_id       TEXT NOT NULL,
    version         INTEGER NOT NULL,
    type            TEXT NOT NULL,
    data            TEXT NOT NULL,
    meta            TEXT NOT NULL
  );
  CREATE UNIQUE INDEX events_stream_version ON events (stream_id, version);
  CREATE TABLE snapshots (
    stream_id   TEXT NOT NULL,
    version     INTEGER NOT NULL,
    snapshot    TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (stream_id, version)
  ) WITHOUT ROWID;
  CREATE TABLE checkpoints (
    name     TEXT PRIMARY KEY,
    position INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  `
  CREATE INDEX events_stream_position ON events (stream_id, global_position);
  PRAGMA application_id = ${APPLICATION_ID};
  `,
  `
  CREATE TABLE definitions (
    hash        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    definition  TEXT NOT NULL,
    recorded_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  `
  CREATE TABLE inbox (
    id            INTEGER PRIMARY KEY,
    stream_id     TEXT NOT NULL,
    causation_id  TEXT NOT NULL,
    type          TEXT NOT NULL,
    data          TEXT NOT NULL,
    sender        TEXT NOT NULL,
    posted_at     INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX inbox_stream_causation ON inbox (stream_id, causation_id);
  `,
  `
  ALTER TABLE streams ADD COLUMN passivated_at INTEGER;
  ALTER TABLE streams ADD COLUMN wake_at INTEGER;
  CREATE INDEX streams_resident ON streams (status) WHERE passivated_at IS NULL;
  CREATE INDEX streams_wake ON streams (wake_at) WHERE passivated_at IS NOT NULL;
  `,
];

/**
 * The oldest schema version a read-only connection accepts: migrations since then only add an index
 * (2) and the `definitions` table (3), so every query of this build runs on it (slower without the
 * index; `loadDefinition` finds nothing without the table). Raise it with a migration that changes a
 * table.
 */
export const READONLY_COMPATIBLE_FROM = 1;

/** The tables of every actorlog schema version (from 1). */
const TABLES = ['checkpoints', 'events', 'snapshots', 'streams'];

/** What {@link inspectFile} found in a file before anything is written to it. */
export type FileKind = 'new' | 'actorlog' | 'foreign';

/**
 * Tells, by reading only, what a database file holds: `new` (user_version 0 and no schema object at
 * all: an empty or just-created file), `actorlog` (our application id, or a user_version of 1 or more
 * with every actorlog table: a log of any schema version), or `foreign` (anything else).
 *
 * @example
 * ```ts
 * inspectFile(new Database('other-app.db')); // 'foreign': openSqliteStore refuses it
 * ```
 */
export function inspectFile(db: Database.Database): FileKind {
  const userVersion = db.pragma('user_version', { simple: true }) as number;
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  if (applicationId === APPLICATION_ID) return 'actorlog';
  if (applicationId !== 0) return 'foreign';
  const names = db.prepare<[], string>('SELECT name FROM sqlite_schema').pluck().all();
  if (userVersion === 0) return names.length === 0 ? 'new' : 'foreign';
  return TABLES.every((t) => names.includes(t)) ? 'actorlog' : 'foreign';
}

/** The schema version this build writes and understands (`PRAGMA user_version`). */
export const SCHEMA_VERSION = migrations.length;

/**
 * Brings the file's schema to {@link SCHEMA_VERSION}, all pending migrations in one transaction.
 *
 * @param db an open connection
 * @param readonly when true, nothing is migrated: the file must be at a version from
 *   {@link READONLY_COMPATIBLE_FROM} to the current one
 * @returns the schema version found before migrating (0 for a new file)
 * @throws ActorlogError `SCHEMA_VERSION` when the file is newer than this build, or (read-only) older;
 *   `STORE_UNAVAILABLE` when a read-only file holds no actorlog schema at all
 * @example
 * ```ts
 * const db = new Database('log.db');
 * migrate(db, false); // a new file now has user_version = SCHEMA_VERSION
 * ```
 */
export function migrate(db: Database.Database, readonly: boolean): number {
  const found = db.pragma('user_version', { simple: true }) as number;
  if (found > SCHEMA_VERSION) {
    throw new ActorlogError('SCHEMA_VERSION', `log file schema version ${found} is newer than this build understands (${SCHEMA_VERSION}); upgrade actorlog`, {
      details: { found, known: SCHEMA_VERSION },
    });
  }
  if (found === SCHEMA_VERSION || (readonly && found >= READONLY_COMPATIBLE_FROM)) return found;
  if (readonly) {
    if (found === 0) throw new ActorlogError('STORE_UNAVAILABLE', `${db.name} is not an actorlog log file (no schema)`, { details: { path: db.name } });
    throw new ActorlogError('SCHEMA_VERSION', `log file schema version ${found} is older than ${SCHEMA_VERSION}; open it read-write once to migrate it`, {
      details: { found, known: SCHEMA_VERSION },
    });
  }
  db.transaction(() => {
    // re-read under the write lock: another process may have migrated the file meanwhile
    const current = db.pragma('user_version', { simple: true }) as number;
    for (let v = current; v < SCHEMA_VERSION; v++) db.exec(migrations[v]!);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
  return found;
}

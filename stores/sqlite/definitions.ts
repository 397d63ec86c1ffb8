import type Database from 'better-sqlite3';
import type { DefinitionRecord } from '../../src/log/types.ts';
import { encodeJson } from './rows.ts';

/** The definition operations of the SQLite store (see {@link prepareDefinitions}). */
export interface Definitions {
  saveDefinition(record: DefinitionRecord): void;
  loadDefinition(hash: string): DefinitionRecord | undefined;
}

interface DefinitionRow {
  hash: string;
  name: string;
  definition: string;
  recorded_at: number;
}

/** Whether the file has the `definitions` table (schema version 3 on; a read-only store may open version 1 or 2). */
function hasTable(db: Database.Database): boolean {
  return db.prepare<[], number>("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'definitions'").pluck().get() === 1;
}

/**
 * Prepares the operations on `definitions`: save inserts a machine definition under its hash and
 * keeps the first one (`INSERT … ON CONFLICT DO NOTHING`: saving a hash again changes nothing); load
 * reads one by its primary key and parses its JSON into fresh objects.
 *
 * A read-only store may open a log of schema version 1 or 2, which has no `definitions` table: load
 * then returns undefined, and looks for the table again on the next call (another process may
 * migrate the file meanwhile). Saving needs the table: the store writes only on a migrated file.
 *
 * @example
 * ```ts
 * const definitions = prepareDefinitions(db);
 * definitions.saveDefinition({ hash: machineHash(m), name: 'job', definition: machineDefinition(m), recordedAt: Date.now() });
 * definitions.loadDefinition(machineHash(m))?.name; // 'job'
 * ```
 */
export function prepareDefinitions(db: Database.Database): Definitions {
  let statements: { insert: Database.Statement<[string, string, string, number]>; select: Database.Statement<[string], DefinitionRow> } | undefined;
  const prepared = () => {
    if (statements === undefined && hasTable(db)) {
      statements = {
        insert: db.prepare('INSERT INTO definitions (hash, name, definition, recorded_at) VALUES (?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING'),
        select: db.prepare('SELECT hash, name, definition, recorded_at FROM definitions WHERE hash = ?'),
      };
    }
    return statements;
  };
  prepared();
  return {
    saveDefinition(record) {
      // a writable store has migrated its file: the table is there
      prepared()!.insert.run(record.hash, record.name, encodeJson(record.definition), record.recordedAt);
    },
    loadDefinition(hash) {
      const row = prepared()?.select.get(hash);
      return row === undefined ? undefined : { hash: row.hash, name: row.name, definition: JSON.parse(row.definition), recordedAt: row.recorded_at };
    },
  };
}

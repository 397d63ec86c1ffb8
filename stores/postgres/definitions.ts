import { ActorlogError } from '../../src/errors.ts';
import type { DefinitionRecord } from '../../src/log/types.ts';
import type { Queryable } from './connection.ts';
import { wrapPgError } from './errors.ts';
import { encodeJson } from './rows.ts';

/**
 * Saves machine definitions under their hashes; the first record saved for a hash is kept
 * (`ON CONFLICT DO NOTHING`: saving a hash again changes nothing). Several in one statement.
 * @throws ActorlogError `APPEND_FAILED` when a definition is not JSON-safe or the write fails
 * @example
 * ```ts
 * await saveDefinitions(pool, S, [{ hash: machineHash(m), name: 'job', definition: machineDefinition(m), recordedAt: Date.now() }]);
 * ```
 */
export async function saveDefinitions(q: Queryable, S: string, records: readonly DefinitionRecord[]): Promise<void> {
  if (records.length === 0) return;
  let definitions: string[];
  try {
    definitions = records.map((r) => encodeJson(r.definition));
  } catch (err) {
    throw new ActorlogError('APPEND_FAILED', `could not save a machine definition: it is not JSON-safe (${(err as Error).message})`, { cause: err });
  }
  try {
    await q.query(
      `INSERT INTO ${S}.definitions (hash, name, definition, recorded_at)
       SELECT d.hash, d.name, d.definition::json, d.recorded_at FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[]) AS d(hash, name, definition, recorded_at)
       ON CONFLICT (hash) DO NOTHING`,
      [records.map((r) => r.hash), records.map((r) => r.name), definitions, records.map((r) => r.recordedAt)],
    );
  } catch (err) {
    throw wrapPgError(err, 'save a machine definition', 'APPEND_FAILED');
  }
}

/** The definition saved under `hash`, or undefined. */
export async function loadDefinition(q: Queryable, S: string, hash: string): Promise<DefinitionRecord | undefined> {
  const { rows } = await q.query<{ hash: string; name: string; definition: unknown; recorded_at: number }>(
    `SELECT hash, name, definition, recorded_at FROM ${S}.definitions WHERE hash = $1`,
    [hash],
  );
  const row = rows[0];
  return row === undefined ? undefined : { hash: row.hash, name: row.name, definition: row.definition, recordedAt: row.recorded_at };
}

import type { Queryable } from './connection.ts';
import { wrapPgError } from './errors.ts';

/**
 * Saves a named subscriber's global position. Without `expected`: a plain upsert (the last save
 * wins, also backwards). With `expected`: compare-and-set in one statement: it writes only when the
 * stored position is `expected` (a checkpoint never saved counts as 0), and returns whether it wrote.
 * Two processes advancing the same checkpoint from the same position: one wins, the other gets false.
 *
 * @throws ActorlogError `APPEND_FAILED` when the write fails; `STORE_UNAVAILABLE` for the connection
 * @example
 * ```ts
 * await saveCheckpoint(pool, S, 'projection', 120, 100); // true when it was at 100, else false (nothing written)
 * ```
 */
export async function saveCheckpoint(q: Queryable, S: string, name: string, position: number, expected?: number): Promise<boolean> {
  try {
    if (expected === undefined) {
      await q.query(`INSERT INTO ${S}.checkpoints (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET position = excluded.position`, [
        name,
        position,
      ]);
      return true;
    }
    // expected 0 also matches a checkpoint never saved (insert); any other only a stored equal position
    const { rowCount } =
      expected === 0
        ? await q.query(
            `INSERT INTO ${S}.checkpoints AS c (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET position = excluded.position WHERE c.position = 0`,
            [name, position],
          )
        : await q.query(`UPDATE ${S}.checkpoints SET position = $2 WHERE name = $1 AND position = $3`, [name, position, expected]);
    return (rowCount ?? 0) > 0;
  } catch (err) {
    throw wrapPgError(err, `save checkpoint ${name}`, 'APPEND_FAILED', { name });
  }
}

/** A named subscriber's saved position, or undefined. */
export async function loadCheckpoint(q: Queryable, S: string, name: string): Promise<number | undefined> {
  const { rows } = await q.query<{ position: string }>(`SELECT position FROM ${S}.checkpoints WHERE name = $1`, [name]);
  return rows[0] === undefined ? undefined : Number(rows[0].position);
}

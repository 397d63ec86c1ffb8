import { ActorlogError } from '../src/errors.ts';
import type { EmbeddedLogStore, LogStore } from '../src/log/types.ts';
import { createMemoryStore } from '../stores/memory.ts';
import { openSqliteStore } from '../stores/sqlite/index.ts';
import { isPostgresUrl } from '../stores/postgres/url.ts';

/** A log the CLI reads, and how to let it go. */
export interface OpenedLog<S extends LogStore = LogStore> {
  store: S;
  close(): Promise<void>;
}

export { isPostgresUrl };

/**
 * Opens the log a command reads: a SQLite file read-only (safe while a service writes it), or a
 * PostgreSQL log by URL (`postgres://user:pass@127.0.0.1:5432/db`; the password never reaches a
 * message). Nothing is written either way: no node registers, no migration runs on a file.
 * @throws ActorlogError `STORE_UNAVAILABLE` (no file, server unreachable), `SCHEMA_VERSION`
 * @example
 * ```ts
 * const log = await openLog(process.env.ACTORLOG_DB ?? './actorlog.db');
 * try { console.log((await log.store.listStreams()).length); } finally { await log.close(); }
 * ```
 */
export async function openLog(db: string): Promise<OpenedLog> {
  if (!isPostgresUrl(db)) {
    const store = openSqliteStore(db, { readonly: true });
    return { store, close: async () => store.close() };
  }
  const { openPostgresStore } = await import('../stores/postgres/index.ts');
  const store = await openPostgresStore(db);
  return { store, close: () => store.close() };
}

/** Streams copied per read while loading a PostgreSQL log into memory. */
const PAGE = 5000;

/**
 * Opens the log as an {@link EmbeddedLogStore} (reads answer at once), for the commands that walk it
 * synchronously (`inspect`, `view`): a SQLite file as it is; a PostgreSQL log is read once, whole, into
 * a memory store (streams, events in commit order, snapshots, definitions). The copy's global
 * positions count the copied events from 1 (PostgreSQL's may have gaps), and it does not follow later
 * writes.
 * @throws ActorlogError `STORE_UNAVAILABLE`, `SCHEMA_VERSION`
 */
export async function openLogCopy(db: string): Promise<OpenedLog<EmbeddedLogStore>> {
  if (!isPostgresUrl(db)) {
    const store = openSqliteStore(db, { readonly: true });
    return { store, close: async () => store.close() };
  }
  const source = await openLog(db);
  const copy = createMemoryStore({ keepSnapshots: Infinity });
  try {
    const streams = await source.store.listStreams();
    const hashes = new Set<string>();
    for (const s of streams) {
      copy.createStream({ streamId: s.streamId, machine: s.machine, input: s.input, createdAt: s.createdAt });
      hashes.add(s.machine.hash);
    }
    for (const hash of hashes) {
      const d = await source.store.loadDefinition(hash);
      if (d) copy.saveDefinition(d);
    }
    let after: Parameters<LogStore['readAll']>[0] extends infer O ? (O extends { after?: infer A } ? A : never) : never = 0;
    for (;;) {
      const page = await source.store.readAll({ after, limit: PAGE });
      for (const r of page) copy.append(r.streamId, r.version - 1, [{ type: r.type, data: r.data, meta: r.meta }]);
      if (page.length < PAGE) break;
      const last = page[page.length - 1]!;
      after = { transactionId: last.transactionId ?? '0', globalPosition: last.globalPosition };
    }
    for (const s of streams) {
      for (const snapshot of await source.store.listSnapshots(s.streamId)) copy.saveSnapshot(snapshot);
      if (s.status !== 'active') copy.setStreamStatus(s.streamId, s.status, s.updatedAt);
    }
  } catch (err) {
    await source.close();
    throw err instanceof ActorlogError
      ? err
      : new ActorlogError('STORE_UNAVAILABLE', `could not read the PostgreSQL log: ${(err as Error)?.message ?? err}`, { cause: err });
  }
  await source.close();
  return { store: copy, close: async () => copy.close() };
}

// Child process of bench/sqliteBeforeAfter.ts: one SQLite each-mode measurement by the runtime of
// another checkout. Usage: node --import tsx bench/sqliteEachChild.ts <root> <events>
// It imports <root>/bench/actor.ts and <root>/stores/sqlite/index.ts (the runtime as that checkout
// has it), measures on a temporary file (removed) and prints one JSON line: { "perSec": n, "cpuUsPerEvent": µs }.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

interface ActorBench {
  measureJournaled: (store: unknown, options: { commit: 'each'; events: number; streamId: string }) => Promise<number>;
}
interface SqliteStores {
  openSqliteStore: (file: string) => { close(): unknown };
}

const [root, eventsArg] = process.argv.slice(2);
const events = Number(eventsArg);
if (root === undefined || !Number.isSafeInteger(events) || events < 1) {
  process.stderr.write('usage: sqliteEachChild.ts <checkout root> <events>\n');
  process.exit(2);
}
const from = (path: string) => pathToFileURL(resolve(root, path)).href;
const { measureJournaled } = (await import(from('bench/actor.ts'))) as ActorBench;
const { openSqliteStore } = (await import(from('stores/sqlite/index.ts'))) as SqliteStores;
const dir = mkdtempSync(join(tmpdir(), 'actorlog-bench-each-'));
try {
  const store = openSqliteStore(join(dir, 'each.db'));
  try {
    await measureJournaled(store, { commit: 'each', events: Math.min(events, 2_000), streamId: 'warm' });
    const cpu = process.cpuUsage();
    const perSec = await measureJournaled(store, { commit: 'each', events, streamId: 'each' });
    const used = process.cpuUsage(cpu);
    const cpuUsPerEvent = Math.round(((used.user + used.system) / events) * 10) / 10;
    process.stdout.write(JSON.stringify({ perSec: Math.round(perSec), cpuUsPerEvent }) + '\n');
  } finally {
    await store.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

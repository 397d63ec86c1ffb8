/**
 * A process holding one molecule connection on a SQLite log, for the kill -9 test
 * (test/e2e/molecule-crash.test.ts): it recovers whatever the log holds (or spawns the connection),
 * dispatches through the test platform's durable backend, and exits 0 once `--until` messages are
 * dispatched. The test SIGKILLs it at chosen points and starts it again on the same file.
 *
 * Usage: tsx test/support/molecule-process.ts --db <file> --api <url> --token <t> --workspace <id> --until <n> [--max-retry-delay <ms>]
 */
import { parseArgs } from 'node:util';
import type { ConnectionMachine } from '../../machines/connection/machine.ts';
import { createMoleculeConnection } from '../../machines/molecule/index.ts';
import { createActorSystem, type JournaledActor } from '../../src/index.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { durableBackend } from '../servers/molecule-server.ts';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    api: { type: 'string' },
    token: { type: 'string' },
    workspace: { type: 'string' },
    until: { type: 'string' },
    'max-retry-delay': { type: 'string' },
  },
});
const conn = createMoleculeConnection({
  apiUrl: values.api!,
  token: values.token!,
  workspaceId: values.workspace!,
  backend: durableBackend(values.api!),
  pollIntervalMs: 20,
  heartbeatIntervalMs: 200,
  retryDelayMs: 20,
  ...(values['max-retry-delay'] ? { maxRetryDelayMs: Number(values['max-retry-delay']) } : {}),
});
const store = openSqliteStore(values.db!);
const system = createActorSystem({ store, machines: { molecule: conn.machine } });
const report = await system.recover();
const actor = (system.get(conn.id) ?? system.spawn('molecule', { id: conn.id, input: conn.input })) as JournaledActor<ConnectionMachine>;
console.log(
  `pid ${process.pid}: ${report.recovered.length ? 'recovered' : 'spawned'} ${conn.id} in ${JSON.stringify(actor.getSnapshot().value)}, ${actor.getSnapshot().context.queue.length} queued`,
);
actor.subscribe((s) => console.log(`state ${JSON.stringify(s.value)} dispatched=${s.context.counts.dispatched} cursor=${s.context.cursor}`));
const target = Number(values.until);
const final = await actor.waitFor((s) => s.status !== 'active' || (s.context.counts.dispatched >= target && s.context.pendingReply === undefined), {
  timeoutMs: 30_000,
});
if (final.status === 'active') actor.send({ type: 'connection.close', reason: 'done' });
console.log(
  `finished: ${JSON.stringify(actor.getSnapshot().value)} ${actor.getSnapshot().context.reason ?? ''} counts=${JSON.stringify(actor.getSnapshot().context.counts)}`,
);
await system.close();
store.close();
process.exit(actor.getSnapshot().value === 'offline' ? 0 : 1);

/**
 * One node of a shared PostgreSQL log, run as its own process by the cross-node tests:
 * `tsx test/support/pg-node.ts <url> <leaseMs> [spawn…]` where each spawn is `a:<total>` (a pinger
 * with id `a`) or `b` (the ponger). It recovers (and keeps claiming) whatever no live node owns,
 * spawns what it was told unless the log has it, prints `ready`, and runs until SIGTERM.
 */
import { createActorSystem } from '../../src/index.ts';
import { openPostgresStore } from '../../stores/postgres/index.ts';
import { pinger, ponger } from './pingPong.ts';

const [url, lease, ...spawns] = process.argv.slice(2);
const leaseMs = Number(lease);
const store = await openPostgresStore(url!, { leaseMs });
const system = createActorSystem({ store, machines: { pinger, ponger }, claimIntervalMs: Math.floor(leaseMs / 4), snapshotEvery: 50 });
await system.recover();
for (const spec of spawns) {
  const [id, total] = spec.split(':') as [string, string | undefined];
  if (await store.getStream(id)) continue;
  if (id === 'a') system.spawn('pinger', { id, input: { total: Number(total) } });
  else system.spawn('ponger', { id });
}
console.log('ready');
process.once('SIGTERM', () => {
  void system
    .close()
    .then(() => store.close())
    .then(() => process.exit(0));
});

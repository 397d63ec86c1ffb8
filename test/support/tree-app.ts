/**
 * The application of the user-style crash test: `node --import tsx test/support/tree-app.ts <db>`.
 * It recovers what the log holds, spawns the receiver and the parent if they are not in the log
 * yet, waits until both have ended, and exits 0. Kill it at any moment and start it again.
 */
import { appendFileSync } from 'node:fs';
import { createActorSystem } from '../../src/index.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { machines } from './treeMachines.ts';

const db = process.argv[2]!;
if (process.env.ACTORLOG_EFFECTS) appendFileSync(process.env.ACTORLOG_EFFECTS, `run ${process.pid}\n`);
const store = openSqliteStore(db);
const system = createActorSystem({ store, machines, snapshotEvery: Number(process.env.SNAPSHOT_EVERY ?? 5) });
const report = await system.recover();
if (report.failed.length > 0) throw new Error(`could not recover: ${JSON.stringify(report.failed)}`);
if (!store.getStream('b-1')) system.spawn('receiver', { id: 'b-1' });
if (!store.getStream('p-1')) system.spawn('parent', { id: 'p-1', input: { peer: 'b-1' } });

const ended = () => ['p-1', 'b-1'].every((id) => store.getStream(id)!.status !== 'active');
const deadline = Date.now() + 20_000;
while (!ended() && Date.now() <= deadline) await new Promise((resolve) => setTimeout(resolve, 20));
const ok = ended();
await system.close();
store.close();
process.exit(ok ? 0 : 3);

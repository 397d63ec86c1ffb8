// A plain Node ESM program (no TypeScript loader) using the installed package: opens a SQLite log,
// journals an actor of its own machine until it finishes, and prints the stream id.
// Usage: node app.mjs <log file>
import assert from 'node:assert/strict';
import { createActorSystem, isActorlogError } from 'actorlog';
import { openSqliteStore } from 'actorlog/stores/sqlite';
import { machines } from './machines.mjs';

const db = process.argv[2];
assert.ok(db, 'usage: node app.mjs <log file>');

const store = openSqliteStore(db);
const system = createActorSystem({ store, machines, snapshotEvery: 2 });

const id = 'order-1';
const order = system.spawn('order', { id, input: { orderId: id } });
order.send({ type: 'item.add', sku: 'apple', qty: 2 });
order.send({ type: 'item.add', sku: 'pear', qty: 1 });
order.send({ type: 'checkout' });
const done = await order.waitFor((s) => s.status === 'done', { timeoutMs: 10_000 });
assert.equal(done.value, 'paid');
assert.deepEqual({ total: done.context.total, charged: done.context.charged }, { total: 30, charged: 30 });

// errors carry codes
assert.throws(
  () => system.spawn('nope', { id: 'x' }),
  (err) => isActorlogError(err, 'MACHINE_NOT_REGISTERED'),
);

const stream = store.getStream(id);
assert.equal(stream?.status, 'done');
const events = [...store.readStream(id)];
assert.ok(events.length >= 4, `expected at least 4 logged events, got ${events.length}`);

system.close();
store.close();
console.log(`journaled ${id}: ${events.length} events, final state ${JSON.stringify(done.value)}`);

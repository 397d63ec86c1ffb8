/**
 * `npm run example:molecule`: `molecule connect` as a journaled actor. It starts a molecule platform
 * (the test server of seed 003's endpoints) on 127.0.0.1, connects a workspace to it (register,
 * heartbeat, activity poll), and lets a small backend answer the messages other workspaces send:
 * each is dispatched once, in order, and its reply lands in the sender's workspace. Midway the
 * platform answers 410 (the cursor was pruned) once; the connection resets its cursor and goes on.
 * A message from the canvas (no sender) is dispatched but not replied to. Every event is in the
 * log at ACTORLOG_DB (default ./molecule-connect.db); the last lines print the replay command.
 */
import type { AnyMachineSnapshot } from 'xstate';
import type { ConnectionMachine } from '../machines/connection/machine.ts';
import type { ConnectionContext } from '../machines/connection/context.ts';
import { createMoleculeConnection, type MoleculeMessage } from '../machines/molecule/index.ts';
import { formatStateValue } from '../cli/replay.ts';
import { createActorSystem } from '../src/index.ts';
import { openSqliteStore } from '../stores/sqlite/index.ts';
import { startMoleculeServer } from '../test/servers/molecule-server.ts';

const db = process.env.ACTORLOG_DB ?? './molecule-connect.db';
const started = Date.now();
const platform = await startMoleculeServer();
const workspaceId = `ws-demo-${started.toString(36)}`;
console.log(`molecule platform on ${platform.url}; workspace ${workspaceId}; log ${db}`);

/** The backend: answers each message after a little work. A real one would call an agent. */
async function backend(message: MoleculeMessage, { idempotencyKey }: { idempotencyKey: string }) {
  await new Promise((r) => setTimeout(r, 60));
  console.log(`  backend: ${message.id} from ${message.sourceId ?? 'the canvas'}: "${message.text}" (key ${idempotencyKey})`);
  return `pong: ${message.text}`;
}

const conn = createMoleculeConnection({
  apiUrl: platform.url, token: platform.token, workspaceId, backend,
  pollIntervalMs: 100, heartbeatIntervalMs: 400, retryDelayMs: 100,
});
const store = openSqliteStore(db);
const system = createActorSystem({ store, machines: { molecule: conn.machine } });
const actor = system.spawn('molecule', { id: conn.id, input: conn.input });

let last = '';
const line = (s: AnyMachineSnapshot) => {
  const state = formatStateValue(s.value);
  if (state === last) return;
  last = state;
  const c = s.context as ConnectionContext;
  console.log(`[${((Date.now() - started) / 1000).toFixed(2)} s] ${state}  cursor=${c.cursor ?? '-'} dispatched=${c.counts.dispatched} replies=${c.counts.replies} beats=${c.counts.heartbeats}`);
};
actor.subscribe(line);
line(actor.getSnapshot());

const wait = (what: (s: ReturnType<typeof actor.getSnapshot>) => boolean) => actor.waitFor(what, { timeoutMs: 20_000 });
await wait((s) => s.matches('online'));
for (const text of ['ping', 'status?', 'summarise the release notes']) platform.addMessage(workspaceId, text, 'ws-alice');
await wait((s) => s.context.counts.replies === 3);

console.log('platform: the next activity poll answers 410 (the cursor was pruned)');
platform.faults.activity = [410];
platform.addMessage(workspaceId, 'after the prune', 'ws-bob');
platform.addMessage(workspaceId, 'a note from the canvas', null);
await wait((s) => s.context.counts.dispatched === 5 && s.context.pendingReply === undefined);

actor.send({ type: 'connection.close', reason: 'example finished' });
const final = actor.getSnapshot().context;
console.log(`\nsummary: ${formatStateValue(actor.getSnapshot().value)} (${final.reason}); dispatched ${final.counts.dispatched}, replied ${final.counts.replies}, ` +
  `not replied ${final.counts.notReplied} (canvas), duplicates dropped ${final.counts.duplicates}, cursor resets ${final.counts.cursorResets}, cursor ${final.cursor}`);
for (const reply of platform.stats.replies) console.log(`  reply in ${reply.to}: ${reply.envelope.params?.message?.parts?.[0]?.text}`);
console.log(`events logged: ${store.readStream(actor.id).length} in ${db}; wall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`replay it:  npm run -s actorlog -- replay ${db} ${actor.id}`);
console.log(`verify it:  npm run -s actorlog -- replay ${db} ${actor.id} --verify`);
system.close();
store.close();
await platform.close();

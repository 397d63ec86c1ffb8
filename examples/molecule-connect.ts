/**
 * `npm run example:molecule`: `molecule connect` as a journaled actor. It starts a molecule platform
 * (the test server of seed 003's endpoints) on 127.0.0.1 as a process of its own, connects a
 * workspace to it (register, heartbeat, activity poll), and lets a backend answer the messages other
 * workspaces send: each is dispatched once, in order, and its reply lands in the sender's workspace.
 * Midway the platform answers 410 (the cursor was pruned) once; the connection resets its cursor and
 * goes on. A message from the canvas (no sender) is dispatched but not replied to. Every event is in
 * the log at ACTORLOG_DB (default ./molecule-connect.db); the last lines print the replay command.
 *
 * Kill it at any moment (even kill -9) and start it again on the same file: it finds the platform it
 * started (recorded beside the log), recovers the connection from the log and finishes the script
 * from where the connection stands. The backend is the platform's durable test backend, keyed by the
 * idempotency key, so a message whose dispatch a crash cut short is answered from its record, not
 * executed twice.
 */
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { AnyMachineSnapshot } from 'xstate';
import { connectionMachine, type ConnectionMachine } from '../machines/connection/machine.ts';
import type { ConnectionContext } from '../machines/connection/context.ts';
import { createMoleculeConnection, type MoleculeMessage } from '../machines/molecule/index.ts';
import { formatStateValue } from '../cli/replay.ts';
import { createActorSystem, replaySteps, type JournaledActor } from '../src/index.ts';
import { openLogStore, shownLog } from './openLogStore.ts';
import type { MoleculeStats } from '../test/servers/molecule-server.ts';
import { ensureServer, exampleRun } from './server-process.ts';

const db = process.env.ACTORLOG_DB ?? './molecule-connect.db';
const started = Date.now();
const run = exampleRun(db, 'molecule', () => `ws-demo-${started.toString(36)}`);
const workspaceId = run.id;
const platform = await ensureServer({
  db,
  name: 'molecule',
  module: fileURLToPath(new URL('../test/servers/molecule-server.ts', import.meta.url)),
  start: 'startMoleculeServer',
  options: { faults: { dispatchDelayMs: 250 } }, // the backend's work takes a little while
});
const token = await platform.control.get<string>('token');
console.log(
  `molecule platform on ${platform.url} (pid ${platform.pid}${platform.reused ? ', left by an earlier run' : ''}); ` +
    `workspace ${workspaceId}${run.resumed ? " (an earlier run's)" : ''}; log ${db}`,
);

/** The backend: the platform's durable test backend, which executes each idempotency key once. A real one would call an agent. */
async function backend(message: MoleculeMessage, { idempotencyKey, signal }: { idempotencyKey: string; signal: AbortSignal }) {
  const res = await request(`${platform.url}/_backend/dispatch`, {
    method: 'POST',
    signal,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: idempotencyKey, messageId: message.id, text: message.text }),
  });
  if (res.statusCode !== 200) throw new Error(`backend answered ${res.statusCode}`);
  const { reply, duplicate } = (await res.body.json()) as { reply: string; duplicate: boolean };
  console.log(
    `  backend: ${message.id} from ${message.sourceId ?? 'the canvas'}: "${message.text}" (key ${idempotencyKey})` +
      (duplicate ? ' - executed before the crash: answered from its record' : ''),
  );
  return reply;
}

const conn = createMoleculeConnection({
  apiUrl: platform.url,
  token,
  workspaceId,
  backend,
  pollIntervalMs: 100,
  heartbeatIntervalMs: 400,
  retryDelayMs: 100,
});
const store = await openLogStore(db);
const system = createActorSystem({ store, machines: { molecule: conn.machine } });
const report = await system.recover();
const actor =
  system.get<ConnectionMachine>(conn.id) ?? ((await store.getStream(conn.id)) ? undefined : system.spawn('molecule', { id: conn.id, input: conn.input }));
const how = actor === undefined ? 'found finished in the log' : report.recovered.some((a) => a.id === conn.id) ? 'recovered from the log' : 'spawned';
console.log(`connection ${conn.id}: ${how}`);

let last = '';
const line = (s: AnyMachineSnapshot) => {
  const state = formatStateValue(s.value);
  if (state === last) return;
  last = state;
  const c = s.context as ConnectionContext;
  console.log(
    `[${((Date.now() - started) / 1000).toFixed(2)} s] ${state}  cursor=${c.cursor ?? '-'} dispatched=${c.counts.dispatched} replies=${c.counts.replies} beats=${c.counts.heartbeats}`,
  );
};

if (actor) {
  actor.subscribe(line);
  line(actor.getSnapshot());
  type Snapshot = ReturnType<JournaledActor<ConnectionMachine>['getSnapshot']>;
  const wait = (what: (s: Snapshot) => boolean) => actor.waitFor((s) => s.status !== 'active' || what(s), { timeoutMs: 20_000 });
  // Each step of the platform's side is done once per run (the platform remembers the key), so a
  // restarted process can repeat the script from the top: the waits hold at once for what is done.
  const once = (step: string) => ({ once: `${workspaceId}:${step}` });
  await wait((s) => s.matches('online'));
  for (const [i, text] of ['ping', 'status?', 'summarise the release notes'].entries()) {
    await platform.control.call('addMessage', [workspaceId, text, 'ws-alice'], once(`message ${i + 1}`));
  }
  await wait((s) => s.context.counts.replies >= 3);

  if (actor.getSnapshot().context.counts.cursorResets === 0) console.log('platform: the next activity poll answers 410 (the cursor was pruned)');
  await platform.control.set('faults.activity', [410], once('prune'));
  await platform.control.call('addMessage', [workspaceId, 'after the prune', 'ws-bob'], once('message 4'));
  await platform.control.call('addMessage', [workspaceId, 'a note from the canvas', null], once('message 5'));
  await wait((s) => s.context.counts.dispatched >= 5 && s.context.pendingReply === undefined);
  if (actor.getSnapshot().status === 'active') actor.send({ type: 'connection.close', reason: 'example finished' });
}

const snapshot = actor?.getSnapshot() ?? (await replaySteps(store, connectionMachine, conn.id)).at(-1)!.snapshot;
const final = snapshot.context as ConnectionContext;
const stats = await platform.control.get<MoleculeStats>('stats');
const mine = (key: string) => key.startsWith(`${conn.id}:`);
console.log(
  `\nsummary: ${formatStateValue(snapshot.value)} (${final.reason}); dispatched ${final.counts.dispatched}, replied ${final.counts.replies}, ` +
    `not replied ${final.counts.notReplied} (canvas), duplicates dropped ${final.counts.duplicates}, cursor resets ${final.counts.cursorResets}, cursor ${final.cursor}`,
);
console.log(
  `platform: executed ${stats.executions.filter((e) => mine(e.key)).length} dispatches ` +
    `(${stats.dispatchCalls.filter((c) => mine(c.key)).length} calls: a re-run after a crash carries the same key), ` +
    `${stats.duplicateReplies} replies re-sent with their envelope id`,
);
const executed = new Set(stats.executions.filter((e) => mine(e.key)).map((e) => e.messageId));
for (const reply of stats.replies.filter((r) => executed.has(r.envelope.params?.message?.metadata?.in_reply_to ?? ''))) {
  console.log(`  reply in ${reply.to}: ${reply.envelope.params?.message?.parts?.[0]?.text}`);
}
console.log(`events logged: ${(await store.readStream(conn.id)).length} in ${shownLog(db)}; wall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`replay it:  npm run -s actorlog -- replay ${shownLog(db)} ${conn.id}`);
console.log(`verify it:  npm run -s actorlog -- replay ${shownLog(db)} ${conn.id} --verify`);
await system.close();
await store.close();
await platform.stop();
run.finish();
process.exit(snapshot.value === 'offline' ? 0 : 1);

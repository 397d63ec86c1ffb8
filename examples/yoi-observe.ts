/**
 * `npm run example:yoi`: a yoi worker observed through a journaled connection actor (seed 004, the
 * Backend Runtime API client). It starts a yoi Workspace Backend (the test server) on 127.0.0.1,
 * loads the worker's transcript, opens the observation WebSocket, sends console commands (a prompt,
 * a system note, an unsupported `pause`, a `cancel`) and prints every event the worker streams,
 * each once, in order. Midway the backend drops the socket: the connection reconnects from the
 * last logged cursor with no gap and no duplicate. Every event is in the log at ACTORLOG_DB
 * (default ./yoi-observe.db); the last lines print the replay command.
 */
import type { AnyMachineSnapshot } from 'xstate';
import type { ConnectionContext } from '../machines/connection/context.ts';
import type { ConnectionMachine } from '../machines/connection/machine.ts';
import { encodeBackendCursor, yoiConnectionInput, yoiConnectionMachine, type YoiDelivery } from '../machines/yoi/index.ts';
import { formatStateValue } from '../cli/replay.ts';
import { createActorSystem } from '../src/index.ts';
import { openSqliteStore } from '../stores/sqlite/index.ts';
import { startYoiServer } from '../test/servers/yoi-server.ts';

const db = process.env.ACTORLOG_DB ?? './yoi-observe.db';
const started = Date.now();
const backend = await startYoiServer();
const workerId = `worker-${started.toString(36)}`;
backend.setTranscript('rt-demo', workerId, { items: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello, how can I help?' }] });
console.log(`yoi backend on ${backend.url}; worker rt-demo:${workerId}; log ${db}`);

const seen: string[] = [];
/** Each observed event, once, in order (deliver: 'dispatch'). A console would render it. */
async function onEvent({ seq, event }: YoiDelivery) {
  const text = typeof event.text === 'string' ? ` "${event.text}"` : typeof event.message === 'string' ? ` "${event.message}"` : '';
  seen.push(`${seq ?? 'transcript'}:${event.type}`);
  console.log(`  event ${seq === undefined ? '(transcript or diagnostic)' : `#${seq}`} ${event.type}${text}`);
}

const store = openSqliteStore(db);
const system = createActorSystem({ store, machines: { yoi: yoiConnectionMachine({ onEvent }) } });
const input = yoiConnectionInput({ baseUrl: backend.url, runtimeId: 'rt-demo', workerId, deliver: 'dispatch', retryDelayMs: 100 });
const actor = system.spawn('yoi', { id: input.connectionId, input });

let last = '';
let diagnostics = 0;
const line = (s: AnyMachineSnapshot) => {
  const c = s.context as ConnectionContext;
  for (const d of c.diagnostics.slice(Math.max(0, c.diagnostics.length - (c.counts.diagnostics - diagnostics)))) console.log(`  diagnostic: ${d.message}`);
  diagnostics = c.counts.diagnostics;
  const state = formatStateValue(s.value);
  if (state === last) return;
  last = state;
  console.log(`[${((Date.now() - started) / 1000).toFixed(2)} s] ${state}  cursor=${c.cursor ?? '-'} received=${c.counts.received} reconnects=${c.reconnects}`);
};
actor.subscribe(line);
line(actor.getSnapshot());

const wait = (what: (s: ReturnType<typeof actor.getSnapshot>) => boolean) => actor.waitFor(what, { timeoutMs: 20_000 });
const command = (command: unknown) => actor.send({ type: 'connection.command', command });
const seqIs = (n: number) => (s: ReturnType<typeof actor.getSnapshot>) => s.context.lastSeq === encodeBackendCursor(n).slice(3);
// the first frame is the observation's snapshot at sequence 0: dropped as seed 004 drops it
await wait((s) => s.context.counts.duplicates >= 1);

command({ method: 'run', input: [{ type: 'text', text: 'summarise ' }, { type: 'file_ref', path: 'CHANGELOG.md' }] });
await wait((s) => seqIs(3)(s) && s.context.queue.length === 0);

console.log('backend: the observation socket drops');
backend.dropAll();
backend.emit('rt-demo', workerId, { type: 'text_delta', text: 'streamed while the socket was down' });
command({ method: 'notify', message: 'deploy freeze at noon' });
command({ method: 'pause' });
command({ method: 'cancel' });
await wait((s) => s.context.counts.commands === 4 && seqIs(6)(s) && s.context.queue.length === 0 && s.matches({ online: { receive: 'listening' } }));

actor.send({ type: 'connection.close', reason: 'example finished' });
const final = actor.getSnapshot().context;
console.log(`\nsummary: ${formatStateValue(actor.getSnapshot().value)} (${final.reason}); events delivered ${final.counts.dispatched} (${seen.length} seen by onEvent), ` +
  `duplicates dropped ${final.counts.duplicates} (each one a diagnostic), snapshot skipped ${final.counts.skipped}, commands ${final.counts.commands}, last cursor ${final.cursor}`);
console.log(`observation connections: ${backend.stats.connections.map((c) => c.cursor ?? '(start)').join(', ')}`);
console.log(`events logged: ${store.readStream(actor.id).length} in ${db}; wall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`replay it:  npm run -s actorlog -- replay ${db} ${actor.id}`);
console.log(`verify it:  npm run -s actorlog -- replay ${db} ${actor.id} --verify`);
system.close();
store.close();
await backend.close();

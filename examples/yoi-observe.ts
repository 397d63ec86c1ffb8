/**
 * `npm run example:yoi`: a yoi worker observed through a journaled connection actor (seed 004, the
 * Backend Runtime API client). It starts a yoi Workspace Backend (the test server) on 127.0.0.1 as a
 * process of its own, loads the worker's transcript, opens the observation WebSocket, sends console
 * commands (a prompt, a system note, an unsupported `pause`, a `cancel`) and prints every event the
 * worker streams, in order. Midway the backend drops the socket: the connection reconnects from the
 * last logged cursor with no gap and no duplicate. Every event is in the log at ACTORLOG_DB
 * (default ./yoi-observe.db); the last lines print the replay command.
 *
 * Kill it at any moment (even kill -9) and start it again on the same file: it finds the backend it
 * started (recorded beside the log), recovers the connection from the log (resuming the socket from
 * the logged cursor) and finishes the script from where the connection stands. A command a crash cut
 * short is sent again with the same Idempotency-Key; yoi's backend does not honour the key (seed
 * 004 never sends one), so such a command may run twice, and the log shows it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { AnyMachineSnapshot } from 'xstate';
import type { ConnectionContext } from '../machines/connection/context.ts';
import { connectionMachine, type ConnectionMachine } from '../machines/connection/machine.ts';
import { decodeBackendCursor, yoiConnectionInput, yoiConnectionMachine, type YoiDelivery, type YoiMethod } from '../machines/yoi/index.ts';
import { formatStateValue } from '../cli/replay.ts';
import { createActorSystem, replaySteps, type JournaledActor } from '../src/index.ts';
import { openLogStore, shownLog } from './openLogStore.ts';
import type { YoiStats } from '../test/servers/yoi-server.ts';
import { ensureServer, exampleRun } from './server-process.ts';

const db = process.env.ACTORLOG_DB ?? './yoi-observe.db';
const started = Date.now();
const run = exampleRun(db, 'yoi', () => `worker-${started.toString(36)}`);
const workerId = run.id;
const backend = await ensureServer({
  db,
  name: 'yoi',
  module: fileURLToPath(new URL('../test/servers/yoi-server.ts', import.meta.url)),
  start: 'startYoiServer',
});
/** Each step of the backend's side is done once per run (the backend remembers the key): a restarted process repeats the script from the top. */
const once = (step: string) => ({ once: `${workerId}:${step}` });
await backend.control.call(
  'setTranscript',
  [
    'rt-demo',
    workerId,
    {
      items: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello, how can I help?' },
      ],
    },
  ],
  once('transcript'),
);
console.log(
  `yoi backend on ${backend.url} (pid ${backend.pid}${backend.reused ? ', left by an earlier run' : ''}); worker rt-demo:${workerId}; log ${shownLog(db)}`,
);

let seen = 0;
/** Each observed event, in order (deliver: 'dispatch'), rendered by a console that takes a moment per event. */
async function onEvent({ seq, event }: YoiDelivery) {
  await sleep(50);
  const text = typeof event.text === 'string' ? ` "${event.text}"` : typeof event.message === 'string' ? ` "${event.message}"` : '';
  seen += 1;
  console.log(`  event ${seq === undefined ? '(transcript or diagnostic)' : `#${seq}`} ${event.type}${text}`);
}

const store = await openLogStore(db);
const system = createActorSystem({ store, machines: { yoi: yoiConnectionMachine({ onEvent }) } });
const input = yoiConnectionInput({ baseUrl: backend.url, runtimeId: 'rt-demo', workerId, deliver: 'dispatch', retryDelayMs: 100 });
const id = input.connectionId;
const report = await system.recover();
const actor = system.get<ConnectionMachine>(id) ?? ((await store.getStream(id)) ? undefined : system.spawn('yoi', { id, input }));
console.log(
  `connection ${id}: ${actor === undefined ? 'found finished in the log' : report.recovered.some((a) => a.id === id) ? 'recovered from the log' : 'spawned'}`,
);

let last = '';
let diagnostics: number | undefined;
const line = (s: AnyMachineSnapshot) => {
  const c = s.context as ConnectionContext;
  if (diagnostics !== undefined)
    for (const d of c.diagnostics.slice(Math.max(0, c.diagnostics.length - (c.counts.diagnostics - diagnostics)))) console.log(`  diagnostic: ${d.message}`);
  diagnostics = c.counts.diagnostics;
  const state = formatStateValue(s.value);
  if (state === last) return;
  last = state;
  console.log(`[${((Date.now() - started) / 1000).toFixed(2)} s] ${state}  cursor=${c.cursor ?? '-'} received=${c.counts.received} reconnects=${c.reconnects}`);
};

if (actor) {
  actor.subscribe(line);
  line(actor.getSnapshot());
  type Snapshot = ReturnType<JournaledActor<ConnectionMachine>['getSnapshot']>;
  const wait = (what: (s: Snapshot) => boolean) => actor.waitFor((s) => s.status !== 'active' || what(s), { timeoutMs: 20_000 });
  const seqAtLeast = (n: bigint) => (s: Snapshot) => s.context.lastSeq !== undefined && BigInt(`0x${s.context.lastSeq}`) >= n;
  const script: YoiMethod[] = [
    {
      method: 'run',
      input: [
        { type: 'text', text: 'summarise ' },
        { type: 'file_ref', path: 'CHANGELOG.md' },
      ],
    },
    { method: 'notify', message: 'deploy freeze at noon' },
    { method: 'pause' },
    { method: 'cancel' },
  ];
  /** Commands the connection has taken (done, or queued in its log): the script goes on after them. */
  const taken = () => actor.getSnapshot().context.counts.commands + actor.getSnapshot().context.commands.length;
  const sendUpTo = (n: number) => {
    for (let i = taken(); i < n && actor.getSnapshot().status === 'active'; i++) actor.send({ type: 'connection.command', command: script[i] });
  };

  // the first frame is the observation's snapshot at sequence 0: dropped as seed 004 drops it
  await wait((s) => s.context.counts.duplicates >= 1);
  sendUpTo(1);
  await wait((s) => s.context.counts.commands >= 1 && seqAtLeast(3n)(s) && s.context.queue.length === 0);

  if (taken() < 2) console.log('backend: the observation socket drops');
  await backend.control.call('dropAll', [], once('drop'));
  await backend.control.call('emit', ['rt-demo', workerId, { type: 'text_delta', text: 'streamed while the socket was down' }], once('emit while down'));
  sendUpTo(script.length);
  await wait((s) => s.context.counts.commands >= script.length && s.context.commands.length === 0);
  // the worker's last word: once the connection has it, it has every event the commands caused
  const end = await backend.control.call<string>('emit', ['rt-demo', workerId, { type: 'text_done', text: 'end of the demo' }], once('end'));
  await wait((s) => seqAtLeast(decodeBackendCursor(end)!)(s) && s.context.queue.length === 0 && s.matches({ online: { receive: 'listening' } }));
  if (actor.getSnapshot().status === 'active') actor.send({ type: 'connection.close', reason: 'example finished' });
}

const snapshot = actor?.getSnapshot() ?? (await replaySteps(store, connectionMachine, id)).at(-1)!.snapshot;
const final = snapshot.context as ConnectionContext;
const stats = await backend.control.get<YoiStats>('stats');
const mine = stats.connections.filter((c) => c.workerId === workerId);
const keys = stats.commands.filter((c) => c.key?.startsWith(`${id}:`)).map((c) => c.key!);
console.log(
  `\nsummary: ${formatStateValue(snapshot.value)} (${final.reason}); events delivered ${final.counts.dispatched} (${seen} handed to onEvent by this process, diagnostics included), ` +
    `duplicates dropped ${final.counts.duplicates} (each one a diagnostic), snapshot skipped ${final.counts.skipped}, commands ${final.counts.commands}, last cursor ${final.cursor}`,
);
console.log(
  `backend: observation connections ${mine.map((c) => c.cursor ?? '(start)').join(', ')}; ` +
    `commands received ${keys.length}, ${keys.length - new Set(keys).size} of them re-sent after a crash (same Idempotency-Key)`,
);
console.log(`events logged: ${(await store.readStream(id)).length} in ${shownLog(db)}; wall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`replay it:  npm run -s actorlog -- replay ${shownLog(db)} ${id}`);
console.log(`verify it:  npm run -s actorlog -- replay ${shownLog(db)} ${id} --verify`);
await system.close();
await store.close();
await backend.stop();
run.finish();
process.exit(snapshot.value === 'offline' ? 0 : 1);

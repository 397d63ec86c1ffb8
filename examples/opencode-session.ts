/**
 * An OpenCode session as a journaled actor (`npm run example:opencode`). It starts the real
 * `opencode serve` (the `opencode-linux-x64` dev dependency) on 127.0.0.1 with a temporary HOME and a local
 * OpenAI-compatible model stub, so it runs offline; the server asks for a basic-auth password
 * (OPENCODE_SERVER_PASSWORD), which never reaches the log. Then it drives one session through the
 * durable v2 API: a prompt answered while busy, a slow prompt aborted, and close. Every event goes to
 * the SQLite log at ACTORLOG_DB (default ./opencode-session.db) before the session acts on it.
 */
import { randomBytes } from 'node:crypto';
import { opencodeSessionMachine } from '../machines/opencode/index.ts';
import type { SessionMachine } from '../machines/session/index.ts';
import { formatStateValue } from '../cli/replay.ts';
import { createActorSystem, verifyReplay, type JournaledActor } from '../src/index.ts';
import { openSqliteStore } from '../stores/sqlite/index.ts';
import { startOpencodeServer } from '../test/servers/opencode-server.ts';
import { sessionMachine } from '../machines/session/index.ts';

const dbPath = process.env.ACTORLOG_DB ?? './opencode-session.db';
const password = randomBytes(12).toString('hex');
const started = Date.now();
const at = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;

console.log(`${at()} starting opencode serve and its model stub…`);
const server = await startOpencodeServer({ password, stub: { words: [' The', ' log', ' is', ' the', ' bug', ' report.'], chunkDelayMs: 60 } });
console.log(`${at()} opencode ${server.url} (pid ${server.pid}), basic auth on`);

const store = openSqliteStore(dbPath);
const system = createActorSystem({ store, machines: { session: opencodeSessionMachine({ url: server.url, password }) } });
const id = `opencode-${new Date(started).toISOString().replace(/[-:.]/g, '').slice(0, 15)}`;
const session = system.spawn('session', { id, input: { sessionKey: id, abortTimeoutMs: 5_000 } });

let last = formatStateValue(session.getSnapshot().value);
console.log(`${at()} state ${last}`);
session.subscribe((s) => {
  const state = formatStateValue(s.value);
  if (state !== last) console.log(`${at()} state ${state}${s.context.lastEnd && !state.includes('busy') ? `  (last turn ${s.context.lastEnd})` : ''}`);
  last = state;
});
const turn = (s: ReturnType<JournaledActor<SessionMachine>['getSnapshot']>) => (s.value as { open?: { turn?: unknown } }).open?.turn;

try {
  await session.waitFor((s) => turn(s) === 'idle', { timeoutMs: 20_000 });
  console.log(`${at()} remote session ${session.getSnapshot().context.remoteId}`);

  session.send({ type: 'session.prompt', prompt: { kind: 'text', text: 'What is the log?' } });
  const answered = await session.waitFor((s) => s.context.turns === 1 && turn(s) !== undefined && !JSON.stringify(s.value).includes('busy'), { timeoutMs: 30_000 });
  console.log(`${at()} answer: "${answered.context.output?.trim()}" (${answered.context.events} streamed events, cursor seq ${answered.context.cursor})`);

  server.stub.options.chunkDelayMs = 400;
  server.stub.options.words = Array.from({ length: 50 }, (_, i) => ` word${i}`);
  session.send({ type: 'session.prompt', prompt: { kind: 'text', text: 'Talk for a long time.' } });
  await session.waitFor((s) => s.context.sawBusy && s.context.parts.length > 0, { timeoutMs: 30_000 });
  console.log(`${at()} busy: aborting`);
  session.send({ type: 'session.abort' });
  await session.waitFor((s) => turn(s) === 'aborted', { timeoutMs: 15_000 });

  session.send({ type: 'session.close' });
  await session.waitFor((s) => s.status === 'done', { timeoutMs: 5_000 });
  const verify = verifyReplay(store, sessionMachine, id);
  console.log(`${at()} ${store.readStream(id).length} events logged to ${dbPath}; replay equals live: ${verify.ok}`);
  console.log(`replay it: npm run -s actorlog -- replay ${dbPath} ${id} --verify`);
} finally {
  system.close();
  store.close();
  await server.close();
}
process.exit(0);

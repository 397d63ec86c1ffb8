/**
 * An OpenCode session as a journaled actor (`npm run example:opencode`). It starts the real
 * `opencode serve` (the `opencode-linux-x64` dev dependency) on 127.0.0.1 with a temporary HOME and a
 * local OpenAI-compatible model stub, so it runs offline, in a process of its own; the server asks
 * for a basic-auth password (OPENCODE_SERVER_PASSWORD), which never reaches the log. Then it drives
 * one session through the durable v2 API: a prompt answered while busy, a slow prompt aborted, and
 * close. Every event goes to the SQLite log at ACTORLOG_DB (default ./opencode-session.db) before
 * the session acts on it.
 *
 * Kill it at any moment (even kill -9) and start it again on the same file: it finds the server it
 * started (recorded beside the log, with its password, mode 0600), recovers the session from the
 * log (its stream resumes after the logged sequence; a prompt is admitted once by its id) and
 * finishes the script from where the session stands.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { opencodeSessionMachine } from '../machines/opencode/index.ts';
import { sessionMachine, type SessionMachine } from '../machines/session/index.ts';
import { formatStateValue } from '../cli/replay.ts';
import { createActorSystem, replaySteps, verifyReplay, type JournaledActor } from '../src/index.ts';
import { openLogStore, shownLog } from './openLogStore.ts';
import type { OpencodeServerOptions } from '../test/servers/opencode-server.ts';
import { ensureServer, exampleRun } from './server-process.ts';

const dbPath = process.env.ACTORLOG_DB ?? './opencode-session.db';
const started = Date.now();
const at = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;

const run = exampleRun(dbPath, 'opencode', () => `opencode-${new Date(started).toISOString().replace(/[-:.]/g, '').slice(0, 15)}`);
const id = run.id;
console.log(`${at()} starting (or finding) opencode serve and its model stub…`);
const server = await ensureServer<OpencodeServerOptions>({
  db: dbPath,
  name: 'opencode',
  module: fileURLToPath(new URL('../test/servers/opencode-server.ts', import.meta.url)),
  start: 'startOpencodeServer',
  options: { password: randomBytes(12).toString('hex'), stub: { words: [' The', ' log', ' is', ' the', ' bug', ' report.'], chunkDelayMs: 60 } },
  startTimeoutMs: 60_000,
});
const password = server.options.password!;
console.log(
  `${at()} opencode ${server.url} (pid ${server.childPid}, host pid ${server.pid}${server.reused ? ', left by an earlier run' : ''}), basic auth on; session ${id}`,
);

const store = await openLogStore(dbPath);
const system = createActorSystem({ store, machines: { session: opencodeSessionMachine({ url: server.url, password }) } });
const report = await system.recover();
const session =
  system.get<SessionMachine>(id) ??
  ((await store.getStream(id)) ? undefined : system.spawn('session', { id, input: { sessionKey: id, abortTimeoutMs: 5_000 } }));
console.log(
  `${at()} session ${id}: ${session === undefined ? 'found finished in the log' : report.recovered.some((a) => a.id === id) ? 'recovered from the log' : 'spawned'}`,
);

type Snapshot = ReturnType<JournaledActor<SessionMachine>['getSnapshot']>;
const turn = (s: Snapshot) => (s.value as { open?: { turn?: unknown } }).open?.turn;
const busy = (s: Snapshot) => JSON.stringify(s.value).includes('busy');
/** Each change of the model stub is made once per run (the server remembers the key). */
const once = (step: string) => ({ once: `${id}:${step}` });

/** The user messages of a remote session (GET /api/session/:id/message, the v2 API): the prompts the server admitted; undefined when this server does not know the session. */
async function userMessages(remoteId: string): Promise<string[] | undefined> {
  const res = await request(`${server.url}/api/session/${encodeURIComponent(remoteId)}/message?limit=100&order=asc`, {
    headers: { authorization: `Basic ${Buffer.from(`opencode:${password}`).toString('base64')}` },
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  if (res.statusCode === 404) {
    await res.body.dump();
    return undefined;
  } // a server started after the one that held it
  if (res.statusCode !== 200) throw new Error(`GET messages answered ${res.statusCode}: ${await res.body.text()}`);
  const { data } = (await res.body.json()) as { data: Array<{ type: string; text?: string }> };
  return data.filter((m) => m.type === 'user').map((m) => m.text ?? '');
}

let closedOk = false;
try {
  if (session) {
    let last = formatStateValue(session.getSnapshot().value);
    console.log(`${at()} state ${last}`);
    session.subscribe((s) => {
      const state = formatStateValue(s.value);
      if (state !== last) console.log(`${at()} state ${state}${s.context.lastEnd && !state.includes('busy') ? `  (last turn ${s.context.lastEnd})` : ''}`);
      last = state;
    });
    // The script goes on from the session's own state (its log), not from what this process did.
    const live = () => session.getSnapshot().status === 'active';
    const wait = (what: (s: Snapshot) => boolean, timeoutMs = 30_000) => session.waitFor((s) => s.status !== 'active' || what(s), { timeoutMs });
    await wait((s) => turn(s) !== undefined || s.value === 'closing');
    console.log(`${at()} remote session ${session.getSnapshot().context.remoteId}`);

    if (live() && session.getSnapshot().context.prompts === 0) session.send({ type: 'session.prompt', prompt: { kind: 'text', text: 'What is the log?' } });
    const answered = await wait((s) => s.context.turns >= 1 && (s.context.prompts > 1 || (turn(s) !== undefined && !busy(s))));
    if (answered.context.prompts === 1) {
      console.log(`${at()} answer: "${answered.context.output?.trim()}" (${answered.context.events} streamed events, cursor seq ${answered.context.cursor})`);
    }

    await server.control.set('stub.options.chunkDelayMs', 400, once('slow'));
    await server.control.set(
      'stub.options.words',
      Array.from({ length: 50 }, (_, i) => ` word${i}`),
      once('long'),
    );
    if (live() && session.getSnapshot().context.prompts === 1)
      session.send({ type: 'session.prompt', prompt: { kind: 'text', text: 'Talk for a long time.' } });
    const long = await wait((s) => s.context.turns >= 2 || (s.context.sawBusy && s.context.parts.length > 0));
    if (long.status === 'active' && long.context.turns < 2 && !long.context.abortRequested) {
      console.log(`${at()} busy: aborting`);
      session.send({ type: 'session.abort' });
    }
    await wait((s) => s.context.turns >= 2, 15_000);

    if (live() && turn(session.getSnapshot()) !== undefined) session.send({ type: 'session.close' });
    await wait(() => false, 5_000);
  }
  const final = session?.getSnapshot() ?? (await replaySteps(store, sessionMachine, id)).at(-1)!.snapshot;
  const remoteId = final.context.remoteId;
  const prompts = remoteId ? await userMessages(remoteId) : [];
  console.log(
    `${at()} session ${formatStateValue(final.value)} after ${final.context.turns} turns; ` +
      (prompts === undefined
        ? `this server does not hold ${remoteId} (the one that did was stopped when an earlier run ended)`
        : `the server holds ${prompts.length} prompts in ${remoteId} (each admitted once by its id): ${prompts.map((p) => JSON.stringify(p)).join(', ')}`),
  );
  const verify = await verifyReplay(store, sessionMachine, id);
  console.log(`${at()} ${(await store.readStream(id)).length} events logged to ${shownLog(dbPath)}; replay equals live: ${verify.ok}`);
  console.log(`replay it: npm run -s actorlog -- replay ${shownLog(dbPath)} ${id} --verify`);
  closedOk = final.value === 'closed';
} finally {
  await system.close();
  await store.close();
}
// the example is over: its run record goes first, then its server (a failure above leaves both for a
// restart; a kill between the two leaves a server the next run reuses and stops)
run.finish();
await server.stop();
process.exit(closedOk ? 0 : 1);

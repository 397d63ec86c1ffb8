/**
 * An MCP session as a journaled actor (`npm run example:mcp`). It starts a real MCP server built
 * with @modelcontextprotocol/sdk (Streamable HTTP, resumable with an event store) on 127.0.0.1 as a
 * process of its own, and drives one session with actorlog's own binding (undici + the SSE source,
 * not the SDK client): initialize, a `count` tool call whose progress notifications stream over
 * SSE, a long call cancelled with notifications/cancelled, and DELETE to close. Every event goes to
 * the SQLite log at ACTORLOG_DB (default ./mcp-session.db), with each SSE event id as its cursor.
 *
 * Kill it at any moment (even kill -9) and start it again on the same file: it finds the server it
 * started (recorded beside the log), recovers the session from the log (a running call resumes
 * its stream with Last-Event-ID) and finishes the script from where the session stands.
 */
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { mcpSessionMachine } from '../machines/mcp/index.ts';
import { sessionMachine, type SessionMachine } from '../machines/session/index.ts';
import { formatStateValue } from '../cli/replay.ts';
import { createActorSystem, replaySteps, verifyReplay, type JournaledActor } from '../src/index.ts';
import { openLogStore, shownLog } from './openLogStore.ts';
import type { McpTestServerStats } from '../test/servers/mcp-server.ts';
import { ensureServer, exampleRun } from './server-process.ts';

const dbPath = process.env.ACTORLOG_DB ?? './mcp-session.db';
const started = Date.now();
const at = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;

const run = exampleRun(dbPath, 'mcp', () => `mcp-${new Date(started).toISOString().replace(/[-:.]/g, '').slice(0, 15)}`);
const id = run.id;
const server = await ensureServer({
  db: dbPath,
  name: 'mcp',
  module: fileURLToPath(new URL('../test/servers/mcp-server.ts', import.meta.url)),
  start: 'startMcpServer',
  options: { stepMs: 150 },
});
console.log(`${at()} MCP server ${server.url} (pid ${server.pid}${server.reused ? ', left by an earlier run' : ''}); session ${id}; log ${shownLog(dbPath)}`);
const store = await openLogStore(dbPath);
const system = createActorSystem({ store, machines: { session: mcpSessionMachine({ url: server.url }) } });
const report = await system.recover();
const session = system.get<SessionMachine>(id) ?? ((await store.getStream(id)) ? undefined : system.spawn('session', { id, input: { sessionKey: id } }));
console.log(
  `${at()} session ${id}: ${session === undefined ? 'found finished in the log' : report.recovered.some((a) => a.id === id) ? 'recovered from the log' : 'spawned'}`,
);

type Snapshot = ReturnType<JournaledActor<SessionMachine>['getSnapshot']>;
const turn = (s: Snapshot) => (s.value as { open?: { turn?: unknown } }).open?.turn;
/**
 * How a turn ended. A kill -9 after a tools/call was sent and before any of its events was logged
 * leaves its outcome unknown: MCP has no idempotency for tools/call, so the recovered session does
 * not send it again (unless the prompt says `idempotent: true`) and ends the turn `failed` with
 * OUTCOME_UNKNOWN. The script goes on with its next step.
 */
function reportTurn(s: Snapshot) {
  if (s.context.lastEnd === 'failed') console.log(`${at()} turn ${s.context.turns} failed: ${s.context.lastError?.code} ${s.context.lastError?.message}`);
  else console.log(`${at()} result: "${s.context.output}" (last SSE event id ${s.context.promptCursor ?? '-'})`);
}

let closedOk = false;
try {
  if (session) {
    let last = formatStateValue(session.getSnapshot().value);
    let progress = 0;
    console.log(`${at()} state ${last}`);
    session.subscribe((s) => {
      const state = formatStateValue(s.value);
      if (state !== last) console.log(`${at()} state ${state}${s.context.lastEnd && !state.includes('busy') ? `  (last turn ${s.context.lastEnd})` : ''}`);
      last = state;
      const p = s.context.parts.find((x) => x.type === 'progress');
      if (p?.progress !== undefined && p.progress !== progress) console.log(`${at()}   progress ${p.progress}/${p.total}: ${p.text}`);
      progress = p?.progress ?? 0;
    });
    // The script goes on from the session's own state (its log), not from what this process did.
    const live = () => session.getSnapshot().status === 'active';
    const wait = (what: (s: Snapshot) => boolean, timeoutMs = 20_000) => session.waitFor((s) => s.status !== 'active' || what(s), { timeoutMs });
    const opened = await wait((s) => turn(s) !== undefined || s.value === 'closing');
    console.log(`${at()} mcp-session-id ${opened.context.remoteId} (${opened.context.title})`);

    if (live() && session.getSnapshot().context.prompts === 0) {
      session.send({ type: 'session.prompt', prompt: { kind: 'tool', name: 'count', arguments: { n: 5 } } });
    }
    const answered = await wait((s) => s.context.turns >= 1);
    if (answered.context.prompts === 1) reportTurn(answered);

    if (live() && session.getSnapshot().context.prompts === 1) {
      session.send({ type: 'session.prompt', prompt: { kind: 'tool', name: 'count', arguments: { n: 100 } } });
    }
    const long = await wait((s) => s.context.turns >= 2 || (s.context.parts[0]?.progress ?? 0) >= 3);
    if (long.status === 'active' && long.context.turns < 2 && !long.context.abortRequested) {
      console.log(`${at()} cancelling the long call`);
      session.send({ type: 'session.abort' });
    }
    const ended = await wait((s) => s.context.turns >= 2, 10_000);
    if (ended.context.lastEnd !== 'aborted') reportTurn(ended);

    if (live() && turn(session.getSnapshot()) !== undefined) session.send({ type: 'session.close' });
    await wait(() => false, 5_000);
  }
  const final = session?.getSnapshot() ?? (await replaySteps(store, sessionMachine, id)).at(-1)!.snapshot;
  // the tool sees its cancellation at its next step
  let stats = await server.control.call<McpTestServerStats>('stats');
  for (let i = 0; i < 40 && stats.cancelled === 0; i++) {
    await sleep(50);
    stats = await server.control.call<McpTestServerStats>('stats');
  }
  console.log(`${at()} session ${formatStateValue(final.value)} after ${final.context.turns} turns`);
  console.log(
    `${at()} server: ${stats.sessions} session, ${stats.deleted} deleted, ${stats.cancelled} call cancelled; ` +
      `count runs by request id ${JSON.stringify(stats.toolRuns)} (a 2 would be a tool run twice)`,
  );
  console.log(
    `${at()} ${(await store.readStream(id)).length} events logged to ${shownLog(dbPath)}; replay equals live: ${(await verifyReplay(store, sessionMachine, id)).ok}`,
  );
  console.log(`replay it: npm run -s actorlog -- replay ${shownLog(dbPath)} ${id} --verify`);
  closedOk = final.value === 'closed';
} finally {
  await system.close();
  await store.close();
}
// the example is over: its server and its run record go (a failure above leaves both for a restart)
await server.stop();
run.finish();
process.exit(closedOk ? 0 : 1);

/**
 * An MCP session as a journaled actor (`npm run example:mcp`). It starts a real MCP server built
 * with @modelcontextprotocol/sdk (Streamable HTTP, resumable with an event store) on 127.0.0.1, and
 * drives one session with actorlog's own binding (undici + the SSE source, not the SDK client):
 * initialize, a `count` tool call whose progress notifications stream over SSE, a long call
 * cancelled with notifications/cancelled, and DELETE to close. Every event goes to the SQLite log
 * at ACTORLOG_DB (default ./mcp-session.db), with each SSE event id as its cursor.
 */
import { mcpSessionMachine } from '../machines/mcp/index.ts';
import { sessionMachine, type SessionMachine } from '../machines/session/index.ts';
import { formatStateValue } from '../cli/replay.ts';
import { createActorSystem, verifyReplay, type JournaledActor } from '../src/index.ts';
import { openSqliteStore } from '../stores/sqlite/index.ts';
import { startMcpServer } from '../test/servers/mcp-server.ts';

const dbPath = process.env.ACTORLOG_DB ?? './mcp-session.db';
const started = Date.now();
const at = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;

const server = await startMcpServer({ stepMs: 150 });
console.log(`${at()} MCP server ${server.url}`);
const store = openSqliteStore(dbPath);
const system = createActorSystem({ store, machines: { session: mcpSessionMachine({ url: server.url }) } });
const id = `mcp-${new Date(started).toISOString().replace(/[-:.]/g, '').slice(0, 15)}`;
const session = system.spawn('session', { id, input: { sessionKey: id } });

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
const turn = (s: ReturnType<JournaledActor<SessionMachine>['getSnapshot']>) => (s.value as { open?: { turn?: unknown } }).open?.turn;

try {
  const opened = await session.waitFor((s) => turn(s) === 'idle', { timeoutMs: 10_000 });
  console.log(`${at()} mcp-session-id ${opened.context.remoteId} (${opened.context.title})`);

  session.send({ type: 'session.prompt', prompt: { kind: 'tool', name: 'count', arguments: { n: 5 } } });
  const answered = await session.waitFor((s) => s.context.turns === 1, { timeoutMs: 20_000 });
  console.log(`${at()} result: "${answered.context.output}" (last SSE event id ${answered.context.promptCursor ?? '-'})`);

  session.send({ type: 'session.prompt', prompt: { kind: 'tool', name: 'count', arguments: { n: 100 } } });
  await session.waitFor((s) => (s.context.parts[0]?.progress ?? 0) >= 3, { timeoutMs: 20_000 });
  console.log(`${at()} cancelling the long call`);
  session.send({ type: 'session.abort' });
  await session.waitFor((s) => turn(s) === 'aborted', { timeoutMs: 10_000 });

  session.send({ type: 'session.close' });
  await session.waitFor((s) => s.status === 'done', { timeoutMs: 5_000 });
  // the tool sees its cancellation at its next step
  for (let i = 0; i < 40 && server.stats().cancelled === 0; i++) await new Promise((r) => setTimeout(r, 50));
  const stats = server.stats();
  console.log(`${at()} server: ${stats.sessions} session, ${stats.deleted} deleted, ${stats.cancelled} call cancelled`);
  console.log(`${at()} ${store.readStream(id).length} events logged to ${dbPath}; replay equals live: ${verifyReplay(store, sessionMachine, id).ok}`);
  console.log(`replay it: npm run -s actorlog -- replay ${dbPath} ${id} --verify`);
} finally {
  system.close();
  store.close();
  await server.close();
}
process.exit(0);

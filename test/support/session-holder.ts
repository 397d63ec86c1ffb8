/**
 * A small process that holds one session on a system with a SQLite log, for the kill -9 tests
 * (test/e2e/session-crash.test.ts). Run with tsx:
 *
 *   session-holder.ts start   --db F --binding opencode|mcp --url U --session ID [--api v1|v2]
 *   session-holder.ts recover --db F --binding opencode|mcp --url U --session ID [--api v1|v2]
 *
 * `start` spawns the session, sends one prompt (OpenCode: a text prompt; MCP: `count` with
 * progress) and keeps running until it is killed. `recover` opens the same log in a new system,
 * calls `await system.recover()`, waits for the turn to end and prints `RESULT <json>`, then exits 0.
 * The OpenCode password comes from OPENCODE_SERVER_PASSWORD, never from the command line.
 */
import { parseArgs } from 'node:util';
import { mcpSessionMachine } from '../../machines/mcp/index.ts';
import { opencodeSessionMachine } from '../../machines/opencode/index.ts';
import type { SessionMachine } from '../../machines/session/index.ts';
import { createActorSystem, type JournaledActor } from '../../src/index.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    db: { type: 'string' },
    binding: { type: 'string' },
    url: { type: 'string' },
    session: { type: 'string' },
    api: { type: 'string', default: 'v2' },
  },
});
const mode = positionals[0];
const { db, binding, url, session, api } = values as Record<string, string>;
const store = openSqliteStore(db);
const machine =
  binding === 'mcp'
    ? mcpSessionMachine({ url, retry: { baseMs: 50, maxAttempts: 5 } })
    : opencodeSessionMachine({ url, api: api === 'v1' ? 'v1' : 'v2', retry: { baseMs: 50, maxAttempts: 5 } });
const system = createActorSystem({ store, machines: { session: machine } });
const print = (s: JournaledActor<SessionMachine>) => s.subscribe((snap) => console.log(`state ${JSON.stringify(snap.value)} events=${snap.context.events}`));

if (mode === 'start') {
  const s = system.spawn('session', { id: session, input: { sessionKey: session } });
  print(s);
  // (the global stream of v1 has no cursor: prompt once it is connected, or its first events are missed)
  await s.waitFor((x) => (x.value as { open?: { turn?: unknown } }).open?.turn === 'idle' && (api !== 'v1' || x.context.channels.events === 'connected'), {
    timeoutMs: 20_000,
  });
  s.send({
    type: 'session.prompt',
    prompt: binding === 'mcp' ? { kind: 'tool', name: 'count', arguments: { n: 20, stepMs: 100 } } : { kind: 'text', text: 'talk slowly' },
  });
  console.log('prompt sent');
  await new Promise(() => undefined); // held until killed
} else if (mode === 'recover') {
  const report = await system.recover();
  console.log(`recovered ${report.recovered.map((a) => a.id).join(',')} failed ${JSON.stringify(report.failed)}`);
  const s = system.get<SessionMachine>(session);
  if (!s) throw new Error(`session ${session} was not recovered`);
  print(s);
  const done = await s.waitFor((x) => x.context.turns >= 1 && !JSON.stringify(x.value).includes('busy'), { timeoutMs: 30_000 });
  console.log(`RESULT ${JSON.stringify({ value: done.value, lastEnd: done.context.lastEnd, output: done.context.output, remoteId: done.context.remoteId })}`);
  await system.close();
  store.close();
  process.exit(0);
} else {
  throw new Error(`unknown mode ${mode}`);
}

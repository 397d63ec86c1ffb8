import { afterAll, describe, expect, it } from 'vitest';
import { sessionMachine } from '../../machines/session/index.ts';
import { replaySteps, verifyReplay, type EventRecord } from '../../src/index.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { startMcpServer, type McpTestServer } from '../servers/mcp-server.ts';
import { startOpencodeServer, type OpencodeServer } from '../servers/opencode-server.ts';
import { tempDb } from '../support/tempDb.ts';
import { readLog, runTsx, until } from '../support/kit/index.ts';

const PASSWORD = 'holder-pass-91c2';

/** Runs test/support/session-holder.ts as a child process, with its output collected. */
function holder(mode: 'start' | 'recover', args: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
  const argv = Object.entries(args).flatMap(([k, v]) => [`--${k}`, v]);
  return runTsx('test/support/session-holder.ts', [mode, ...argv], { env });
}

/** The session's events, read through a separate read-only connection ([] before the stream exists). */
function records(path: string, id: string): EventRecord[] {
  try {
    const store = openSqliteStore(path, { readonly: true });
    try {
      return store.getStream(id) ? store.readStream(id) : [];
    } finally {
      store.close();
    }
  } catch {
    return [];
  }
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms))]);

/** Recovers the session in a new holder process, expects it to end the turn and exit 0; returns the JSON of its `RESULT` line. */
async function recoverToEnd(args: Record<string, string>, env: NodeJS.ProcessEnv = {}): Promise<unknown> {
  const second = holder('recover', args, env);
  const code = await withTimeout(second.exited, 45_000, `recovery\n${second.output()}`).catch((e) => {
    second.child.kill('SIGKILL');
    throw e;
  });
  expect(code, second.output()).toBe(0);
  return JSON.parse(/RESULT (.*)/.exec(second.output())![1]!);
}

describe('kill -9 of the process holding a session, recovery in a new process', () => {
  let oc: OpencodeServer | undefined;
  let mcp: McpTestServer | undefined;
  afterAll(async () => {
    await oc?.close();
    await mcp?.close();
  });

  const WORDS = Array.from({ length: 30 }, (_, i) => ` w${i}`);
  const env = { OPENCODE_SERVER_PASSWORD: PASSWORD };
  const opencode = async () => (oc ??= await startOpencodeServer({ password: PASSWORD, stub: { words: WORDS, chunkDelayMs: 80 } }));

  it('OpenCode (v2 durable stream): continues from the last logged durable.seq, no gap, none twice, one prompt', async () => {
    const db = tempDb();
    const server = await opencode();
    const args = { db: db.path, binding: 'opencode', url: server.url, session: 'held-oc', api: 'v2' };
    const first = holder('start', args, env);
    try {
      // killed mid-turn: the turn has started (seq >= 3 logged) and has not ended
      await until(() => records(db.path, 'held-oc').some((r) => Number(r.meta.cursor) >= 3), `durable seq 3 logged\n${first.output()}`, {
        timeoutMs: 30_000,
        everyMs: 20,
      });
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
      const atKill = records(db.path, 'held-oc');
      expect(atKill.some((r) => r.type === 'session.ended')).toBe(false);
      const lastSeq = Math.max(...atKill.map((r) => Number(r.meta.cursor ?? 0)));

      expect(await recoverToEnd(args, env)).toMatchObject({ lastEnd: 'completed', output: WORDS.join('') });

      const log = records(db.path, 'held-oc');
      const seqs = log.filter((r) => r.meta.source === 'sse' && r.meta.cursor !== undefined).map((r) => Number(r.meta.cursor));
      expect(seqs).toEqual(seqs.map((_, i) => i + 1)); // 1..N: no gap across the crash, no event twice
      expect(seqs.at(-1)).toBeGreaterThan(lastSeq);
      expect(log.filter((r) => r.type === 'session.prompt')).toHaveLength(1);
      expect(log.filter((r) => (r.data as { kind?: string }).kind === 'session.next.prompt.admitted')).toHaveLength(1);
      expect(log.map((r) => r.version)).toEqual(log.map((_, i) => i + 1));
      await readLog(db.path, async (store) => {
        expect(await verifyReplay(store, sessionMachine, 'held-oc')).toMatchObject({ ok: true });
      });
    } finally {
      first.child.kill('SIGKILL');
      db.cleanup();
    }
  }, 120_000);

  it('OpenCode (v1 global stream, no cursor): re-reads the session over HTTP after recovery and finishes the turn', async () => {
    const db = tempDb();
    const server = await opencode();
    const args = { db: db.path, binding: 'opencode', url: server.url, session: 'held-v1', api: 'v1' };
    const first = holder('start', args, env);
    try {
      await until(() => records(db.path, 'held-v1').filter((r) => r.type === 'session.part').length >= 3, `3 parts logged\n${first.output()}`, {
        timeoutMs: 30_000,
        everyMs: 20,
      });
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
      expect(records(db.path, 'held-v1').some((r) => r.type === 'session.status' && (r.data as { status: string }).status === 'idle')).toBe(false);

      expect(await recoverToEnd(args, env)).toMatchObject({ lastEnd: 'completed', output: WORDS.join('') });
      const log = records(db.path, 'held-v1');
      expect(log.filter((r) => r.type === 'session.synced')).toHaveLength(2); // at the first connection, and after recovery
      expect(log.filter((r) => r.type === 'session.prompt')).toHaveLength(1);
      await readLog(db.path, async (store) => {
        expect(await verifyReplay(store, sessionMachine, 'held-v1')).toMatchObject({ ok: true });
      });
    } finally {
      first.child.kill('SIGKILL');
      db.cleanup();
    }
  }, 120_000);

  it('MCP (tools/call stream): resumes with the last logged Last-Event-ID, no progress lost or twice, the tool run once', async () => {
    const db = tempDb();
    mcp = await startMcpServer();
    const args = { db: db.path, binding: 'mcp', url: mcp.url, session: 'held-mcp' };
    const first = holder('start', args);
    try {
      const parts = () => records(db.path, 'held-mcp').filter((r) => r.type === 'session.part');
      await until(() => parts().length >= 3, `3 progress notifications logged\n${first.output()}`, { timeoutMs: 30_000, everyMs: 20 });
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
      const atKill = parts().length;
      expect(atKill).toBeLessThan(20);

      expect(await recoverToEnd(args)).toMatchObject({ lastEnd: 'completed', output: 'Counted to 20' });

      const log = records(db.path, 'held-mcp');
      const progress = log.filter((r) => r.type === 'session.part').map((r) => (r.data as { part: { progress: number } }).part.progress);
      expect(progress).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const ids = log.filter((r) => r.meta.cursor !== undefined).map((r) => r.meta.cursor);
      expect(new Set(ids).size).toBe(ids.length);
      expect(mcp.stats().toolRuns['held-mcp:p1']).toBe(1); // resumed by GET + Last-Event-ID, not re-posted
      await readLog(db.path, async (store) => {
        expect(await verifyReplay(store, sessionMachine, 'held-mcp')).toMatchObject({ ok: true });
      });
    } finally {
      first.child.kill('SIGKILL');
      db.cleanup();
    }
  }, 90_000);

  it('MCP killed between the tools/call POST and its first SSE event: not POSTed again, the turn fails OUTCOME_UNKNOWN, the tool ran once', async () => {
    const db = tempDb();
    const held = await startMcpServer({ holdFirstCallMs: 2_000 }); // no byte of the answer for 2 s: the kill lands in the window
    const id = 'held-lost';
    const args = { db: db.path, binding: 'mcp', url: held.url, session: id };
    const first = holder('start', args);
    try {
      await until(() => held.stats().callsReceived[`${id}:p1`] === 1, `the tools/call POST arrived\n${first.output()}`, { timeoutMs: 30_000, everyMs: 20 });
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
      const atKill = records(db.path, id);
      expect(atKill.filter((r) => (r.data as { kind?: string }).kind === 'mcp.request-sent').map((r) => r.meta.cursor)).toEqual(['']);
      expect(atKill.some((r) => (r.data as { channel?: string }).channel === 'prompt' && r.meta.cursor)).toBe(false); // no event id logged

      expect(await recoverToEnd(args)).toMatchObject({ lastEnd: 'failed' });
      await readLog(db.path, async (store) => {
        const last = (await replaySteps(store, sessionMachine, id)).at(-1)!.snapshot;
        expect(last.context.lastError).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
        expect(last.context.lastError.message).toContain(`id "${id}:p1"`);
        expect(await verifyReplay(store, sessionMachine, id)).toMatchObject({ ok: true });
      });
      // the held call is handled by the server after the hold: that run is the only one
      await until(() => held.stats().toolRuns[`${id}:p1`] === 1, 'the first run started on the server', { timeoutMs: 10_000, everyMs: 20 });
      await new Promise((r) => setTimeout(r, 500));
      expect(held.stats().callsReceived[`${id}:p1`]).toBe(1);
      expect(held.stats().toolRuns[`${id}:p1`]).toBe(1);
    } finally {
      first.child.kill('SIGKILL');
      await held.close();
      db.cleanup();
    }
  }, 90_000);
});

import { readdirSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionMachine } from '../../machines/connection/machine.ts';
import { verifyReplay } from '../../src/index.ts';
import { startMoleculeServer, type MoleculeServerHandle } from '../servers/molecule-server.ts';
import { readLog, runTsx, until } from '../support/kit/index.ts';
import { tempDb } from '../support/tempDb.ts';

const MESSAGES = 12;

/** Starts test/support/molecule-process.ts; resolves `exited` with the exit code or signal. */
function holder(args: string[]) {
  return runTsx('test/support/molecule-process.ts', args);
}

describe('molecule connection: kill -9 in the middle of a dispatch batch', () => {
  let server: MoleculeServerHandle;
  const db = tempDb();
  beforeAll(async () => {
    server = await startMoleculeServer();
  });
  afterAll(async () => {
    await server.close();
    db.cleanup();
  });

  it('recovers from the log: no message lost, none dispatched twice, the in-flight ones re-run with their keys', async () => {
    const ws = 'ws-crash';
    const rows = Array.from({ length: MESSAGES }, (_, i) => server.addMessage(ws, `job ${i + 1}`, 'ws-caller'));
    const args = ['--db', db.path, '--api', server.url, '--token', server.token, '--workspace', ws, '--until', String(MESSAGES)];
    const dispatchedInLog = () =>
      readLog(db.path, (store) =>
        store
          .readStream(`molecule-${ws}`)
          .filter((r) => r.type === 'message.dispatched')
          .map((r) => (r.data as { messageId: string }).messageId),
      );

    // 1st run: killed while the backend holds message 5 (executed there, not yet logged as dispatched)
    server.faults.holdDispatch = [rows[4]];
    const first = holder(args);
    await until(() => server.stats.dispatchCalls.some((c) => c.messageId === rows[4]), 'the dispatch of message 5', { timeoutMs: 20_000, everyMs: 20 });
    first.child.kill('SIGKILL');
    expect(await first.exited, first.output()).toBe('SIGKILL');
    expect(await dispatchedInLog()).toEqual(rows.slice(0, 4));
    const callsBefore = server.stats.dispatchCalls.length;

    // 2nd run: killed while the reply to message 9 is in flight (dispatch logged, reply not)
    server.faults.holdReply = [rows[8]];
    const second = holder(args);
    await until(() => server.stats.replies.some((r) => r.envelope.params?.message?.metadata?.in_reply_to === rows[8]), 'the reply to message 9', {
      timeoutMs: 20_000,
      everyMs: 20,
    });
    second.child.kill('SIGKILL');
    expect(await second.exited, second.output()).toBe('SIGKILL');
    expect(second.output()).toMatch(/recovered molecule-ws-crash/);
    expect(await dispatchedInLog()).toEqual(rows.slice(0, 9));
    // the recovered run re-ran only the in-flight message 5 (same key), never 1-4
    const rerun = server.stats.dispatchCalls.slice(callsBefore).map((c) => c.messageId);
    expect(rerun[0]).toBe(rows[4]);
    expect(rerun.filter((id) => rows.slice(0, 4).includes(id))).toEqual([]);

    // 3rd run: finishes the batch
    const third = holder(args);
    const code = await Promise.race([third.exited, new Promise((r) => setTimeout(() => r('still running'), 30_000))]);
    if (code === 'still running') third.child.kill('SIGKILL');
    expect(code, third.output()).toBe(0);

    // nothing lost, nothing executed twice
    expect(server.stats.executions.map((e) => e.messageId)).toEqual(rows);
    expect(new Set(server.stats.executions.map((e) => e.key)).size).toBe(MESSAGES);
    expect(server.stats.dispatchCalls.filter((c) => c.messageId === rows[4]).map((c) => c.key)).toEqual([
      `molecule-${ws}:${rows[4]}`,
      `molecule-${ws}:${rows[4]}`,
    ]);
    expect(server.stats.dispatchCalls).toHaveLength(MESSAGES + 1);
    expect(await dispatchedInLog()).toEqual(rows);
    // every message replied once; the reply cut by the crash was re-sent with the same envelope id
    expect(
      server.stats.replies
        .filter((r) => r.to === 'ws-caller' && rows.includes(r.envelope.params?.message?.metadata?.in_reply_to ?? ''))
        .map((r) => r.envelope.params?.message?.metadata?.in_reply_to),
    ).toEqual(rows);
    expect(server.stats.duplicateReplies).toBe(1);

    await readLog(db.path, async (store) => {
      const id = `molecule-${ws}`;
      const records = store.readStream(id);
      expect(records.map((r) => r.version)).toEqual(records.map((_, i) => i + 1));
      expect(records.filter((r) => r.type === 'message.dispatched').map((r) => r.meta.cursor)).toEqual(rows);
      expect(await verifyReplay(store, connectionMachine, id)).toMatchObject({ ok: true });
      expect(store.getStream(id)!.status).toBe('done');
    });
    // the cursor lives in the log only: no cursor or state file beside it
    expect(readdirSync(db.dir).filter((f) => !f.startsWith('log.db'))).toEqual([]);
    expect(statSync(db.path).mode & 0o777).toBe(0o600); // owner-only, as seed 003's state file
  }, 90_000);

  it('a reply the platform refuses (503) past the old bound of 5 attempts survives kill -9: sent once after recovery, the backend not run again', async () => {
    const ws = 'ws-reply-crash';
    const log = tempDb();
    try {
      const row = server.addMessage(ws, 'answer me across a crash', 'ws-asker');
      const envelopeId = `molecule-${ws}:${row}`;
      const attempts = () => server.stats.replyAttempts.filter((a) => a.id === envelopeId);
      const args = ['--db', log.path, '--api', server.url, '--token', server.token, '--workspace', ws, '--until', '1', '--max-retry-delay', '40'];
      server.faults.reply = Array(1000).fill(503);

      const first = holder(args);
      await until(() => attempts().length >= 8, 'eight refused reply attempts', { timeoutMs: 20_000, everyMs: 20 });
      first.child.kill('SIGKILL');
      expect(await first.exited, first.output()).toBe('SIGKILL');
      await readLog(log.path, (store) => {
        const records = store.readStream(`molecule-${ws}`);
        expect(records.filter((r) => r.type === 'message.dispatched').map((r) => (r.data as { messageId: string }).messageId)).toEqual([row]);
        expect(records.filter((r) => r.type === 'xstate.error.actor.reply').length).toBeGreaterThanOrEqual(7);
      });
      expect(server.stats.replies.filter((r) => r.envelope.id === envelopeId)).toEqual([]);

      server.faults.reply = [503, 503]; // still refused a little after the restart
      const second = holder(args);
      const code = await Promise.race([second.exited, new Promise((r) => setTimeout(() => r('still running'), 30_000))]);
      if (code === 'still running') second.child.kill('SIGKILL');
      expect(code, second.output()).toBe(0);
      expect(second.output()).toMatch(/recovered molecule-ws-reply-crash/);
      expect(second.output()).toMatch(/finished: "offline" done counts=\{[^}]*"dispatched":1,[^}]*"replies":1,[^}]*"replyFailures":0,/);

      const statuses = attempts().map((a) => a.status);
      expect(statuses.at(-1)).toBe(200);
      expect(statuses.filter((s) => s === 200)).toHaveLength(1); // sent once it could be
      expect(statuses.length).toBeGreaterThan(10);
      expect(server.stats.replies.filter((r) => r.envelope.id === envelopeId).map((r) => r.to)).toEqual(['ws-asker']);
      expect(server.stats.dispatchCalls.filter((c) => c.messageId === row)).toHaveLength(1); // the backend is not run again for it
      await readLog(log.path, async (after) => {
        expect(await verifyReplay(after, connectionMachine, `molecule-${ws}`)).toMatchObject({ ok: true });
      });
    } finally {
      log.cleanup();
    }
  }, 90_000);
});

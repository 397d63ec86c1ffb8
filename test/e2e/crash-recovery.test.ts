import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startA2AServer, type A2AServerHandle } from '../../examples/a2a-agent-server.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { jobMachine } from '../../machines/job/machine.ts';
import { comparable, replaySteps, verifyReplay } from '../../src/index.ts';
import { eventCount, startOrchestrator } from '../support/orchestrator.ts';
import { readLog, until } from '../support/kit/index.ts';
import { tempDb } from '../support/tempDb.ts';

const JOBS = 8;
/** Kill points: SIGKILL once this run has appended this many events (submitting, streaming, answering input…). */
const KILL_AFTER = [3, 8, 8];

describe('crash recovery of the main job (kill -9)', () => {
  let agent: A2AServerHandle;
  const db = tempDb();

  beforeAll(async () => {
    agent = await startA2AServer({ stepMs: 800 }); // a task takes ~3 s: longer than a restart
  });
  afterAll(async () => {
    await agent?.close();
    db.cleanup();
  });

  it('finishes every job after several SIGKILLs, with no gap, no double task, and replay equal to live', async () => {
    const args = ['--db', db.path, '--agent-url', agent.url, '--jobs', String(JOBS), '--timeout-ms', '60000', '--poll-ms', '200'];
    const runs: string[] = [];
    for (const killAfter of KILL_AFTER) {
      const before = eventCount(db.path);
      const run = startOrchestrator(args);
      await until(() => eventCount(db.path) >= before + killAfter, `${killAfter} more events in the log`, { timeoutMs: 30_000, everyMs: 20 });
      run.child.kill('SIGKILL');
      expect(await run.exited).toBe('SIGKILL');
      runs.push(run.output());
      const atKill = openSqliteStore(db.path, { readonly: true });
      const unfinished = atKill.listStreams({ status: ['active'] }).filter((s) => s.machine.name === 'job');
      atKill.close();
      expect(unfinished.length, `jobs still working when killed after ${killAfter} more events`).toBeGreaterThan(0);
    }
    const last = startOrchestrator(args);
    const code = await Promise.race([last.exited, new Promise((r) => setTimeout(() => r('still running'), 60_000))]);
    if (code === 'still running') last.child.kill('SIGKILL');
    expect(code, last.output()).toBe(0);
    expect(last.output()).toMatch(/recovered \d+ actors/);
    expect(last.output()).toContain('summary:');

    await readLog(db.path, async (store) => {
      const jobs = store.listStreams().filter((s) => s.machine.name === 'job');
      expect(jobs).toHaveLength(JOBS);
      for (const stream of jobs) {
        expect(stream.status, stream.streamId).toBe('done');
        const versions = store.readStream(stream.streamId).map((r) => r.version);
        expect(versions, `${stream.streamId} has no version gap`).toEqual(versions.map((_, i) => i + 1));
        const verify = await verifyReplay(store, jobMachine, stream.streamId);
        expect(verify, stream.streamId).toMatchObject({ ok: true });
        expect(verify.checked).toBeGreaterThan(0);
        // Events queued before the actor ended (never acted on) may follow the final snapshot: folding them changes nothing.
        const all = await replaySteps(store, jobMachine, stream.streamId);
        expect(comparable(all.at(-1)!.snapshot)).toEqual(comparable((store.loadSnapshot(stream.streamId)!.snapshot as { state: object }).state));
        const final = (store.loadSnapshot(stream.streamId)!.snapshot as { state: { value: string } }).state.value;
        expect(['done', 'failed']).toContain(final);
      }
      const batch = store.listStreams().filter((s) => s.machine.name === 'batch');
      expect(batch.map((b) => b.status)).toEqual(['done']);
      // One task per job: the messageId logged before the send is the agent's idempotency key.
      expect(agent.stats().tasksCreated).toBe(JOBS);
      const accepted = jobs.map((s) => store.readStream(s.streamId).filter((r) => r.type === 'job.accepted').length);
      expect(accepted.every((n) => n === 1)).toBe(true);
    });
  }, 180_000);
});

import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerMachine } from '../../machines/ironclaw/machine.ts';
import { verifyReplay } from '../../src/index.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { startIronclawOrchestrator, type IronclawOrchestrator } from '../servers/ironclaw-orchestrator.ts';
import { readLog, runTsx, until } from '../support/kit/index.ts';
import { tempDb } from '../support/tempDb.ts';

const JOB = 'crash-job';
const TOKEN = 'tok-ironclaw-crash-SECRETTOKEN';
const CREDENTIAL = 'ghp_SECRETVALUE_crash_5e6f7a8b';

/** examples/ironclaw-worker.ts in a child process on the test orchestrator, its output collected. */
function runWorker(db: string, url: string) {
  return runTsx('examples/ironclaw-worker.ts', ['--db', db, '--orchestrator-url', url, '--job-id', JOB, '--prompt-poll-ms', '50'], {
    env: { IRONCLAW_WORKER_TOKEN: TOKEN },
  });
}

describe('ironclaw worker after kill -9 mid-loop (seed 002)', () => {
  let orchestrator: IronclawOrchestrator;
  const db = tempDb();

  beforeAll(async () => {
    orchestrator = await startIronclawOrchestrator([
      {
        jobId: JOB,
        token: TOKEN,
        title: 'Crash me',
        description: 'Look it up, then answer.',
        credentials: [{ env_var: 'GITHUB_TOKEN', value: CREDENTIAL }],
        prompts: [
          { content: 'Now summarise it', afterPolls: 1 },
          { content: '', done: true, afterPolls: 1 },
        ],
      },
    ]);
  });
  afterAll(async () => {
    await orchestrator?.close();
    db.cleanup();
  });

  it('recovers the worker from the log: the LLM call in flight re-runs with its key, nothing else is redone, one completion', async () => {
    orchestrator.faults.holdLlmMs = 400;
    const first = runWorker(db.path, orchestrator.url);
    await until(() => orchestrator.llmKeys(JOB).length >= 2, 'the second LLM call', { timeoutMs: 30_000, everyMs: 20 });
    first.child.kill('SIGKILL'); // the second completion is held by the orchestrator: in flight
    expect(await first.exited).toBe('SIGKILL');
    orchestrator.faults.holdLlmMs = 0;
    const atKill = openSqliteStore(db.path, { readonly: true });
    const stream = atKill.listStreams()[0];
    const llmLogged = atKill.readStream(stream.streamId).filter((r) => r.type === 'llm.completed').length;
    atKill.close();
    expect(stream.status).toBe('active');
    expect(llmLogged).toBe(1);

    const second = runWorker(db.path, orchestrator.url);
    const code = await Promise.race([second.exited, new Promise((r) => setTimeout(() => r('still running'), 60_000))]);
    if (code === 'still running') second.child.kill('SIGKILL');
    expect(code, second.output()).toBe(0);
    expect(second.output()).toContain('recovered 1 workers');

    const keys = orchestrator.llmKeys(JOB);
    expect(keys).toEqual([`${JOB}:llm:1`, `${JOB}:llm:2`, `${JOB}:llm:2`, `${JOB}:llm:3`, `${JOB}:llm:4`]);
    expect(orchestrator.completions(JOB)).toEqual([expect.objectContaining({ success: true, iterations: 4 })]);
    const paths = orchestrator.requests.map((r) => r.path);
    expect(paths.filter((p) => p === `${JOB}/job`)).toHaveLength(1); // the job is not fetched again
    expect(paths.filter((p) => p === `${JOB}/credentials`)).toHaveLength(2); // credentials are: they live in memory only

    await readLog(db.path, async (store) => {
      const [s] = store.listStreams();
      expect(s.status).toBe('done');
      const events = store.readStream(s.streamId);
      expect(events.map((r) => r.version)).toEqual(events.map((_, i) => i + 1));
      expect(events.filter((r) => r.type === 'llm.completed')).toHaveLength(4);
      expect(events.filter((r) => r.type === 'worker.completed')).toHaveLength(1);
      expect(await verifyReplay(store, workerMachine, s.streamId)).toMatchObject({ ok: true });
    });
    for (const file of [db.path, `${db.path}-wal`, `${db.path}-shm`]) {
      if (!existsSync(file)) continue;
      const bytes = readFileSync(file);
      expect(bytes.includes(CREDENTIAL), file).toBe(false);
      expect(bytes.includes(TOKEN), file).toBe(false);
    }
    for (const out of [first.output(), second.output()]) {
      expect(out).not.toContain(CREDENTIAL);
      expect(out).not.toContain(TOKEN);
    }
  }, 120_000);
});

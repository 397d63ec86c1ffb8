import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobMachine } from '../../machines/job/machine.ts';
import { verifyReplay } from '../../src/index.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { startForemanServer, type ForemanServer } from '../servers/foreman.ts';
import { until } from '../support/orchestrator.ts';
import { tempDb } from '../support/tempDb.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = import.meta.resolve('tsx');
const TOKEN = 'tok-crash-4b1d77aa-SECRET';
const WEBHOOK_SECRET = 'whsec-crash-90e1c3f2-SECRET';
const JOBS = 4;

/** examples/foreman-jobs.ts in a child process, its output collected. */
function runExample(args: string[]) {
  const child = spawn(process.execPath, ['--import', TSX, 'examples/foreman-jobs.ts', ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FOREMAN_TOKEN: TOKEN, FOREMAN_WEBHOOK_SECRET: WEBHOOK_SECRET },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, exited, output: () => out };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Job streams of the log with a `job.accepted` event, read through a separate read-only connection. */
function acceptedJobs(path: string): number {
  if (!existsSync(path)) return 0;
  try {
    const store = openSqliteStore(path, { readonly: true });
    try {
      return store.listStreams().filter((s) => store.readStream(s.streamId).some((r) => r.type === 'job.accepted')).length;
    } finally {
      store.close();
    }
  } catch {
    return 0;
  }
}

describe('foreman jobs after kill -9 (seed 000)', () => {
  let server: ForemanServer;
  const db = tempDb();

  beforeAll(async () => {
    server = await startForemanServer({ token: TOKEN, webhookSecret: WEBHOOK_SECRET, stepMs: 300, workers: 2 });
  });
  afterAll(async () => {
    await server?.close();
    db.cleanup();
  });

  it('recovers every job from the log: none submitted again, each followed to its end, replay equal to live', async () => {
    const args = ['--db', db.path, '--foreman-url', server.url, '--jobs', String(JOBS), '--webhook-port', String(await freePort()), '--poll-ms', '100'];
    const first = runExample(args);
    await until(() => acceptedJobs(db.path) === JOBS, 30_000, `${JOBS} accepted jobs in the log`);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const atKill = openSqliteStore(db.path, { readonly: true });
    const waiting = atKill.listStreams({ status: ['active'] }).length;
    atKill.close();
    expect(waiting, 'jobs still waiting when killed').toBeGreaterThan(0);

    const second = runExample(args);
    const code = await Promise.race([second.exited, new Promise((r) => setTimeout(() => r('still running'), 60_000))]);
    if (code === 'still running') second.child.kill('SIGKILL');
    expect(code, second.output()).toBe(0);
    expect(second.output()).toMatch(new RegExp(`recovered ${waiting} jobs`));
    expect(second.output()).not.toContain(TOKEN);

    expect(server.stats().jobsCreated).toBe(JOBS);
    const store = openSqliteStore(db.path, { readonly: true });
    try {
      const streams = store.listStreams();
      expect(streams).toHaveLength(JOBS);
      const finals: Record<string, string> = {};
      for (const stream of streams) {
        const events = store.readStream(stream.streamId);
        expect(stream.status, stream.streamId).toBe('done');
        expect(events.map((r) => r.version), `${stream.streamId} has no version gap`).toEqual(events.map((_, i) => i + 1));
        expect(events.filter((r) => r.type === 'job.accepted'), stream.streamId).toHaveLength(1);
        expect(verifyReplay(store, jobMachine, stream.streamId), stream.streamId).toMatchObject({ ok: true });
        finals[stream.streamId] = (store.loadSnapshot(stream.streamId)!.snapshot as { state: { value: string } }).state.value;
      }
      expect(finals).toEqual({ 'foreman-1': 'done', 'foreman-2': 'done', 'foreman-3': 'done', 'foreman-4': 'failed' });
    } finally {
      store.close();
    }
    for (const file of [db.path, `${db.path}-wal`]) {
      if (existsSync(file)) expect(readFileSync(file).includes('SECRET'), file).toBe(false);
    }
  }, 120_000);
});

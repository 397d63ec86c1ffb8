import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { a2aJobMachine } from '../../machines/a2a/index.ts';
import { createActorSystem } from '../../src/runtime/actorSystem.ts';
import { machineHash } from '../../src/runtime/machineHash.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { counterMachine, fakeJobMachine } from '../support/cliMachines.ts';
import { batchMachine } from '../../examples/batch-machine.ts';
import { tempDb } from '../support/tempDb.ts';
import { ROOT, runCli, startCli } from '../support/kit/index.ts';

const MACHINES = 'test/support/cliMachines.ts';

type Run = ReturnType<typeof startCli>;

/** Runs `node bin/actorlog.js …args` from `cwd` (default: the repo root), killed after `timeoutMs`. */
const start = (args: string[], timeoutMs = 20_000, cwd = ROOT, env: Record<string, string> = {}): Run => startCli(args, { timeoutMs, cwd, env });
const cli = (...args: string[]) => runCli(args, { timeoutMs: 20_000 });

/** Resolves once the child has printed something matching `pattern` on stdout. */
function printed(run: Run, pattern: RegExp, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} on stdout within ${timeoutMs} ms: ${seen}`)), timeoutMs);
    run.child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

/** The data lines of a table (header dropped), split into cells on runs of spaces. */
const rows = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/));
const jsonLines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

const db = tempDb();
const tampered = join(db.dir, 'tampered.db');

beforeAll(async () => {
  const store = openSqliteStore(db.path);
  const system = createActorSystem({ store, machines: { counter: counterMachine, job: fakeJobMachine } });
  const counter = system.spawn('counter', { id: 'counter-1', input: { step: 2 } });
  for (const type of ['start', 'inc', 'inc', 'pause', 'resume', 'inc', 'finish'] as const) counter.send({ type });
  system.spawn('counter', { id: 'counter-2', input: {} }).send({ type: 'start' });
  const job = system.spawn('job', { id: 'job-1', input: { jobId: 'job-1', request: { text: 'hello' } } });
  await job.waitFor((s) => s.status === 'done', { timeoutMs: 5_000 });
  await system.close();
  store.close(); // the last connection checkpoints the WAL into the file: it can be copied alone
  copyFileSync(db.path, tampered);
  const raw = new Database(tampered);
  raw.prepare("UPDATE snapshots SET snapshot = json_set(snapshot, '$.state.context.count', 99) WHERE stream_id = 'counter-1'").run();
  raw.prepare("UPDATE streams SET machine_hash = 'deadbeefdeadbeef' WHERE stream_id = 'job-1'").run();
  raw.prepare("DELETE FROM snapshots WHERE stream_id = 'counter-2'").run(); // as a process killed before it saved one leaves it
  raw.close();
  // a stream as the A2A binding records it (its actors are in the hash), with no event and no snapshot
  const other = openSqliteStore(tampered);
  other.createStream({
    streamId: 'a2a-1',
    machine: { name: 'job', hash: machineHash(a2aJobMachine({ url: 'http://127.0.0.1:9' })) },
    input: { jobId: 'a2a-1', request: { text: 'hi' } },
    createdAt: Date.now(),
  });
  other.close();
});
afterAll(() => db.cleanup());

describe('actorlog streams', () => {
  it('lists every stream with its machine, status and version', async () => {
    const { code, stdout } = await cli('streams', db.path);
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toMatch(/^STREAM\s+MACHINE\s+STATUS\s+VERSION\s+CREATED/);
    expect(rows(stdout).map((r) => r.slice(0, 4))).toEqual([
      ['counter-1', 'counter', 'done', '7'],
      ['counter-2', 'counter', 'active', '1'],
      ['job-1', 'job', 'done', '5'],
    ]);
  });

  it('filters by --status and prints JSON lines with --json', async () => {
    const { code, stdout } = await cli('streams', db.path, '--status', 'active,stopped', '--json');
    expect(code).toBe(0);
    expect(jsonLines(stdout)).toEqual([
      expect.objectContaining({ streamId: 'counter-2', status: 'active', version: 1, machine: expect.objectContaining({ name: 'counter' }) }),
    ]);
  });
});

describe('actorlog replay', () => {
  it('prints one line per event with the state after it (machine from --machines)', async () => {
    const { code, stdout } = await cli('replay', db.path, 'counter-1', '--machines', MACHINES);
    expect(code).toBe(0);
    expect(rows(stdout)).toEqual([
      ['1', '1', 'external', 'start', 'running.counting', 'active'],
      ['2', '2', 'external', 'inc', 'running.counting', 'active'],
      ['3', '3', 'external', 'inc', 'running.counting', 'active'],
      ['4', '4', 'external', 'pause', 'running.paused', 'active'],
      ['5', '5', 'external', 'resume', 'running.counting', 'active'],
      ['6', '6', 'external', 'inc', 'running.counting', 'active'],
      ['7', '7', 'external', 'finish', 'finished', 'done'],
    ]);
  });

  it('replays the job machine, with sources and cursors, and stops at --to', async () => {
    const { code, stdout } = await cli('replay', db.path, 'job-1', '--machines', MACHINES);
    expect(code).toBe(0);
    expect(
      rows(stdout)
        .slice(0, 4)
        .map((r) => [r[2], r[3], r[4], r[6] ?? '']),
    ).toEqual([
      ['poll', 'job.accepted', 'active.working.streaming', ''],
      ['child', 'xstate.done.actor.submit', 'active.working.streaming', ''], // queued before the submit actor was stopped
      ['sse', 'job.update', 'active.working.streaming', 'e1'],
      ['sse', 'job.update', 'done', 'e2'],
    ]);
    expect(stdout).not.toContain('half way'); // no event data in the table
    const upTo = await cli('replay', db.path, 'job-1', '--machines', MACHINES, '--to', '2');
    expect(rows(upTo.stdout).map((r) => r[0])).toEqual(['1', '2']);
  });

  it('prints JSON objects with data and cursor under --json', async () => {
    const { code, stdout } = await cli('replay', db.path, 'job-1', '--machines', MACHINES, '--json', '--to', '3');
    expect(code).toBe(0);
    const [first, , second] = jsonLines(stdout);
    expect(first).toMatchObject({
      version: 1,
      source: 'poll',
      type: 'job.accepted',
      state: 'active.working.streaming',
      status: 'active',
      data: { remoteId: 'r-1' },
    });
    expect(second).toMatchObject({ version: 3, source: 'sse', cursor: 'e1', type: 'job.update', data: { update: { message: 'half way' } } });
    expect(Number.isInteger(second.globalPosition)).toBe(true);
  });

  it('--verify exits 0 when the replay equals the live snapshot', async () => {
    const counter = await cli('replay', db.path, 'counter-1', '--machines', MACHINES, '--verify');
    expect(counter.code).toBe(0);
    expect(counter.stdout).toMatch(/verify: OK .*version 7/);
    const job = await cli('replay', db.path, 'job-1', '--machines', MACHINES, '--verify', '--strict', '--json');
    expect(job.code).toBe(0);
    expect(jsonLines(job.stdout).at(-1)).toEqual({ verify: { ok: true, version: 4, checked: 1, nothingToCompare: false, differences: [] } });
  });

  it('--verify says it compared nothing when the stream has no live snapshot, and --strict exits 1 on it', async () => {
    const text = await cli('replay', tampered, 'counter-2', '--machines', MACHINES, '--verify');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('verify: NOTHING TO COMPARE (no live snapshot recorded for counter-2)\n');
    expect(text.stdout).not.toContain('verify: OK');
    const strict = await cli('replay', tampered, 'counter-2', '--machines', MACHINES, '--verify', '--strict');
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('verify: NOTHING TO COMPARE');
    const json = await cli('replay', tampered, 'counter-2', '--machines', MACHINES, '--verify', '--strict', '--json');
    expect(json.code).toBe(1);
    expect(jsonLines(json.stdout).at(-1)).toEqual({ verify: { ok: true, version: 0, checked: 0, nothingToCompare: true, differences: [] } });
  });

  it('matches a stream written by a shipped binding (A2A) to the built-in job machine', async () => {
    const { code, stdout, stderr } = await cli('replay', tampered, 'a2a-1', '--verify', '--strict');
    expect(stderr).toBe('');
    expect(code).toBe(1); // no snapshot to compare with
    expect(stdout).toContain('verify: NOTHING TO COMPARE (no live snapshot recorded for a2a-1)');
  });

  it('--verify exits 1 and names the difference when the stored snapshot was tampered with', async () => {
    const text = await cli('replay', tampered, 'counter-1', '--machines', MACHINES, '--verify');
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('verify: MISMATCH with the live snapshot at version 7');
    expect(text.stdout).toContain('context.count: live 99, replayed 6');
    const json = await cli('replay', tampered, 'counter-1', '--machines', MACHINES, '--verify', '--json');
    expect(json.code).toBe(1);
    expect(jsonLines(json.stdout).at(-1).verify).toMatchObject({ ok: false, version: 7, differences: [{ key: 'context' }] });
  });

  it('refuses a stream written by another machine definition unless --ignore-hash', async () => {
    const refused = await cli('replay', tampered, 'job-1');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/deadbeefdeadbeef.*\(MACHINE_MISMATCH\)\n$/);
    const forced = await cli('replay', tampered, 'job-1', '--ignore-hash', '--to', '1');
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/^actorlog: warning: .*another definition of "job"/);
    expect(rows(forced.stdout)).toHaveLength(1);
  });

  it('exits 2 with STREAM_NOT_FOUND, MACHINE_NOT_REGISTERED or INVALID_OPTIONS', async () => {
    const missing = await cli('replay', db.path, 'nope');
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toMatch(/^actorlog: .*nope.* \(STREAM_NOT_FOUND\)\n$/);
    const unregistered = await cli('replay', db.path, 'counter-1');
    expect(unregistered.code).toBe(2);
    expect(unregistered.stderr).toMatch(/\(MACHINE_NOT_REGISTERED\)\n$/);
    const usage = await cli('replay', db.path, 'counter-1', '--to', 'soon');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/\(INVALID_OPTIONS\)\n$/);
    const noFile = await cli('streams', join(db.dir, 'absent.db'));
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/\(STORE_UNAVAILABLE\)\n$/);
  });
});

describe('actorlog.config', () => {
  it('finds the machines and the log in actorlog.config.mjs of the working directory', async () => {
    const dir = tempDb();
    try {
      copyFileSync(db.path, dir.path);
      writeFileSync(join(dir.dir, 'actorlog.config.mjs'), `export default { machines: [${JSON.stringify(join(ROOT, MACHINES))}], db: './log.db' };\n`);
      const replayed = await start(['replay', 'counter-1', '--verify'], 20_000, dir.dir).done;
      expect(replayed.stderr).toBe('');
      expect(replayed.code).toBe(0);
      expect(replayed.stdout).toMatch(/verify: OK/);
      const listed = await start(['streams', '--json'], 20_000, dir.dir).done;
      expect(jsonLines(listed.stdout).map((s) => s.streamId)).toContain('counter-1');
    } finally {
      dir.cleanup();
    }
  });

  it('takes --config PATH, and says what is wrong with a config it cannot use', async () => {
    const dir = tempDb();
    try {
      const config = join(dir.dir, 'my.config.mjs');
      writeFileSync(config, `export default { machines: [${JSON.stringify(join(ROOT, MACHINES))}] };\n`);
      const ok = await cli('--config', config, 'replay', db.path, 'counter-1');
      expect(ok.code, ok.stderr).toBe(0);
      const missing = await cli('--config', join(dir.dir, 'nope.mjs'), 'streams', db.path);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/no such file \(INVALID_OPTIONS\)/);
      const fromEnv = await start(['--config', config, 'streams', '--json'], 20_000, ROOT, { ACTORLOG_DB: db.path }).done;
      expect(fromEnv.code, fromEnv.stderr).toBe(0);
      expect(jsonLines(fromEnv.stdout).map((r) => r.streamId)).toContain('counter-1');
      const noDb = await cli('--config', config, 'streams');
      expect(noDb.code).toBe(2);
      expect(noDb.stderr).toMatch(/names no db \(INVALID_OPTIONS\)/);
    } finally {
      dir.cleanup();
    }
  });

  it("this repository's actorlog.config.ts replays the main job's batch streams with no flag", async () => {
    const t = tempDb();
    try {
      const store = openSqliteStore(t.path);
      const system = createActorSystem({ store, machines: { batch: batchMachine } });
      const batch = system.spawn('batch', { id: 'batch-1', input: { batchId: 'batch-1', size: 1, prompts: ['x'] } });
      batch.send({ type: 'job.finished', jobId: 'batch-1.job-01', state: 'done' });
      await system.close();
      store.close();
      const { code, stdout, stderr } = await cli('replay', t.path, 'batch-1', '--verify');
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toMatch(/job\.finished\s+done\s+done/);
    } finally {
      t.cleanup();
    }
  });
});

describe('actorlog tail', () => {
  it('prints events another connection appends while it runs, and exits after --limit', async () => {
    const run = start(['tail', db.path, '--limit', '3', '--poll-interval', '50', '--idle-exit', '15000']);
    await printed(run, /^POSITION/);
    const writer = openSqliteStore(db.path);
    const system = createActorSystem({ store: writer, machines: { counter: counterMachine } });
    const actor = system.spawn('counter', { id: 'counter-3' });
    for (const type of ['start', 'inc', 'pause'] as const) actor.send({ type });
    await system.close();
    writer.close();
    const { code, stdout } = await run.done;
    expect(code).toBe(0);
    expect(rows(stdout).map((r) => r.slice(1, 5))).toEqual([
      ['counter-3', '1', 'external', 'start'],
      ['counter-3', '2', 'external', 'inc'],
      ['counter-3', '3', 'external', 'pause'],
    ]);
  });

  it('--from 0 --json catches up on the whole log, then --idle-exit ends it', async () => {
    const { code, stdout } = await cli('tail', db.path, '--from', '0', '--json', '--idle-exit', '300');
    expect(code).toBe(0);
    const records = jsonLines(stdout);
    expect(records.map((r) => r.globalPosition)).toEqual(records.map((_, i) => i + 1));
    expect(records.filter((r) => r.streamId === 'job-1').map((r) => r.type)).toContain('job.update');
    expect(records[0]).toMatchObject({ streamId: 'counter-1', version: 1, type: 'start', data: {}, meta: { source: 'external' } });
  });

  it('exits 0 on SIGINT', async () => {
    const run = start(['tail', db.path]);
    await printed(run, /^POSITION/);
    run.child.kill('SIGINT');
    expect((await run.done).code).toBe(0);
  });
});

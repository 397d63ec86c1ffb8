import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { alive } from '../../examples/server-process.ts';
import type { AnyStateMachine } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import { connectionMachine } from '../../machines/connection/machine.ts';
import { workerMachine } from '../../machines/ironclaw/machine.ts';
import { foremanJobMachine } from '../../machines/foreman/index.ts';
import { sessionMachine } from '../../machines/session/index.ts';
import { replaySteps, verifyReplay } from '../../src/index.ts';
import { opencodeBinary } from '../support/opencodeBinary.ts';
import { eventCount } from '../support/orchestrator.ts';
import { tempDb } from '../support/tempDb.ts';
import { readLog, runTsx, type ChildRun } from '../support/kit/index.ts';

/**
 * The molecule, yoi, MCP, OpenCode, foreman and ironclaw examples survive the kill -9 they advertise.
 * Each example runs as a child process on a log in a temp dir; it is SIGKILLed after its log has N
 * more events, two or three times, then started again until it exits 0. Its server runs detached
 * (examples/server-process.ts), so it outlives every kill and is reused; the example recovers its
 * stream (a stable id recorded beside the log) and finishes its script from the actor's state.
 */

interface Case {
  file: string;
  /** The example's name for its server record (`<db>.<name>.json`). */
  name: string;
  machine: AnyStateMachine;
  final: string;
  /** The script's outcome in the final snapshot's context (a restart must finish the remaining steps, not skip them). */
  context(context: Record<string, unknown>, output: string): void;
  /** SIGKILL once this run has appended this many more events. */
  kills: number[];
  /** Bound of one run, ms. */
  runMs: number;
  /** What the server says about doubled effects, read from the summary the example printed before stopping it. */
  effects(output: string, kills: number): void;
}

const CASES: Case[] = [
  {
    file: 'examples/molecule-connect.ts',
    name: 'molecule',
    machine: connectionMachine,
    final: 'offline',
    kills: [5, 9, 9],
    context: (ctx) => expect(ctx).toMatchObject({ reason: 'example finished', counts: { dispatched: 5, replies: 4, notReplied: 1, cursorResets: 1 } }),
    runMs: 60_000,
    effects(output) {
      // the platform's durable backend: each message executed once, whatever was re-run with its key
      expect(output).toMatch(/platform: executed 5 dispatches/);
      expect(output).toMatch(/summary: offline \(example finished\); dispatched 5, replied 4, not replied 1/);
    },
  },
  {
    file: 'examples/yoi-observe.ts',
    name: 'yoi',
    machine: connectionMachine,
    final: 'offline',
    kills: [6, 10, 12],
    context: (ctx) => expect(ctx).toMatchObject({ reason: 'example finished', counts: { commands: 4 } }),
    runMs: 60_000,
    effects(output, kills) {
      // three commands reach the backend (pause is never sent); a re-send carries the same key, and
      // only a kill between a command's POST and its logged answer can cause one
      const [, received, resent] = /commands received (\d+), (\d+) of them re-sent/.exec(output)!.map(Number);
      expect(received - resent).toBe(3);
      expect(resent).toBeLessThanOrEqual(kills);
      expect(output).toMatch(/commands 4, last cursor bo_/);
    },
  },
  {
    file: 'examples/mcp-session.ts',
    name: 'mcp',
    machine: sessionMachine,
    final: 'closed',
    kills: [8, 8, 3],
    context(ctx, output) {
      expect(ctx).toMatchObject({ prompts: 2, turns: 2 });
      // the long call is cancelled, unless a kill between its POST and its first logged event left its outcome unknown (never re-sent)
      if (ctx.lastEnd === 'aborted') expect(output).toMatch(/server: 1 session, 1 deleted, 1 call cancelled/);
      else expect(ctx).toMatchObject({ lastEnd: 'failed', lastError: { code: 'OUTCOME_UNKNOWN' } });
    },
    runMs: 60_000,
    effects(output) {
      // no tools/call ran twice (a call whose outcome a kill left unknown is not sent again)
      const runs = JSON.parse(/count runs by request id (\{.*?\})/.exec(output)![1]) as Record<string, number>;
      expect(Object.keys(runs).length).toBeGreaterThanOrEqual(1);
      expect(
        Object.values(runs).every((n) => n === 1),
        `a tool ran twice: ${JSON.stringify(runs)}`,
      ).toBe(true);
      expect(output).toMatch(/server: 1 session, 1 deleted/);
    },
  },
  {
    file: 'examples/opencode-session.ts',
    name: 'opencode',
    machine: sessionMachine,
    final: 'closed',
    kills: [5, 7, 5],
    context: (ctx) => expect(ctx).toMatchObject({ prompts: 2, turns: 2, lastEnd: 'aborted' }),
    runMs: 120_000, // opencode serve and its warm-up prompt take 30-50 s to start on a busy machine
    effects(output) {
      expect(output).toMatch(/the server holds 2 prompts in ses_\w+ \(each admitted once by its id\): "What is the log\?", "Talk for a long time\."/);
    },
  },
];

type Run = ChildRun;

function start(file: string, db: string, args: string[] = []): Run {
  return runTsx(file, args, { env: { ACTORLOG_DB: db } });
}

/**
 * Starts the example again until it exits 0: at most 3 runs of `runMs` each (a run still going then
 * is killed). Returns the run that exited 0, if one did, and the output of those that did not.
 */
async function restartUntilDone(file: string, db: string, args: string[], runMs: number, noteServer: () => void): Promise<{ final?: Run; failed: string[] }> {
  const failed: string[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const run = start(file, db, args);
    started.add(run.pid);
    const code = await Promise.race([run.exited, sleep(runMs).then(() => 'still running')]);
    noteServer();
    if (code === 'still running') run.child.kill('SIGKILL');
    if (code === 0) return { final: run, failed };
    failed.push(run.output());
  }
  return { failed };
}

/**
 * Starts `file` on `db` and waits until the log holds `n` more events (or it exits, or `runMs` passed),
 * then kills it with SIGKILL unless it exited first. Resolves with the run and whether it was killed.
 */
async function runUntilEvents(
  file: string,
  db: string,
  args: string[],
  n: number,
  runMs: number,
  noteServer: () => void,
): Promise<{ run: Run; killed: boolean }> {
  const before = eventCount(db);
  const run = start(file, db, args);
  started.add(run.pid);
  const deadline = Date.now() + runMs;
  while (!run.done() && eventCount(db) < before + n && Date.now() < deadline) await sleep(10);
  noteServer();
  if (run.done()) return { run, killed: false };
  run.kill('SIGKILL');
  expect(await run.exited, run.output()).toBe('SIGKILL');
  return { run, killed: true };
}

/**
 * Kills `file` once per entry of `kills`, each time the log holds that many more events
 * ({@link runUntilEvents}); `caughtAtWork` looks at the log after each kill and tells whether the kill
 * caught the example at work. A run that exits before its kill ends the kills with `stopWhenDone`;
 * without it, it must have exited 0 and the next kill starts it again. Then it is started again
 * until it exits 0 ({@link restartUntilDone}). Expects two kills or more to have caught it at work
 * and the last run to exit 0.
 * @returns every run's output (the last run's last) and how many kills caught it at work
 */
async function killThenFinish(o: {
  file: string;
  db: string;
  args?: string[];
  kills: readonly number[];
  runMs: number;
  noteServer: () => void;
  caughtAtWork: () => Promise<boolean>;
  stopWhenDone?: boolean;
}): Promise<{ outputs: string[]; output: string; killedActive: number }> {
  const outputs: string[] = [];
  let killedActive = 0;
  for (const n of o.kills) {
    const { run, killed } = await runUntilEvents(o.file, o.db, o.args ?? [], n, o.runMs, o.noteServer);
    if (!killed && o.stopWhenDone) break; // it finished before this kill: no more kills
    if (killed) {
      if (await o.caughtAtWork()) killedActive += 1;
    } else {
      expect(await run.exited, run.output()).toBe(0);
    }
    outputs.push(run.output());
  }
  expect(killedActive, `kills that caught the example at work:\n${outputs.join('\n----\n')}`).toBeGreaterThanOrEqual(2);

  // start again until it exits 0 (each run bounded)
  const { final, failed } = await restartUntilDone(o.file, o.db, o.args ?? [], o.runMs, o.noteServer);
  outputs.push(...failed);
  expect(final, outputs.join('\n----\n')).toBeDefined();
  const output = final!.output();
  outputs.push(output);
  expect(await final!.exited, outputs.join('\n----\n')).toBe(0);
  return { outputs, output, killedActive };
}

const opencodeMissing = !existsSync(opencodeBinary());
/** Processes this test started (the examples) or made start (their detached servers): killed by PID if a test fails midway. */
const started = new Set<number>();
afterEach(() => {
  for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
  started.clear();
});

describe('examples survive kill -9 and restart', () => {
  for (const c of CASES) {
    it(
      `${c.file}: killed ${c.kills.length} times, restarted on the same log, finishes with nothing lost or doubled`,
      async () => {
        // npm ci installs opencode-linux-x64 (a devDependency): a missing binary is a broken install, not a reason to skip
        if (c.name === 'opencode' && opencodeMissing) throw new Error(`the opencode binary is missing at ${opencodeBinary()}: run npm ci`);
        const db = tempDb();
        const recordFile = `${db.path}.${c.name}.json`;
        const servers = new Set<number>();
        const noteServer = () => {
          if (!existsSync(recordFile)) return;
          const record = JSON.parse(readFileSync(recordFile, 'utf8')) as { pid: number; childPid?: number };
          for (const pid of [record.pid, record.childPid])
            if (pid) {
              servers.add(pid);
              started.add(pid);
            }
        };
        try {
          const { outputs, output, killedActive } = await killThenFinish({
            file: c.file,
            db: db.path,
            kills: c.kills,
            runMs: c.runMs,
            noteServer,
            caughtAtWork: () => readLog(db.path, (store) => store.listStreams({ status: ['active'] }).length === 1),
          });
          // the detached server outlived every kill: one server for the whole run, reused by each restart
          expect(output).toMatch(/left by an earlier run/);
          // every restart picked up the same stream: resumed it, or (killed after its end) found it finished
          for (const out of outputs.slice(1)) expect(out).toMatch(/: (recovered from the log|found finished in the log)/);
          expect(outputs.slice(1).join('\n')).toMatch(/: recovered from the log/);
          expect(output).toMatch(/replay it: +npm run -s actorlog -- replay /);
          c.effects(output, killedActive);

          await readLog(db.path, async (store) => {
            const streams = store.listStreams();
            expect(streams.map((s) => s.status)).toEqual(['done']);
            const id = streams[0].streamId;
            expect(output).toContain(id);
            const versions = store.readStream(id).map((r) => r.version);
            expect(versions, 'no version gap').toEqual(versions.map((_, i) => i + 1));
            const verify = await verifyReplay(store, c.machine, id);
            expect(verify, JSON.stringify(verify.differences?.slice(0, 2))).toMatchObject({ ok: true });
            const last = (await replaySteps(store, c.machine, id)).at(-1)!.snapshot;
            expect(last.value).toBe(c.final);
            c.context(last.context as Record<string, unknown>, output);
            if (c.machine === connectionMachine) {
              // each message dispatched once: no message.dispatched twice for one message
              const dispatched = store
                .readStream(id)
                .filter((r) => r.type === 'message.dispatched')
                .map((r) => (r.data as { messageId: string }).messageId);
              expect(new Set(dispatched).size).toBe(dispatched.length);
            }
          });

          // the server was stopped at the end (its PID, and OpenCode's own, are gone) and forgotten
          expect(servers.size, 'one server process (plus OpenCode itself) for every run').toBe(c.name === 'opencode' ? 2 : 1);
          for (const pid of servers) expect(alive(pid), `server pid ${pid} still running`).toBe(false);
          expect(existsSync(recordFile)).toBe(false);
          expect(existsSync(`${db.path}.${c.name}.run.json`)).toBe(false);
        } finally {
          db.cleanup();
        }
      },
      c.runMs * 5,
    );
  }

  it('examples/foreman-jobs.ts: killed 3 times, restarted on the same log, its daemon outlives the kills and every job ends once', async () => {
    // Without --foreman-url the example runs the test daemon detached (examples/server-process.ts):
    // a restarted run finds it, with its jobs, and recovers its own jobs against it (not a fresh
    // daemon that answers 404). The daemon is like the seed's (no idempotency): a kill inside the
    // submit window (a job spawned in the log, its job_id not logged yet) may submit that job twice
    // (docs/jobs-from-seeds.md, "The submit window"); every other kill submits nothing again.
    const JOBS = 4;
    const args = ['--step-ms', '800', '--poll-ms', '100'];
    const db = tempDb();
    const recordFile = `${db.path}.foreman.json`;
    const servers = new Set<number>();
    const noteServer = () => {
      if (!existsSync(recordFile)) return;
      const pid = (JSON.parse(readFileSync(recordFile, 'utf8')) as { pid: number }).pid;
      servers.add(pid);
      started.add(pid);
    };
    /** The log's job streams: active ones, and active ones without a job.accepted (in the submit window, or not sent yet). */
    const atKill = () =>
      readLog(db.path, (store) => {
        const active = store.listStreams({ status: ['active'] });
        return { active: active.length, inWindow: active.filter((st) => !store.readStream(st.streamId).some((r) => r.type === 'job.accepted')).length };
      });
    try {
      let inWindow = 0;
      const { outputs, output } = await killThenFinish({
        file: 'examples/foreman-jobs.ts',
        db: db.path,
        args,
        kills: [8, 3, 3],
        runMs: 60_000,
        noteServer,
        stopWhenDone: true, // a run that finished would make the next start a new run (new job ids)
        caughtAtWork: async () => {
          const state = await atKill();
          inWindow += state.inWindow;
          return state.active > 0;
        },
      });
      // one daemon for the whole run, reused by each restart; each restart recovered the same run's jobs
      expect(output).toMatch(/\(test daemon, pid \d+, left by an earlier run\)/);
      for (const out of outputs.slice(1)) expect(out).toMatch(/run foreman \(resumed\)/);
      expect(outputs.slice(1).join('\n')).toMatch(/foreman-\d: recovered from the log/);
      expect(output).toMatch(/replay a job: +npm run -s actorlog -- replay /);
      expect(output).not.toMatch(/^ +foreman-\d: error |HTTP 404/m); // no job lost to a daemon that forgot it

      // the daemon ran each job once, unless a kill landed inside the submit window: then at most once more per job caught there
      const created = Number(/daemon: (\d+) jobs created/.exec(output)![1]);
      if (inWindow === 0) expect(created, output).toBe(JOBS);
      else {
        expect(created).toBeGreaterThanOrEqual(JOBS);
        expect(created).toBeLessThanOrEqual(JOBS + inWindow);
      }

      // the machine the streams record (a binding's options do not change its hash): what replays them
      const jobMachine = foremanJobMachine({ url: 'http://127.0.0.1:9' });
      await readLog(db.path, async (store) => {
        const streams = store.listStreams();
        expect(streams.map((st) => st.streamId).sort()).toEqual(['foreman-1', 'foreman-2', 'foreman-3', 'foreman-4']);
        const finals: Record<string, unknown> = {};
        for (const st of streams) {
          const id = st.streamId;
          const events = store.readStream(id);
          expect(st.status, id).toBe('done');
          expect(
            events.map((r) => r.version),
            `${id} has no version gap`,
          ).toEqual(events.map((_, i) => i + 1));
          // the stream follows one daemon job to its end: one job.accepted; another job's webhooks are only recorded as job.invalid
          expect(
            events.filter((r) => r.type === 'job.accepted'),
            id,
          ).toHaveLength(1);
          const invalid = events.filter((r) => r.type === 'job.invalid').map((r) => (r.data as { error: string }).error);
          expect(
            invalid.every((e) => /webhook for job .* arrived at the URL of job/.test(e)),
            invalid.join('\n'),
          ).toBe(true);
          const verify = await verifyReplay(store, jobMachine, id);
          expect(verify, JSON.stringify(verify.differences?.slice(0, 2))).toMatchObject({ ok: true });
          const last = (await replaySteps(store, jobMachine, id)).at(-1)!.snapshot;
          finals[id] = last.value;
          // and the job it follows is this stream's (the daemon echoes the prompt the stream submitted)
          const prompt = (st.input as { request: { text: string } }).request.text;
          if (last.value === 'done') expect(last.context.result, id).toMatchObject({ message: { content: `echo: ${prompt}` } });
        }
        expect(finals).toEqual({ 'foreman-1': 'done', 'foreman-2': 'done', 'foreman-3': 'done', 'foreman-4': 'failed' });
      });

      // the daemon was stopped at the end and forgotten, and so was the run
      expect(servers.size, 'one daemon process for every run').toBe(1);
      for (const pid of servers) expect(alive(pid), `daemon pid ${pid} still running`).toBe(false);
      expect(existsSync(recordFile)).toBe(false);
      expect(existsSync(`${db.path}.foreman.run.json`)).toBe(false);
    } finally {
      db.cleanup();
    }
  }, 300_000);
  it('examples/ironclaw-worker.ts: killed 3 times, restarted on the same log, its orchestrator outlives the kills and sees one completion', async () => {
    // Without --orchestrator-url the example runs the test orchestrator detached (examples/server-process.ts):
    // a restarted run finds it (the job, its token, the prompts already delivered) and recovers the
    // worker against it. GET prompt is not idempotent in seed 002: a kill while a prompt poll is in
    // flight (the worker in awaitingPrompt.polling) may lose the prompt it delivered; the worker then
    // ends on the next one. Every other kill loses nothing and redoes no report.
    const db = tempDb();
    const recordFile = `${db.path}.ironclaw.json`;
    const servers = new Set<number>();
    const secrets = new Set<string>();
    const noteServer = () => {
      if (!existsSync(recordFile)) return;
      const record = JSON.parse(readFileSync(recordFile, 'utf8')) as {
        pid: number;
        options: { jobs: Array<{ token: string; credentials: Array<{ value: string }> }> };
      };
      servers.add(record.pid);
      started.add(record.pid);
      for (const job of record.options.jobs) [job.token, ...job.credentials.map((c) => c.value)].forEach((v) => secrets.add(v));
    };
    /** The log's bytes (db, -wal, -shm): no token or credential value in them. */
    const expectNoSecretInLog = () => {
      expect(secrets.size, 'the secrets read from the server record').toBe(2);
      for (const file of [db.path, `${db.path}-wal`, `${db.path}-shm`]) {
        if (!existsSync(file)) continue;
        const bytes = readFileSync(file);
        for (const secret of secrets) expect(bytes.includes(secret), `${secret.slice(0, 4)}… in ${file}`).toBe(false);
      }
    };
    /** Whether the log has an active worker, and whether it stands in a prompt poll (a kill there may lose a prompt). */
    const atKill = () =>
      readLog(db.path, async (store) => {
        const [active] = store.listStreams({ status: ['active'] });
        if (!active) return { active: false, polling: false };
        const last = (await replaySteps(store, workerMachine, active.streamId)).at(-1)?.snapshot;
        return { active: true, polling: JSON.stringify(last?.value ?? '').includes('"awaitingPrompt":"polling"') };
      });
    try {
      let inPromptPoll = 0;
      const { outputs, output } = await killThenFinish({
        file: 'examples/ironclaw-worker.ts',
        db: db.path,
        kills: [5, 8, 8],
        runMs: 60_000,
        noteServer,
        stopWhenDone: true,
        caughtAtWork: async () => {
          const state = await atKill();
          if (state.polling) inPromptPoll += 1;
          expectNoSecretInLog(); // the -wal holds the killed run's appends
          return state.active;
        },
      });
      // one orchestrator for the whole run, reused by each restart; each restart picked up the same job
      expect(output).toMatch(/\(test orchestrator, pid \d+, left by an earlier run\)/);
      const jobId = /ironclaw worker: job ([\w-]+)/.exec(outputs[0])![1];
      for (const out of outputs.slice(1)) expect(out).toMatch(new RegExp(`ironclaw worker: job ${jobId} \\(resumed\\)`));
      expect(outputs.slice(1).join('\n')).toMatch(/ironclaw-\S+: recovered from the log/);
      // the orchestrator saw one completion report, and no output holds a secret
      const delivered = Number(new RegExp(`orchestrator: (\\d+) prompts delivered, 1 completion report\\(s\\) for job ${jobId}`).exec(output)?.[1]);
      expect(delivered, output).toBe(2);
      for (const out of outputs) for (const secret of secrets) expect(out.includes(secret)).toBe(false);

      await readLog(db.path, async (store) => {
        const streams = store.listStreams();
        expect(streams.map((st) => [st.streamId, st.status])).toEqual([[`ironclaw-${jobId}`, 'done']]);
        const id = streams[0].streamId;
        const events = store.readStream(id);
        expect(
          events.map((r) => r.version),
          'no version gap',
        ).toEqual(events.map((_, i) => i + 1));
        expect(events.filter((r) => r.type === 'worker.completed')).toHaveLength(1);
        const verify = await verifyReplay(store, workerMachine, id);
        expect(verify, JSON.stringify(verify.differences?.slice(0, 2))).toMatchObject({ ok: true });
        const last = (await replaySteps(store, workerMachine, id)).at(-1)!.snapshot;
        expect(last.value).toBe('done');
        // the script's remaining steps were finished, not skipped: every prompt the orchestrator delivered
        // was taken once, none twice; only a kill inside a prompt poll may have lost the one it delivered
        const ctx = last.context as { outcome?: { success: boolean }; prompts: number; iteration: number; toolCalls: number };
        expect(ctx.outcome).toMatchObject({ success: true });
        expect(ctx.prompts).toBeLessThanOrEqual(delivered);
        expect(ctx.prompts).toBeGreaterThanOrEqual(delivered - inPromptPoll);
        if (ctx.prompts === delivered) expect(ctx).toMatchObject({ iteration: 4, toolCalls: 2 });
      });
      expectNoSecretInLog();

      // the orchestrator was stopped at the end and forgotten, and so was the run
      expect(servers.size, 'one orchestrator process for every run').toBe(1);
      for (const pid of servers) expect(alive(pid), `orchestrator pid ${pid} still running`).toBe(false);
      expect(existsSync(recordFile)).toBe(false);
      expect(existsSync(`${db.path}.ironclaw.run.json`)).toBe(false);
    } finally {
      db.cleanup();
    }
  }, 300_000);
});

/**
 * The main job (`npm start`): an orchestrator that drives a batch of jobs on a real A2A agent,
 * every event journaled to a SQLite log. Kill it at any moment (even kill -9) and start it again on
 * the same file: it recovers every job from the log and finishes them, with nothing lost or doubled.
 *
 * With `--db postgres://…` (or ACTORLOG_DB) several copies share one PostgreSQL log: each starts its own
 * batch, and each keeps taking over the streams of a copy whose lease expired (a killed replica's jobs
 * are finished by the others); a copy exits once no batch in the log is unfinished.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { StateValue } from 'xstate';
import { createActorSystem, type JournaledActor } from '../src/index.ts';
import { formatStateValue } from '../cli/replay.ts';
import { openSqliteStore } from '../stores/sqlite/index.ts';
import { openPostgresStore, redactUrl } from '../stores/postgres/index.ts';
import { isPostgresUrl } from '../stores/postgres/url.ts';
import { a2aJobMachine } from '../machines/a2a/index.ts';
import type { JobMachine } from '../machines/job/machine.ts';
import { batchJobIds, batchMachine } from './batch-machine.ts';
import { ensureAgent, type AgentProcess } from './agent-process.ts';
import { createProgress } from './progress.ts';

const PROMPTS = ['summarise the release notes', 'translate the greeting', 'ask me before you deploy', 'draft a reply', 'this one should fail'];

const int = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number`);
  return n;
};

const program = new Command('actorlog-main')
  .description('Drive a batch of A2A jobs through journaled actors; recover whatever the log holds first.')
  .option('--db <path>', 'the SQLite log file, or a postgres:// URL shared by several replicas (env ACTORLOG_DB)', process.env.ACTORLOG_DB ?? './actorlog.db')
  .option('--lease-ms <ms>', 'PostgreSQL: how long a replica owns its streams without renewing (failover time)', int('--lease-ms'), 10_000)
  .option('--jobs <n>', 'jobs in a new batch', int('--jobs'), 20)
  .option('--agent-url <url>', 'use this A2A agent (JSON-RPC endpoint) instead of starting the example agent')
  .option('--step-ms <ms>', 'step duration of a started example agent', int('--step-ms'), 500)
  .option('--timeout-ms <ms>', 'overall timeout of each job', int('--timeout-ms'), 120_000)
  .option('--poll-ms <ms>', 'poll interval when a job falls back to polling', int('--poll-ms'), 1_000)
  .option('--no-new-batch', 'only recover: start no new batch when none is unfinished')
  .parse();
const opts = program.opts<{
  db: string;
  leaseMs: number;
  jobs: number;
  agentUrl?: string;
  stepMs: number;
  timeoutMs: number;
  pollMs: number;
  newBatch: boolean;
}>();

const started = Date.now();
const shared = isPostgresUrl(opts.db);
const logName = shared ? redactUrl(opts.db) : opts.db;
const store = shared ? await openPostgresStore(opts.db, { leaseMs: opts.leaseMs }) : openSqliteStore(opts.db);
// The example agent's record lives beside the log; for a URL, in a local file named after it (every replica on one log shares one agent).
const agent: AgentProcess | undefined = opts.agentUrl ? undefined : await ensureAgent({ db: opts.db, stepMs: opts.stepMs });
const url = opts.agentUrl ?? agent!.url;
console.log(`actorlog main job: log ${logName}, agent ${url}${agent?.reused ? ' (left by an earlier run)' : ''}`);

const system = createActorSystem({
  store,
  machines: { job: a2aJobMachine({ url, dedupesMessageId: true }), batch: batchMachine },
  claimIntervalMs: Math.max(100, Math.floor(opts.leaseMs / 4)),
});
const report = await system.recover();
const recoveredJobs = report.recovered.filter((a) => a.machineName === 'job').length;
console.log(
  `recovered ${report.recovered.length} actors from the log (${recoveredJobs} jobs)` +
    (report.finished.length ? `, ${report.finished.length} found finished` : '') +
    (report.failed.length
      ? `, ${report.failed.length} could not be resumed: ${report.failed.map((f) => `${f.streamId} (${f.error.code ?? f.error.message})`).join(', ')}`
      : ''),
);

const isBatch = (a: JournaledActor): a is JournaledActor<typeof batchMachine> => a.machineName === 'batch';
let batches = report.recovered.filter(isBatch);
if (batches.length === 0 && opts.newBatch && opts.jobs > 0) {
  const stamp = new Date(started).toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  // replicas on one log each start their own batch: the pid keeps their ids apart
  const batchId = shared ? `batch-${stamp}-${process.pid}` : `batch-${stamp}`;
  batches = [system.spawn('batch', { id: batchId, input: { batchId, size: opts.jobs, prompts: PROMPTS } })];
  console.log(`new batch ${batchId}: ${opts.jobs} jobs`);
}

const jobs: Array<JournaledActor<JobMachine>> = [];
const followed = new Set<string>();

/** Spawns the jobs of the batches running here that are not in the log yet, and follows every job running here. */
async function adopt(): Promise<void> {
  for (const batch of system.list().filter(isBatch)) {
    if (batch.getSnapshot().status !== 'active') continue;
    const { prompts, finished } = batch.getSnapshot().context;
    const ids = batchJobIds(batch.getSnapshot().context);
    for (let i = 0; i < ids.length; i++) {
      const jobId = ids[i]!;
      if (system.get(jobId) || jobId in finished) continue;
      const stream = await store.getStream(jobId);
      if (system.get(jobId)) continue;
      if (!stream) {
        const input = { jobId, request: { text: prompts[i % prompts.length]! }, timeoutMs: opts.timeoutMs, pollIntervalMs: opts.pollMs };
        system.spawn('job', { id: jobId, input });
      } else if (stream.status !== 'active') {
        // finished before the crash, but the batch had not counted it yet
        const last = (await store.loadSnapshot(jobId))?.snapshot as { state?: { value?: StateValue } } | undefined;
        batch.send({ type: 'job.finished', jobId, state: last?.state?.value === undefined ? stream.status : formatStateValue(last.state.value) });
      }
      // an active stream not running here: its owner (or the replica that claims it) follows it
    }
  }
  for (const actor of system.list()) {
    if (actor.machineName !== 'job' || followed.has(actor.id)) continue;
    followed.add(actor.id);
    jobs.push(follow(actor as JournaledActor<JobMachine>));
  }
}

/** Answers input-required jobs and reports finished ones to their batch, wherever the batch runs. */
function follow(job: JournaledActor<JobMachine>): JournaledActor<JobMachine> {
  const answered = new Set<number>();
  const batchId = job.id.slice(0, job.id.lastIndexOf('.job-'));
  let reported = false;
  const check = () => {
    const snap = job.getSnapshot();
    if (snap.status !== 'active') {
      if (reported) return;
      reported = true;
      // one report per job: the causation id makes a second one (after a failover) a no-op
      void system
        .send(batchId, { type: 'job.finished', jobId: job.id, state: formatStateValue(snap.value) }, { causationId: `${job.id}:finished` })
        .catch((err: unknown) => console.error(`actorlog main job: reporting ${job.id} to ${batchId}: ${(err as Error).message}`));
    } else if (snap.matches({ active: 'input-required' }) && !answered.has(snap.context.replies)) {
      answered.add(snap.context.replies);
      queueMicrotask(() => job.getSnapshot().status === 'active' && job.send({ type: 'job.input', text: 'yes, go ahead' }));
    }
  };
  job.subscribe(check);
  check();
  return job;
}

await adopt();
const progress = createProgress(() => jobs.map((j) => j.getSnapshot()), started);
const stopProgress = progress.start(1_000);
let adopting = true;
// Streams this replica takes over later (a killed replica's) are followed too.
const adoption = (async () => {
  while (adopting) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    if (adopting) await adopt().catch((err: unknown) => console.error(`actorlog main job: ${(err as Error).message}`));
  }
})();
/** Set by SIGINT or SIGTERM: the main flow below stops where it is, and the process exits once the system has closed. */
let interrupted: Promise<void> | undefined;
const shutdown = (signal: string) => {
  if (interrupted) return;
  stopProgress();
  adopting = false;
  // The process exits once the system has closed (its pending appends committed) and the store with it;
  // a close that fails is printed, and the process exits all the same. This promise never settles.
  interrupted = (async () => {
    try {
      await system.close();
      await store.close();
      console.log(
        `\n${signal}: stopped; the log holds every event. Start again to finish the jobs.` +
          (agent ? ` The agent (pid ${agent.pid}) is left running for that.` : ''),
      );
    } catch (err) {
      console.error(`actorlog main job: ${(err as Error).message}`);
    } finally {
      process.exit(130);
    }
  })();
};
process.once('SIGINT', () => shutdown('SIGINT'));
process.once('SIGTERM', () => shutdown('SIGTERM'));

// On a shared log a batch may stop here with LEASE_LOST (this replica was paused past its lease):
// it goes on at the replica that took it, and the loop below waits for it there.
// (an actor the shutdown stopped ends its wait too: the shutdown exits the process, the flow goes no further)
await Promise.all(
  batches.map((b) =>
    b
      .waitFor((s) => s.status !== 'active')
      .catch((err: unknown) => {
        if (!interrupted && (!shared || b.error?.code !== 'LEASE_LOST')) throw err;
      }),
  ),
);
if (shared) {
  // A replica stays while any batch in the shared log is unfinished: it may have to take one over.
  for (;;) {
    if (interrupted) await interrupted;
    const open = (await store.listStreams({ status: ['active'] })).filter((s) => s.machine.name === 'batch');
    if (open.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
if (interrupted) await interrupted;
adopting = false;
await adoption;
stopProgress();
progress.print();

const byState: Record<string, number> = {};
for (const batch of batches) for (const state of Object.values(batch.getSnapshot().context.finished)) byState[state] = (byState[state] ?? 0) + 1;
const first = batches[0] ? batchJobIds(batches[0].getSnapshot().context)[0] : undefined;
console.log(
  `\nsummary: ${
    Object.entries(byState)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ') || 'no jobs'
  }`,
);
console.log(`events logged: ${await store.headPosition()} in ${logName}; wall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (first) {
  const db = shared ? '"$ACTORLOG_DB"' : opts.db;
  console.log(`replay a job:  npm run -s actorlog -- replay ${db} ${first}`);
  console.log(`verify it:     npm run -s actorlog -- replay ${db} ${first} --verify`);
}
await system.close();
await store.close();
// On a shared log another replica may still use the agent; the last one's run leaves it to the next.
if (!shared) agent?.stop();

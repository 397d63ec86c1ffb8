/**
 * The main job (`npm start`): an orchestrator that drives a batch of jobs on a real A2A agent,
 * every event journaled to a SQLite log. Kill it at any moment (even kill -9) and start it again on
 * the same file: it recovers every job from the log and finishes them, with nothing lost or doubled.
 */
import { Command, InvalidArgumentError } from 'commander';
import { createActorSystem, type JournaledActor } from '../src/index.ts';
import { openSqliteStore } from '../stores/sqlite/index.ts';
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
  .option('--db <path>', 'the SQLite log (env ACTORLOG_DB)', process.env.ACTORLOG_DB ?? './actorlog.db')
  .option('--jobs <n>', 'jobs in a new batch', int('--jobs'), 20)
  .option('--agent-url <url>', 'use this A2A agent (JSON-RPC endpoint) instead of starting the example agent')
  .option('--step-ms <ms>', 'step duration of a started example agent', int('--step-ms'), 500)
  .option('--timeout-ms <ms>', 'overall timeout of each job', int('--timeout-ms'), 120_000)
  .option('--poll-ms <ms>', 'poll interval when a job falls back to polling', int('--poll-ms'), 1_000)
  .option('--no-new-batch', 'only recover: start no new batch when none is unfinished')
  .parse();
const opts = program.opts<{ db: string; jobs: number; agentUrl?: string; stepMs: number; timeoutMs: number; pollMs: number; newBatch: boolean }>();

const started = Date.now();
const store = openSqliteStore(opts.db);
const agent: AgentProcess | undefined = opts.agentUrl ? undefined : await ensureAgent({ db: opts.db, stepMs: opts.stepMs });
const url = opts.agentUrl ?? agent!.url;
console.log(`actorlog main job: log ${opts.db}, agent ${url}${agent?.reused ? ' (left by an earlier run)' : ''}`);

const system = createActorSystem({ store, machines: { job: a2aJobMachine({ url, dedupesMessageId: true }), batch: batchMachine } });
const report = await system.recover();
const recoveredJobs = report.recovered.filter((a) => a.machineName === 'job').length;
console.log(`recovered ${report.recovered.length} actors from the log (${recoveredJobs} jobs)` +
  (report.finished.length ? `, ${report.finished.length} found finished` : '') +
  (report.failed.length ? `, ${report.failed.length} could not be resumed: ${report.failed.map((f) => `${f.streamId} (${f.error.code ?? f.error.message})`).join(', ')}` : ''));

let batches = report.recovered.filter((a) => a.machineName === 'batch') as Array<JournaledActor<typeof batchMachine>>;
if (batches.length === 0 && opts.newBatch && opts.jobs > 0) {
  const batchId = `batch-${new Date(started).toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`;
  batches = [system.spawn('batch', { id: batchId, input: { batchId, size: opts.jobs, prompts: PROMPTS } })];
  console.log(`new batch ${batchId}: ${opts.jobs} jobs`);
}

const jobs: Array<JournaledActor<JobMachine>> = [];
for (const batch of batches) {
  const { prompts, finished } = batch.getSnapshot().context;
  batchJobIds(batch.getSnapshot().context).forEach((jobId, i) => {
    const running = system.get<JobMachine>(jobId);
    const stream = store.getStream(jobId);
    if (running) jobs.push(follow(running, batch));
    else if (!stream) {
      const input = { jobId, request: { text: prompts[i % prompts.length] }, timeoutMs: opts.timeoutMs, pollIntervalMs: opts.pollMs };
      jobs.push(follow(system.spawn('job', { id: jobId, input }), batch));
    } else if (!(jobId in finished)) {
      // finished before the crash, but the batch had not counted it yet
      const last = store.loadSnapshot(jobId)?.snapshot as { state?: { value?: unknown } } | undefined;
      batch.send({ type: 'job.finished', jobId, state: stream.status === 'active' ? 'unrecoverable' : String(last?.state?.value ?? stream.status) });
    }
  });
}

/** Answers input-required jobs and reports finished ones to their batch. */
function follow(job: JournaledActor<JobMachine>, batch: JournaledActor<typeof batchMachine>): JournaledActor<JobMachine> {
  const answered = new Set<number>();
  const check = () => {
    const snap = job.getSnapshot();
    if (snap.status !== 'active') {
      if (batch.getSnapshot().status === 'active') batch.send({ type: 'job.finished', jobId: job.id, state: String(snap.value) });
    } else if (snap.matches({ active: 'input-required' }) && !answered.has(snap.context.replies)) {
      answered.add(snap.context.replies);
      queueMicrotask(() => job.getSnapshot().status === 'active' && job.send({ type: 'job.input', text: 'yes, go ahead' }));
    }
  };
  job.subscribe(check);
  check();
  return job;
}

const progress = createProgress(() => jobs.map((j) => j.getSnapshot()), started);
const stopProgress = progress.start(1_000);
const shutdown = (signal: string) => {
  stopProgress();
  system.close();
  store.close();
  console.log(`\n${signal}: stopped; the log holds every event. Start again to finish the jobs.` +
    (agent ? ` The agent (pid ${agent.pid}) is left running for that.` : ''));
  process.exit(130);
};
process.once('SIGINT', () => shutdown('SIGINT'));
process.once('SIGTERM', () => shutdown('SIGTERM'));

await Promise.all(batches.map((b) => b.waitFor((s) => s.status !== 'active')));
stopProgress();
progress.print();

const byState: Record<string, number> = {};
for (const batch of batches) for (const state of Object.values(batch.getSnapshot().context.finished)) byState[state] = (byState[state] ?? 0) + 1;
const first = batches[0] ? batchJobIds(batches[0].getSnapshot().context)[0] : undefined;
console.log(`\nsummary: ${Object.entries(byState).map(([s, n]) => `${s} ${n}`).join(', ') || 'no jobs'}`);
console.log(`events logged: ${store.headPosition()} in ${opts.db}; wall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (first) {
  console.log(`replay a job:  npm run -s actorlog -- replay ${opts.db} ${first}`);
  console.log(`verify it:     npm run -s actorlog -- replay ${opts.db} ${first} --verify`);
}
system.close();
store.close();
agent?.stop();

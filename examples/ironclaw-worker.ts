/**
 * ironclaw worker (`npm run example:ironclaw`): one job as the worker in its container sees it
 * (seed 002). It fetches the job and its credentials, runs LLM completions and tool calls through
 * the orchestrator, reports status and events, polls for follow-up prompts and reports completion;
 * every event is journaled to a SQLite log (ACTORLOG_DB, default ./ironclaw-worker.db).
 * Credentials and the token never reach the log or this output.
 *
 * Without `--orchestrator-url` it starts the test orchestrator (test/servers/ironclaw-orchestrator.ts)
 * as a process of its own (examples/server-process.ts) with one job, recorded beside the log, and
 * stops it when the example finishes. Kill the example at any moment (kill -9 too) and start it
 * again on the same file: it finds the orchestrator the killed run left (with the job, its token,
 * and the prompts it delivered), recovers the worker from the log and goes on from where it stood
 * (test/e2e/examples-crash.test.ts). The job id is the run's, recorded in `<db>.ironclaw.run.json`
 * until the run finishes. With an orchestrator of your own (`--orchestrator-url`), pass `--job-id`
 * and the token in IRONCLAW_WORKER_TOKEN; the same holds (test/e2e/ironclaw-crash.test.ts).
 * One limit of the protocol: GET prompt hands a prompt out once, so a kill while a prompt poll is
 * in flight (after the orchestrator answered, before the answer was logged) loses that prompt.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { createActorSystem, type JournaledActor } from '../src/index.ts';
import { formatStateValue } from '../cli/replay.ts';
import { openLogStore, shownLog } from './openLogStore.ts';
import { ironclawWorkerMachine, workerTokenFromEnv, type WorkerMachine, type WorkerTool } from '../machines/ironclaw/index.ts';
import type { IronclawOrchestratorOptions } from '../test/servers/ironclaw-orchestrator.ts';
import { ensureServer, exampleRun, type ExampleRun, type ServerProcess } from './server-process.ts';

const int = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number`);
  return n;
};
const opts = new Command('ironclaw-worker')
  .description('Run one ironclaw job as its container worker; recover it from the log first.')
  .option('--db <path>', 'the SQLite log (env ACTORLOG_DB)', process.env.ACTORLOG_DB ?? './ironclaw-worker.db')
  .option('--orchestrator-url <url>', 'use this orchestrator (token: env IRONCLAW_WORKER_TOKEN)')
  .option('--job-id <id>', 'the job to run (with --orchestrator-url)')
  .option('--prompt-poll-ms <ms>', 'pause between prompt polls answered 204', int('--prompt-poll-ms'), 200)
  .option('--prompt-wait-ms <ms>', 'how long to wait for a follow-up prompt', int('--prompt-wait-ms'), 10_000)
  .parse()
  .opts<{ db: string; orchestratorUrl?: string; jobId?: string; promptPollMs: number; promptWaitMs: number }>();

let orchestrator: ServerProcess<IronclawOrchestratorOptions> | undefined;
let run: ExampleRun | undefined;
let jobId: string;
let token: string;
if (opts.orchestratorUrl) {
  if (!opts.jobId) throw new InvalidArgumentError('--job-id is required with --orchestrator-url');
  jobId = opts.jobId;
  token = workerTokenFromEnv();
} else {
  // One run on this log, stable across kills: its id is the job's. The orchestrator runs detached,
  // outlives a killed run, and keeps the job, its token (chosen here on first start, read back from
  // the server's record by a restarted run) and the prompts it delivered.
  run = exampleRun(opts.db, 'ironclaw', () => randomUUID());
  orchestrator = await ensureServer<IronclawOrchestratorOptions>({
    db: opts.db,
    name: 'ironclaw',
    module: fileURLToPath(new URL('../test/servers/ironclaw-orchestrator.ts', import.meta.url)),
    start: 'startIronclawOrchestratorServer',
    options: {
      jobs: [
        {
          jobId: run.id,
          token: randomBytes(16).toString('hex'),
          title: 'Triage the flaky login test',
          description: 'Find the open issues about the login test and say what they have in common.',
          projectDir: '/workspace/webapp',
          credentials: [{ env_var: 'GITHUB_TOKEN', value: `ghp_${randomBytes(12).toString('hex')}` }],
          prompts: [
            { content: 'Now summarise the findings in one line.', afterPolls: 2 },
            { content: '', done: true, afterPolls: 1 },
          ],
        },
      ],
    },
  });
  ({ jobId, token } = orchestrator.options.jobs[0]);
}
const orchestratorUrl = opts.orchestratorUrl ?? orchestrator!.url;

/** The worker's tools. The first one is what the test orchestrator's fake LLM calls. */
const tools: Record<string, WorkerTool> = {
  github_search: {
    description: 'Search GitHub issues of the project',
    parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
    run: async (args, { env }) => ({
      authenticated: Boolean(env.GITHUB_TOKEN),
      issues: [
        { number: 412, title: 'login test times out on CI' },
        { number: 437, title: 'flaky: login redirect' },
      ],
      query: (args as { query?: string }).query?.slice(0, 80),
    }),
  },
};

const store = await openLogStore(opts.db);
const system = createActorSystem({ store, machines: { ironclaw: ironclawWorkerMachine({ orchestratorUrl, jobId, token, tools }) } });
const report = await system.recover();
const streamId = `ironclaw-${jobId}`;
console.log(
  `ironclaw worker: job ${jobId}${run?.resumed ? ' (resumed)' : ''}, orchestrator ${orchestratorUrl}` +
    (orchestrator ? ` (test orchestrator, pid ${orchestrator.pid}${orchestrator.reused ? ', left by an earlier run' : ''})` : '') +
    `, log ${opts.db}`,
);
console.log(`recovered ${report.recovered.length} workers from the log`);

// The script goes on from the worker's own state (its log): a worker running in the log is
// followed, one that ended is reported from the log, only a job the log does not hold is started.
let worker = system.get<WorkerMachine>(streamId);
const finished = worker ? undefined : await store.getStream(streamId);
if (finished) {
  console.log(`  ${streamId}: found finished in the log (${finished.status})`);
} else {
  if (worker) console.log(`  ${streamId}: recovered from the log`);
  worker ??= system.spawn('ironclaw', { id: streamId, input: { jobId, promptPollMs: opts.promptPollMs, promptWaitMs: opts.promptWaitMs } });
  await follow(worker);
}
if (orchestrator) {
  const completions = await orchestrator.control.call<unknown[]>('completions', [jobId]);
  const prompts = await orchestrator.control.call<unknown[]>('prompts', [jobId]);
  console.log(`orchestrator: ${prompts.length} prompts delivered, ${completions.length} completion report(s) for job ${jobId}`);
}
console.log(`events logged: ${await store.headPosition()} in ${shownLog(opts.db)}`);
console.log(`replay it:  npm run -s actorlog -- replay ${shownLog(opts.db)} ${streamId} --verify`);
const failed = worker?.getSnapshot().value === 'failed';
await system.close();
await store.close();
// the example is over: its orchestrator and its run record go (a throw above leaves both for a restart)
await orchestrator?.stop();
run?.finish();
process.exit(failed ? 1 : 0);

/** Prints the worker's main state each time it changes, then a summary. */
async function follow(w: JournaledActor<WorkerMachine>): Promise<void> {
  let last = '';
  const print = () => {
    const s = w.getSnapshot();
    const main =
      typeof s.value === 'string'
        ? s.value
        : JSON.stringify((s.value as { running: { main: unknown } }).running.main)
            .replace(/[{}"]/g, '')
            .replace(/:/g, '.');
    const line = `${main} (iteration ${s.context.iteration}, tool calls ${s.context.toolCalls}, prompts ${s.context.prompts})`;
    if (line !== last) console.log(`  ${(last = line)}`);
  };
  w.subscribe(print);
  print();
  const final = await w.waitFor((s) => s.status !== 'active');
  const c = final.context;
  console.log(
    `\nsummary: ${formatStateValue(final.value)}; ${c.iteration} LLM calls, ${c.toolCalls} tool calls, ${c.prompts} prompts; ` +
      `credentials delivered: ${c.credentials?.count ?? 0} (${c.credentials?.names.join(', ') || 'none'}); ` +
      `reports sent ${c.reportsSent}, failed ${c.reportsFailed}; tokens in ${c.usage.inputTokens}, out ${c.usage.outputTokens}`,
  );
  if (c.outcome) console.log(`outcome: ${c.outcome.success ? 'success' : 'failure'}: ${c.outcome.message.slice(0, 200)}`);
}

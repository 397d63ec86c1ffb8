/**
 * foreman jobs (`npm run example:foreman`): chat jobs submitted to a foreman daemon (seed 000) and
 * awaited with `submitAndWait`, followed by HMAC-signed state webhooks to a local receiver, or by
 * polling. Every event is journaled to a SQLite log (ACTORLOG_DB, default ./foreman-jobs.db).
 *
 * Without `--foreman-url` it starts the foreman test daemon (test/servers/foreman.ts) as a process
 * of its own (examples/server-process.ts), recorded beside the log, and stops it when the example
 * finishes. Kill the example at any moment (kill -9 too) and start it again on the same file: it
 * finds the daemon the killed run left (with its token, webhook secret and jobs), recovers the jobs
 * from the log, follows them to their end without submitting any again, and submits only those the
 * log does not hold. With a daemon of your own (`--foreman-url`) the same holds as long as it keeps
 * its jobs (test/e2e/foreman-crash.test.ts).
 *
 * The run's job ids are `<run>-1..n`: `foreman-1..n` on a new log, a new prefix once a run on the
 * file has finished (recorded in `<db>.foreman.run.json` until then). A kill inside the submit
 * window (after the daemon created a job, before its job_id was logged) makes the restarted run
 * submit that job again: the daemon, like the seed's, then runs it twice, and the log follows one of
 * the two to its end (docs/jobs-from-seeds.md, "The submit window").
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { createActorSystem, type JournaledActor } from '../src/index.ts';
import { createWebhookReceiver } from '../src/sources/webhook/index.ts';
import { openLogStore, shownLog } from './openLogStore.ts';
import type { JobMachine } from '../machines/job/machine.ts';
import { createForemanClient, foremanJobMachine, submitAndWait, waitForForemanJob, type ForemanResult } from '../machines/foreman/index.ts';
import type { ForemanServerOptions, ForemanServerStats } from '../test/servers/foreman.ts';
import { ensureServer, exampleRun, type ServerProcess } from './server-process.ts';

const PROMPTS = ['summarise the quarterly report', 'translate "good morning" to French', 'flaky: a retry on the daemon', 'please fail: a job the daemon fails'];

const int = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number`);
  return n;
};
const opts = new Command('foreman-jobs')
  .description('Submit chat jobs to a foreman daemon and wait for them; recover whatever the log holds first.')
  .option('--db <path>', 'the SQLite log (env ACTORLOG_DB)', process.env.ACTORLOG_DB ?? './foreman-jobs.db')
  .option('--foreman-url <url>', 'use this daemon (token: env FOREMAN_TOKEN, webhook secret: env FOREMAN_WEBHOOK_SECRET)')
  .option('--jobs <n>', 'jobs to run (ids <run>-1..n: foreman-1..n on a new log)', int('--jobs'), 4)
  .option('--webhook-port <port>', 'port of the webhook receiver (0: a free one)', int('--webhook-port'), 0)
  .option('--polling', 'never use webhooks: poll every job (behind NAT)', false)
  .option('--poll-ms <ms>', 'poll interval of the client (seed 000 default: 2000)', int('--poll-ms'), 250)
  .option('--timeout-ms <ms>', 'overall timeout of each job (default: none, as in seed 000)', int('--timeout-ms'))
  .option('--step-ms <ms>', 'step duration of a started test daemon', int('--step-ms'), 150)
  .parse()
  .opts<{ db: string; foremanUrl?: string; jobs: number; webhookPort: number; polling: boolean; pollMs: number; timeoutMs?: number; stepMs: number }>();

const started = Date.now();
const store = await openLogStore(opts.db);
// One run of the example on this log, stable across kills. Its jobs are `<run>-1..n`: foreman-1..n
// unless a finished run on this file used those ids already.
const first = await store.getStream('foreman-1');
const run = exampleRun(opts.db, 'foreman', () =>
  !first || first.status === 'active' ? 'foreman' : `foreman-${new Date(started).toISOString().replace(/[-:.]/g, '').slice(0, 15)}`,
);

// Without --foreman-url: the test daemon as a process of its own, which outlives a killed run and
// keeps its jobs; a restarted run finds it (and the token and secret it was started with) again.
let daemon: ServerProcess<ForemanServerOptions> | undefined;
if (!opts.foremanUrl) {
  daemon = await ensureServer<ForemanServerOptions>({
    db: opts.db,
    name: 'foreman',
    module: fileURLToPath(new URL('../test/servers/foreman.ts', import.meta.url)),
    start: 'startForemanServer',
    options: {
      token: process.env.FOREMAN_TOKEN ?? randomBytes(16).toString('hex'),
      webhookSecret: process.env.FOREMAN_WEBHOOK_SECRET ?? randomBytes(16).toString('hex'),
      stepMs: opts.stepMs,
      workers: 2,
    },
  });
}
const url = opts.foremanUrl ?? daemon!.url;
const token = daemon ? daemon.options.token : process.env.FOREMAN_TOKEN;
const secret = daemon ? daemon.options.webhookSecret : process.env.FOREMAN_WEBHOOK_SECRET;

// The receiver reads `x-foreman-signature: sha256=<hex>` by default, the header foreman signs in.
const receiver = createWebhookReceiver({ port: opts.webhookPort, secret });
const hooks = opts.polling
  ? undefined
  : await receiver.listen().catch((err: Error) => {
      console.log(`webhook receiver cannot bind (${err.message}): jobs are followed by polling`);
      return undefined;
    });
console.log(
  `foreman jobs: run ${run.id}${run.resumed ? ' (resumed)' : ''}, log ${shownLog(opts.db)}, daemon ${url}` +
    (daemon ? ` (test daemon, pid ${daemon.pid}${daemon.reused ? ', left by an earlier run' : ''})` : '') +
    ', ' +
    (hooks ? `webhooks to ${hooks}${secret ? ' (HMAC-SHA256 verified)' : ''}` : 'polling'),
);

const client = createForemanClient({ url, token });
const models = await client.tags();
console.log(`models: ${models.map((m) => m.name).join(', ')}`);
const embedded = await client.embed({ model: models.at(-1)?.name ?? 'nomic-embed-text', input: ['hello'] });
console.log(`embed (bypasses the queue): ${embedded.embeddings.length} vector(s) of ${embedded.embeddings[0]?.length ?? 0} numbers`);

const system = createActorSystem({ store, machines: { job: foremanJobMachine({ url, token, receiver, polling: opts.polling, pollIntervalMs: opts.pollMs }) } });
const report = await system.recover();
console.log(`recovered ${report.recovered.length} jobs from the log` + (report.finished.length ? `, ${report.finished.length} found finished` : ''));

/** Prints a job's state each time it changes. */
function watch(actor: JournaledActor<JobMachine>): void {
  let last = '';
  const print = () => {
    const s = actor.getSnapshot();
    const value = typeof s.value === 'string' ? s.value : JSON.stringify(s.value).replace(/[{}"]/g, '').replace(/:/g, '.');
    const line = `${value}${s.context.remoteState ? ` (remote ${s.context.remoteState})` : ''}`;
    if (line !== last) console.log(`  ${actor.id}: ${(last = line)}`);
  };
  actor.subscribe(print);
  print();
}

// The script goes on from each job's own state (its log), not from what this process did: a job
// running in the log is followed, one that ended is reported from the log, only one the log does
// not hold is submitted.
const runs: Array<Promise<[string, ForemanResult | Error]>> = [];
for (let i = 1; i <= opts.jobs; i++) {
  const id = `${run.id}-${i}`;
  const running = system.get<JobMachine>(id);
  const settle = (p: Promise<ForemanResult>) =>
    runs.push(
      p.then(
        (r) => [id, r] as [string, ForemanResult],
        (e: Error) => [id, e],
      ),
    );
  if (running) {
    console.log(`  ${id}: recovered from the log`);
    watch(running);
    settle(waitForForemanJob(running));
  } else {
    if (await store.getStream(id)) console.log(`  ${id}: found finished in the log`);
    const request = { model: models[0]?.name ?? 'llama3', messages: [{ role: 'user', content: PROMPTS[(i - 1) % PROMPTS.length] }] };
    const pending = submitAndWait(system, { id, request, timeoutMs: opts.timeoutMs, follow: i === 2 ? 'poll' : undefined });
    const actor = system.get<JobMachine>(id);
    if (actor) watch(actor);
    settle(pending);
  }
}

const results = await Promise.all(runs);
console.log('\nsummary:');
let unexpected = 0;
for (const [id, r] of results) {
  if (r instanceof Error) {
    unexpected++;
    console.log(`  ${id}: error ${(r as { code?: string }).code ?? ''} ${r.message}`);
  } else {
    console.log(`  ${id}: ${r.state}, attempt ${r.attempt}, ${r.artifacts.length} artifact(s)${r.error ? `, error "${r.error}"` : ''}`);
  }
}
if (daemon) {
  const stats = await daemon.control.call<ForemanServerStats>('stats');
  console.log(
    `daemon: ${stats.jobsCreated} jobs created (more than ${opts.jobs} only after a kill inside the submit window), ` +
      `${stats.webhooks.delivered} webhooks delivered, ${stats.gets} polls`,
  );
}
console.log(`events logged: ${await store.headPosition()} in ${shownLog(opts.db)}; wall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`replay a job:  npm run -s actorlog -- replay ${shownLog(opts.db)} ${run.id}-1`);
console.log(`verify it:     npm run -s actorlog -- replay ${shownLog(opts.db)} ${run.id}-1 --verify`);
await system.close();
await receiver.close();
await store.close();
// the example is over: its daemon and its run record go (a throw above leaves both for a restart)
await daemon?.stop();
run.finish();
process.exit(unexpected ? 1 : 0);

/**
 * foreman jobs (`npm run example:foreman`): chat jobs submitted to a foreman daemon (seed 000) and
 * awaited with `submitAndWait`, followed by HMAC-signed state webhooks to a local receiver, or by
 * polling. Every event is journaled to a SQLite log (ACTORLOG_DB, default ./foreman-jobs.db).
 * With a daemon of its own (`--foreman-url`), kill it (kill -9 too) and start it again on the same
 * file: it recovers the jobs from the log and follows them to their end without submitting any again
 * (test/e2e/foreman-crash.test.ts does exactly that). A kill inside the submit window (after the
 * daemon created a job, before its job_id was logged) makes the restarted run submit that job again:
 * the daemon then runs it twice (docs/jobs-from-seeds.md, "The submit window").
 *
 * Without `--foreman-url` it starts the foreman test daemon (test/servers/foreman.ts) in-process, so
 * a killed run takes its daemon and the daemon's jobs with it: the restarted run finds them gone.
 */
import { randomBytes } from 'node:crypto';
import { Command, InvalidArgumentError } from 'commander';
import { createActorSystem, type JournaledActor } from '../src/index.ts';
import { createWebhookReceiver } from '../src/sources/webhook/index.ts';
import { openSqliteStore } from '../stores/sqlite/index.ts';
import type { JobMachine } from '../machines/job/machine.ts';
import { createForemanClient, foremanJobMachine, submitAndWait, waitForForemanJob, type ForemanResult } from '../machines/foreman/index.ts';
import { startForemanServer, type ForemanServer } from '../test/servers/foreman.ts';

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
  .option('--jobs <n>', 'jobs to run (ids foreman-1..n)', int('--jobs'), 4)
  .option('--webhook-port <port>', 'port of the webhook receiver (0: a free one)', int('--webhook-port'), 0)
  .option('--polling', 'never use webhooks: poll every job (behind NAT)', false)
  .option('--poll-ms <ms>', 'poll interval of the client (seed 000 default: 2000)', int('--poll-ms'), 250)
  .option('--timeout-ms <ms>', 'overall timeout of each job (default: none, as in seed 000)', int('--timeout-ms'))
  .option('--step-ms <ms>', 'step duration of a started test daemon', int('--step-ms'), 150)
  .parse()
  .opts<{ db: string; foremanUrl?: string; jobs: number; webhookPort: number; polling: boolean; pollMs: number; timeoutMs?: number; stepMs: number }>();

const started = Date.now();
const token = process.env.FOREMAN_TOKEN ?? (opts.foremanUrl ? undefined : randomBytes(16).toString('hex'));
const secret = process.env.FOREMAN_WEBHOOK_SECRET ?? (opts.foremanUrl ? undefined : randomBytes(16).toString('hex'));
let daemon: ForemanServer | undefined;
if (!opts.foremanUrl) daemon = await startForemanServer({ token, webhookSecret: secret, stepMs: opts.stepMs, workers: 2 });
const url = opts.foremanUrl ?? daemon!.url;

const store = openSqliteStore(opts.db);
// The receiver reads `x-foreman-signature: sha256=<hex>` by default, the header foreman signs in.
const receiver = createWebhookReceiver({ port: opts.webhookPort, secret });
const hooks = opts.polling ? undefined : await receiver.listen().catch((err: Error) => {
  console.log(`webhook receiver cannot bind (${err.message}): jobs are followed by polling`);
  return undefined;
});
console.log(`foreman jobs: log ${opts.db}, daemon ${url}${daemon ? ' (test daemon, in-process)' : ''}, ` +
  (hooks ? `webhooks to ${hooks}${secret ? ' (HMAC-SHA256 verified)' : ''}` : 'polling'));

const client = createForemanClient({ url, token });
const models = await client.tags();
console.log(`models: ${models.map((m) => m.name).join(', ')}`);
const embedded = await client.embed({ model: models.at(-1)?.name ?? 'nomic-embed-text', input: ['hello'] });
console.log(`embed (bypasses the queue): ${embedded.embeddings.length} vector(s) of ${embedded.embeddings[0]?.length ?? 0} numbers`);

const system = createActorSystem({ store, machines: { job: foremanJobMachine({ url, token, receiver, polling: opts.polling, pollIntervalMs: opts.pollMs }) } });
const report = system.recover();
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

const runs: Array<Promise<[string, ForemanResult | Error]>> = [];
for (let i = 1; i <= opts.jobs; i++) {
  const id = `foreman-${i}`;
  const running = system.get<JobMachine>(id);
  const settle = (p: Promise<ForemanResult>) => runs.push(p.then((r) => [id, r] as [string, ForemanResult], (e: Error) => [id, e]));
  if (running) {
    watch(running);
    settle(waitForForemanJob(running));
  } else {
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
console.log(`events logged: ${store.headPosition()} in ${opts.db}; wall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`replay a job:  npm run -s actorlog -- replay ${opts.db} foreman-1`);
console.log(`verify it:     npm run -s actorlog -- replay ${opts.db} foreman-1 --verify`);
system.close();
await receiver.close();
store.close();
await daemon?.close();
process.exit(unexpected ? 1 : 0);

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { foremanJobMachine, submitAndWait } from '../machines/foreman/index.ts';
import { createActorSystem } from '../src/index.ts';
import { createWebhookReceiver } from '../src/sources/webhook/index.ts';
import { openSqliteStore } from '../stores/sqlite/index.ts';
import { startForemanServer } from '../test/servers/foreman.ts';

/** What {@link measureBigResult} reports. Sizes in MiB. */
export interface BigResultFigures {
  /** The inline artifact's size (its base64 in the status is 4/3 of it). */
  resultMiB: number;
  follow: 'poll' | 'webhook';
  /** Resident set size before the job, and the process's peak (`process.resourceUsage().maxRSS`) after it. */
  rssBeforeMiB: number;
  peakRssMiB: number;
  /** The log file's size after the job (the result is logged once in `job.update`, and in the snapshot). */
  logMiB: number;
}

const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/**
 * Runs one foreman job whose result carries an inline artifact of `resultMiB`,
 * followed by polling or by webhook, into a SQLite log, and reports the peak RSS of this process
 * (the daemon runs in it too: its copy of the status counts). Run each case in a fresh process:
 * `npx tsx bench/big-result.ts poll 50`, `npx tsx bench/big-result.ts webhook 50`.
 */
export async function measureBigResult(follow: 'poll' | 'webhook', resultMiB: number): Promise<BigResultFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'actorlog-big-'));
  const server = await startForemanServer({ stepMs: 5, resultBytes: resultMiB * 1024 * 1024 });
  const receiver = createWebhookReceiver();
  await receiver.listen();
  const store = openSqliteStore(join(dir, 'log.db'));
  const system = createActorSystem({ store, machines: { job: foremanJobMachine({ url: server.url, receiver, pollIntervalMs: 20 }) } });
  try {
    globalThis.gc?.();
    const rssBeforeMiB = mib(process.memoryUsage().rss);
    const result = await submitAndWait(system, {
      id: `big-${follow}`,
      request: { model: 'llama3:8b', messages: [{ role: 'user', content: 'big' }] },
      follow: follow === 'poll' ? 'poll' : 'push',
      timeoutMs: 120_000,
    });
    const big = result.artifacts.find((a) => a.name === 'big.bin');
    if (big?.size !== resultMiB * 1024 * 1024) throw new Error(`the result came back without its ${resultMiB} MiB artifact`);
    const peakRssMiB = mib(process.resourceUsage().maxRSS * 1024);
    const { size } = await import('node:fs').then((fs) => fs.statSync(join(dir, 'log.db')));
    return { resultMiB, follow, rssBeforeMiB, peakRssMiB, logMiB: mib(size) };
  } finally {
    await system.close();
    await receiver.close();
    await server.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const follow = process.argv[2] === 'webhook' ? 'webhook' : 'poll';
  console.log(JSON.stringify(await measureBigResult(follow, Number(process.argv[3] ?? 50))));
}

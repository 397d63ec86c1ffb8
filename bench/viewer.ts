/**
 * The viewer's figures on a large log, measured in Chromium (playwright-core,
 * /usr/bin/chromium): first paint, a deep first visit (and another request's latency meanwhile), the
 * catch-up after a burst of appends from another process, and the CPU an idle open page costs.
 *
 *     npx tsx bench/viewer.ts                          # 1,000 streams, one of 100,000 events (~1M events)
 *     npx tsx bench/viewer.ts --db /tmp/big.db --keep  # reuse (or keep) the generated log
 *     npx tsx bench/viewer.ts --root /tmp/old-checkout # the same measurements against another checkout's viewer
 *
 * Nothing is asserted; the figures are printed (`--json`: one JSON object).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { chromium, type Page } from 'playwright-core';
import { formatTable } from '../cli/output.ts';
import { writeCounterLog } from '../test/support/generatedLog.ts';
import { appendFromAnotherProcess, startView, type ViewProcess } from '../test/support/viewerProcess.ts';

/** What {@link measureViewer} reports, in ms (CPU as a share of one core over the idle window). */
export interface ViewerFigures {
  events: number;
  streams: number;
  /** From navigation to the stream list drawn. Every figure in ms is -1 when it did not happen within its time limit (120 s; 300 s for the deep visit). */
  firstPaintMs: number;
  /** From navigation to the service table drawn. */
  servicePaintMs: number;
  /** A cold server: from opening `#stream=big-1&v=<half>` to its snapshot shown. */
  deepVisitMs: number;
  /** `/api/info` latency while the deep visit ran: the worst and the median. */
  infoLatencyMaxMs: number;
  infoLatencyMedianMs: number;
  /** After `burstEvents` appended by another process over ~10 s: from its last commit to the page at the last version (-1: not within 120 s). */
  burstCatchUpMs: number;
  burstEvents: number;
  /** The page's longest task and its API requests during the burst. */
  burstLongestTaskMs: number;
  burstRequests: number;
  /** CPU over `idleSeconds` with the page open and nothing appended: the server process and the page's renderer. */
  idleServerCpuPct: number;
  idlePageCpuPct: number;
  idleSeconds: number;
}

const cpuTicks = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100/s)
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;

async function versionShown(page: Page, label: string, timeout: number): Promise<void> {
  await page.waitForFunction((l) => document.querySelector('[data-testid=version-label]')?.textContent === l, label, { timeout, polling: 50 });
}

/** Runs every measurement on the log at `db` (generated when missing) with the viewer of the checkout at `root`. */
export async function measureViewer(options: {
  db: string;
  root?: string;
  big: number;
  streams: number;
  perStream: number;
  log: (line: string) => void;
}): Promise<ViewerFigures> {
  const { db, root, big, log } = options;
  if (!existsSync(db)) {
    log(`writing ${options.streams} streams + big-1 of ${big} events to ${db}`);
    await writeCounterLog(db, { bigEvents: big, streams: options.streams, eventsPerStream: options.perStream });
  }
  const events = big + options.streams * options.perStream;
  const machines = ['--machines', 'test/support/cliMachines.ts'];
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  let view: ViewProcess | undefined;
  try {
    // first paint: a cold server, the front page
    view = await startView(db, machines, root);
    let page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    let t0 = Date.now();
    await page.goto(view.url);
    const firstPaintMs = await page.waitForSelector('li[data-stream]', { timeout: 120_000 }).then(
      () => Date.now() - t0,
      () => -1,
    );
    const servicePaintMs = await page.waitForSelector('.svc tbody tr', { timeout: 120_000 }).then(
      () => Date.now() - t0,
      () => -1,
    );
    log(`first paint ${firstPaintMs} ms, service ${servicePaintMs} ms`);
    await page.close();
    await view.stop();

    // deep first visit on a cold server, /api/info probed meanwhile
    view = await startView(db, machines, root);
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    // the page's reads in flight (the idle measure waits for none)
    let inFlight = 0;
    let settledAt = Date.now();
    const isRead = (url: string) => url.includes('/api/') && !url.includes('/api/live');
    page.on('request', (r) => {
      if (isRead(r.url())) inFlight++;
    });
    const done = (r: { url(): string }) => {
      if (!isRead(r.url())) return;
      inFlight--;
      settledAt = Date.now();
    };
    page.on('requestfinished', done);
    page.on('requestfailed', done);
    const half = Math.floor(big / 2);
    const latencies: number[] = [];
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const t = Date.now();
        await fetch(`${view!.url}api/info`).then((r) => r.arrayBuffer());
        latencies.push(Date.now() - t);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    t0 = Date.now();
    await page.goto(`${view.url}#stream=big-1&v=${half}`);
    const deepVisitMs = await versionShown(page, `v${half} of ${big}`, 300_000)
      .then(() =>
        page.waitForFunction(`(document.querySelector('[data-testid=state]')?.textContent ?? '') !== ''`, undefined, { timeout: 300_000, polling: 50 }),
      )
      .then(
        () => Date.now() - t0,
        () => -1,
      );
    probing = false;
    await probe;
    log(`deep visit ${deepVisitMs} ms; /api/info meanwhile max ${Math.max(...latencies)} ms, median ${median(latencies)} ms (${latencies.length} probes)`);

    // burst: the page follows big-1 while another process appends 10,000 events over ~10 s
    await page.goto(`${view.url}#stream=big-1`);
    await page.reload();
    await versionShown(page, `v${big} of ${big}`, 300_000);
    await page.waitForSelector('.live.on', { timeout: 30_000 });
    // (scripts as text: tsx would name the functions with a helper the page lacks)
    await page.evaluate(`window.longest = 0;
      new PerformanceObserver((list) => list.getEntries().forEach((e) => (window.longest = Math.max(window.longest, e.duration)))).observe({ type: 'longtask' });`);
    let requests = 0;
    page.on('request', (r) => r.url().includes('/api/') && !r.url().includes('/api/live') && requests++);
    const burstEvents = 10_000;
    const last = big + burstEvents;
    await page.evaluate(`new MutationObserver(() => document.querySelector('[data-testid=version-label]')?.textContent === ${JSON.stringify(`v${last} of ${last}`)} && (window.shownAt ??= Date.now()))
      .observe(document.body, { subtree: true, childList: true, characterData: true });`);
    const { doneAt } = await appendFromAnotherProcess(db, 'big-1', big, { batches: 100, perBatch: 100, everyMs: 100 });
    // not current 120 s after the burst: reported as -1, with what the page showed then
    const current = await versionShown(page, `v${last} of ${last}`, 120_000).then(
      () => true,
      () => false,
    );
    const shownAt = (await page.evaluate('window.shownAt ?? Date.now()')) as number;
    const burstCatchUpMs = current ? Math.max(0, shownAt - doneAt) : -1;
    if (!current) log(`burst: not current 120 s after the last commit; the page shows ${await page.textContent('[data-testid=version-label]')}`);
    const burstLongestTaskMs = Math.round((await page.evaluate('window.longest')) as number);
    const burstRequests = requests;
    log(`burst: current ${burstCatchUpMs} ms after the last commit; longest task ${burstLongestTaskMs} ms; ${burstRequests} API requests`);

    // idle: nothing appended; once no read of the page has been in flight for 3 s (the reads the
    // burst left behind, such as the service at the new head, are done), the CPU of the server and
    // of the page's renderer
    for (const until = Date.now() + 120_000; (inFlight > 0 || Date.now() - settledAt < 3_000) && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 200));
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const taskDuration = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0;
    const idleSeconds = 10;
    const server0 = cpuTicks(view.child.pid!);
    const page0 = await taskDuration();
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const idleServerCpuPct = Math.round(((cpuTicks(view.child.pid!) - server0) / 100 / idleSeconds) * 1000) / 10;
    const idlePageCpuPct = Math.round((((await taskDuration()) - page0) / idleSeconds) * 1000) / 10;
    log(`idle: server ${idleServerCpuPct}% of a core, page ${idlePageCpuPct}%`);
    return {
      events,
      streams: options.streams + 1,
      firstPaintMs,
      servicePaintMs,
      deepVisitMs,
      infoLatencyMaxMs: Math.max(...latencies),
      infoLatencyMedianMs: median(latencies),
      burstCatchUpMs,
      burstEvents,
      burstLongestTaskMs,
      burstRequests,
      idleServerCpuPct,
      idlePageCpuPct,
      idleSeconds,
    };
  } finally {
    await browser.close();
    await view?.stop();
  }
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

async function main(argv: string[]): Promise<void> {
  const opts = new Command('bench:viewer')
    .description('the viewer on a large generated log: first paint, deep visit, burst catch-up, idle CPU (Chromium)')
    .option('--db <path>', 'the log to measure on (generated there when missing)')
    .option('--keep', 'keep the generated log')
    .option('--root <dir>', 'the checkout whose viewer runs (default: this one)')
    .option('--big <n>', 'events of the long stream', positive, 100_000)
    .option('--streams <n>', 'other streams', positive, 999)
    .option('--per-stream <n>', 'events of each other stream', positive, 900)
    .option('--json', 'one JSON object on stdout')
    .parse(argv)
    .opts<{ db?: string; keep?: boolean; root?: string; big: number; streams: number; perStream: number; json?: boolean }>();
  const db = resolve(opts.db ?? join(tmpdir(), `actorlog-viewer-bench-${process.pid}.db`));
  const log = (line: string) => process.stderr.write(`bench:viewer: ${line}\n`);
  try {
    const f = await measureViewer({ db, root: opts.root, big: opts.big, streams: opts.streams, perStream: opts.perStream, log });
    if (opts.json) return void process.stdout.write(JSON.stringify(f) + '\n');
    const rows = [
      ['first paint (stream list)', `${f.firstPaintMs} ms`],
      ['service table drawn', `${f.servicePaintMs} ms`],
      [`deep first visit (v${Math.floor(opts.big / 2)} of big-1, cold)`, `${f.deepVisitMs} ms`],
      ['/api/info meanwhile: max / median', `${f.infoLatencyMaxMs} / ${f.infoLatencyMedianMs} ms`],
      [`burst of ${f.burstEvents}: current after the last commit`, f.burstCatchUpMs < 0 ? 'not within 120 s' : `${f.burstCatchUpMs} ms`],
      ['burst: longest task / API requests', `${f.burstLongestTaskMs} ms / ${f.burstRequests}`],
      [`idle ${f.idleSeconds} s: server / page CPU`, `${f.idleServerCpuPct}% / ${f.idlePageCpuPct}% of a core`],
    ];
    process.stdout.write(`actorlog viewer bench: ${f.streams} streams, ${f.events} events\n\n` + formatTable(['figure', 'value'], rows));
  } finally {
    if (!opts.keep && !opts.db) for (const suffix of ['', '-wal', '-shm']) rmSync(db + suffix, { force: true });
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) await main(process.argv);

/**
 * `actorlog view` as a debugger, in Chromium, on a log the journaled runtime wrote
 * (test/support/viewerLog.ts): how each actor ended and where it failed, the timeline's filters, a
 * child machine's chart and snapshot, the messages between two journaled actors, the diff of a
 * queue. Screenshots go to test-results/viewer/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { axeViolations } from '../support/axe.ts';
import { launchChromium } from '../support/browser.ts';
import { tempDb } from '../support/tempDb.ts';
import { startView, type ViewProcess } from '../support/viewerProcess.ts';
import { PINGS, writeViewerLog } from '../support/viewerLog.ts';
import { readLog } from '../support/kit/index.ts';

const ARTIFACTS = join(fileURLToPath(new URL('../..', import.meta.url)), 'test-results/viewer');
const db = tempDb('viewer.db');
let browser: Browser;
let view: ViewProcess;
let page: Page;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await writeViewerLog(db.path);
  browser = await launchChromium();
  view = await startView(db.path, ['--machines', 'test/support/viewerMachines.ts']);
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await view?.stop();
  db.cleanup();
});

const shown = (p: Page) => p.$$eval('li[data-stream]', (els) => els.map((e) => e.getAttribute('data-stream')));
async function openAt(hash: string): Promise<void> {
  await page.goto(`${view.url}#${hash}`);
  await page.reload();
}

describe('actorlog view as a debugger, in Chromium', { retry: 1 }, () => {
  it('shows how each actor ended, counts and filters by it, and jumps to where one threw', async () => {
    await openAt('');
    await page.waitForSelector('li[data-stream="crash-1"] [data-outcome="threw in running"]');
    expect(await page.textContent('li[data-stream="job-failed"] .badge')).toBe('failed');
    expect(await page.textContent('li[data-stream="job-ok"] .badge')).toBe('done');
    expect(await page.textContent('li[data-stream="job-canceled"] .badge')).toBe('canceled');
    expect(await page.textContent('button.chip[data-outcome="failed"]')).toBe('failed 2');
    await page.click('button.chip[data-outcome="failed"]');
    await page.click('button.chip[data-outcome="threw in running"]');
    await page.waitForFunction(() => document.querySelectorAll('li[data-stream]').length === 3);
    expect(await shown(page)).toEqual(['job-failed', 'job-failed-2', 'crash-1']);
    expect(page.url()).toContain('outcome=failed%2Cthrew+in+running');
    await page.screenshot({ path: join(ARTIFACTS, 'outcome-filter.png') });

    await page.click('li[data-stream="crash-1"]');
    await page.waitForFunction(() => document.querySelector('[data-testid=version-label]')?.textContent === 'v3 of 3');
    // the event it threw on (v2) and the runtime's record of it (v3) are marked
    await page.waitForSelector('.tl-body .row.failing[data-version="2"] .fail-mark');
    await page.waitForSelector('.tl-body .row.failing[data-version="3"]');
    expect(await page.$$eval('.tl-body .row.failing', (els) => els.map((e) => e.getAttribute('data-version')))).toEqual(['2', '3']);
    await page.keyboard.press('f');
    await page.waitForFunction(() => document.querySelector('[data-testid=version-label]')?.textContent === 'v2 of 3');
    expect(await page.textContent('[data-testid=state]')).toBe('running');
    await page.screenshot({ path: join(ARTIFACTS, 'failure-jump.png') });
  });

  it('filters the timeline by event type and by source', async () => {
    await openAt('stream=ping-1');
    await page.waitForFunction((n) => document.querySelector('[data-testid=version-label]')?.textContent === `v${n} of ${n}`, 3 * PINGS);
    await page.hover('[data-testid=type-filter]');
    await page.waitForSelector('[data-testid=type-filter] option[value="pong"]', { state: 'attached' });
    await page.selectOption('[data-testid=type-filter]', 'pong');
    await page.waitForFunction((n) => document.querySelector('[data-testid=match-count]')?.textContent === `${n} of ${3 * n} events match`, PINGS);
    await page.waitForFunction(() => document.querySelectorAll('.tl-body .row .c-t').length === 3);
    expect(await page.$$eval('.tl-body .row', (els) => els.map((e) => `${e.getAttribute('data-version')} ${e.querySelector('.c-t')?.textContent}`))).toEqual([
      '3 pong',
      '6 pong',
      '9 pong',
    ]);
    await page.selectOption('[data-testid=type-filter]', '');
    await page.selectOption('[data-testid=source-filter]', 'parent');
    await page.waitForFunction(() => document.querySelectorAll('.tl-body .row .c-t').length === 3);
    expect(await page.$$eval('.tl-body .row', (els) => els.map((e) => e.querySelector('.c-t')?.textContent))).toEqual([
      '→counter inc',
      '→counter inc',
      '→counter inc',
    ]);
    expect(page.url()).toContain('source=parent');
  });

  it("draws a child machine's own chart, snapshot and diff, picked from the actor tree", async () => {
    await openAt('stream=ping-1&v=2');
    await page.waitForSelector('.actor-tree [data-actor="counter"] button');
    await page.click('.actor-tree [data-actor="counter"] button');
    await page.waitForSelector('[data-testid=statechart][aria-label^="statechart of ping-1 / counter"]');
    await page.waitForSelector('g.state[data-state="tally.counting"][data-active="true"]');
    expect(await page.$$eval('g.state', (els) => els.map((e) => e.getAttribute('data-state') ?? '').sort((a, b) => a.localeCompare(b)))).toEqual([
      'tally',
      'tally.counting',
      'tally.stopped',
    ]);
    expect(await page.$$eval('g.edge[data-taken="true"]', (els) => els.length)).toBe(1); // the `inc` it took
    await page.waitForFunction(() => document.querySelector('[data-testid=context]')?.textContent?.includes('"count": 1'));
    expect(await page.$$eval('[data-testid=diff] tr', (els) => els.map((e) => e.getAttribute('data-path')))).toEqual(['context/count', 'context/seen/0']);
    expect(page.url()).toContain('actor=counter');
    await page.screenshot({ path: join(ARTIFACTS, 'child-chart.png') });
    // back to the root: its chart, and the child's change shows in the root's diff too
    await page.click('.actor-tree [data-actor=""] button');
    await page.waitForSelector('g.state[data-state="ping.active"][data-active="true"]');
    await page.waitForFunction(() => document.querySelector('[data-testid=diff] tr[data-path="children/counter/context/count"]'));
  });

  it('draws the messages between two journaled actors, each arrow a link to its event', async () => {
    await openAt('stream=ping-1&v=1&tab=sequence');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=sequence] .arrow-link').length === n, 4 * PINGS);
    expect(await page.$$eval('[data-testid=sequence] .lane', (els) => els.map((e) => e.getAttribute('data-lane')))).toEqual([
      'source:external',
      'actor:',
      'actor:counter',
      'stream:peer-1',
    ]);
    const arrows = await page.$$eval('[data-testid=sequence] .arrow-link', (els) =>
      els.map((e) => `${e.getAttribute('data-version')} ${e.getAttribute('data-from')}>${e.getAttribute('data-to')}`),
    );
    expect(arrows.slice(0, 4)).toEqual(['1 source:external>actor:', '1 actor:>stream:peer-1', '2 actor:>actor:counter', '3 actor:counter>actor:']);
    expect(arrows).toHaveLength(3 * PINGS + PINGS);
    await page.screenshot({ path: join(ARTIFACTS, 'sequence.png') });
    // the note sent at the sender links to the event the receiver logged for it
    await page.click('[data-testid=sequence] .arrow-link.sent >> nth=1');
    await page.waitForFunction(
      () => location.hash.includes('stream=peer-1') && document.querySelector('[data-testid=version-label]')?.textContent?.startsWith('v2 '),
    );
    await page.waitForSelector('[data-testid=sequence] .lane[data-lane="stream:ping-1"]');
  });

  it('diffs a queue by identity: taking the head is one removal', async () => {
    await openAt('stream=queue-1&v=5');
    await page.waitForFunction(() => document.querySelector('[data-testid=version-label]')?.textContent === 'v5 of 5');
    await page.waitForSelector('[data-testid=diff] tr[data-op]');
    const rows = await page.$$eval('[data-testid=diff] tr[data-op]', (els) =>
      els.map((e) => `${e.getAttribute('data-op')} ${e.getAttribute('data-path')} ${e.querySelector('.before')?.textContent}`),
    );
    expect(rows).toEqual(['remove context/queue/0 {"id":"j1","text":"first"}']);
    await page.screenshot({ path: join(ARTIFACTS, 'queue-diff.png') });
  });

  it('axe-core finds no violation: the list, a chart with its timeline and snapshot, the sequence, a filtered timeline, a failure', async () => {
    for (const hash of [
      '',
      'stream=ping-1&v=2',
      'stream=ping-1&v=2&actor=counter',
      'stream=ping-1&v=2&tab=sequence',
      'stream=ping-1&type=pong',
      'stream=crash-1&outcome=failed',
    ]) {
      await openAt(hash);
      await page.waitForSelector('li[data-stream]');
      if (hash.includes('tab=sequence')) await page.waitForSelector('[data-testid=sequence] .arrow-link');
      else if (hash.includes('type=')) await page.waitForSelector('.tl-body .row .c-t');
      else if (hash) await page.waitForSelector('g.state[data-active="true"]');
      expect(await axeViolations(page), hash || 'front page').toEqual([]);
    }
  });

  it('lays a machine out once: another stream of it, and the page opened again, lay out nothing', async () => {
    await page.evaluate('localStorage.clear()');
    const layouts = () => page.evaluate(`performance.getEntriesByName('actorlog.layout').length`) as Promise<number>;
    await openAt('stream=job-ok');
    await page.waitForSelector('g.state[data-state="outcome.done"][data-active="true"]');
    expect(await layouts()).toBe(1);
    await page.click('li[data-stream="job-failed"]');
    await page.waitForSelector('g.state[data-state="outcome.failed"][data-active="true"]');
    await page.click('li[data-stream="job-canceled"]');
    await page.waitForSelector('g.state[data-state="outcome.canceled"][data-active="true"]');
    expect(await layouts()).toBe(1); // three streams of one machine hash, one layout
    await openAt('stream=job-failed');
    await page.waitForSelector('g.state[data-state="outcome.failed"][data-active="true"]');
    expect(await layouts()).toBe(0); // a new page: the layout kept from the last one
  });

  it('exports streams with actorlog export and opens the file with actorlog view; the page downloads the selection too', async () => {
    const file = join(db.dir, 'bug.actorlog');
    // `actorlog export … > bug.actorlog`: its standard output is the file
    const out = openSync(file, 'w');
    const run = spawnSync(
      process.execPath,
      [join(fileURLToPath(new URL('../..', import.meta.url)), 'bin/actorlog.js'), 'export', db.path, 'ping-1', 'peer-1'],
      { stdio: ['ignore', out, 'pipe'], encoding: 'utf8' },
    );
    closeSync(out);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^actorlog: exported 2 stream\(s\), 12 event\(s\)/);
    const bug = await startView(file, ['--machines', 'test/support/viewerMachines.ts']);
    const p = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    try {
      await p.goto(`${bug.url}#stream=ping-1&v=1&tab=sequence`);
      await p.waitForFunction(() => document.querySelectorAll('li[data-stream]').length === 2);
      expect(await shown(p)).toEqual(['peer-1', 'ping-1']);
      await p.waitForFunction((n) => document.querySelectorAll('[data-testid=sequence] .arrow-link.sent').length === n, PINGS);
      await p.screenshot({ path: join(ARTIFACTS, 'exported-view.png') });
      // the download button: ping-1 up to its version 4
      await p.goto(`${bug.url}#stream=ping-1&v=4`);
      await p.reload();
      await p.waitForSelector('[data-testid=download]:has-text("up to v4")');
      const [download] = await Promise.all([p.waitForEvent('download'), p.click('[data-testid=download]')]);
      const saved = join(db.dir, 'downloaded.actorlog');
      await download.saveAs(saved);
      expect(download.suggestedFilename()).toMatch(/^ping-1-to-\d+\.actorlog$/);
      await readLog(saved, (store) => {
        expect(store.listStreams().map((s) => [s.streamId, s.version])).toEqual([['ping-1', 4]]);
        expect(store.readStream('ping-1').map((r) => r.type)).toEqual(['ping', 'inc', 'pong', 'ping']);
      });
      expect(readFileSync(saved).subarray(0, 15).toString()).toBe('SQLite format 3');
    } finally {
      await p.close();
      await bug.stop();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { benchCounter, measureJournaled, measureUnjournaled } from '../../bench/actor.ts';
import { formatBench, runBench } from '../../bench/index.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { measureReplay } from '../../bench/replay.ts';
import { BEFORE_REF, measureSqliteBeforeAfter } from '../../bench/sqliteBeforeAfter.ts';
import { tempDb } from '../support/tempDb.ts';

// Smoke only: the bench runs end to end and reports every figure. Nothing is asserted about speed.

const FIGURES = [
  'appendPerSec',
  'rawAppendPerSec',
  'appendRatio',
  'groupCommitPerSec',
  'actorPerSec',
  'unjournaledPerSec',
  'actorRatio',
  'actorTickPerSec',
  'replayPerSec',
  'floorPerSec',
  'replayFloorRatio',
  'folderPerSec',
  'transitionFoldPerSec',
  'replayRatio',
  'journaledEachPerSec',
  'rawSinglePerSec',
  'journaledEachRatio',
  'group100PerSec',
  'rawBatch100PerSec',
  'group100Ratio',
] as const;

const positiveFinite = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;

describe('bench smoke', () => {
  it('runBench reports every figure, NORMAL and Full, as a positive finite number', async () => {
    const lines: string[] = [];
    const result = await runBench({ events: 200, eventsFull: 50, runs: 1, log: (l) => lines.push(l) });
    for (const key of FIGURES) {
      expect(positiveFinite(result[key]), key).toBe(true);
      expect(positiveFinite(result[`${key}Full`]), `${key}Full`).toBe(true);
    }
    expect(result).toMatchObject({ events: 200, eventsFull: 50, runs: 1, node: process.version, xstate: expect.stringMatching(/^5\./) });
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    expect(formatBench(result)).toContain('ratio journaled / plain');
  });

  it('the actor and replay measurements leave a log that folds to the live count', async () => {
    const db = tempDb();
    const store = openSqliteStore(db.path);
    try {
      expect(positiveFinite(await measureJournaled(store, { commit: 'each', events: 200, streamId: 'each' }))).toBe(true);
      expect(positiveFinite(await measureJournaled(store, { commit: 'tick', events: 250, streamId: 'tick', tickBatch: 100 }))).toBe(true);
      expect(positiveFinite(measureUnjournaled(200))).toBe(true);
      expect(store.getStream('tick')!.version).toBe(250);
      const replayed = await measureReplay(store, benchCounter, 'tick');
      expect(replayed.events).toBe(250);
      for (const key of ['replayPerSec', 'floorPerSec', 'folderPerSec', 'transitionFoldPerSec'] as const) expect(positiveFinite(replayed[key]), key).toBe(true);
    } finally {
      store.close();
      db.cleanup();
    }
  });

  it('measures SQLite each mode by the runtime before the change and by this checkout, each in its own process', async () => {
    const lines: string[] = [];
    const r = await measureSqliteBeforeAfter({ events: 300, runs: 1, log: (l) => lines.push(l) });
    expect(r).toMatchObject({ before: BEFORE_REF, events: 300, runs: 1 });
    expect(r.beforeRuns).toHaveLength(1);
    expect(r.afterRuns).toHaveLength(1);
    for (const key of ['beforePerSec', 'afterPerSec', 'ratio', 'beforeCpuUsPerEvent', 'afterCpuUsPerEvent', 'cpuRatio'] as const)
      expect(positiveFinite(r[key]), key).toBe(true);
    expect(r.ratio).toBeCloseTo(r.afterPerSec / r.beforePerSec, 2);
    expect(lines).toHaveLength(1);
  });
});

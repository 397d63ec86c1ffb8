import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { formatWsLoad, runWsLoad } from '../../bench/wsLoad.ts';

// Smoke and correctness of the WebSocket load script (bench/wsLoad.ts): a small run journals every
// frame the server sent, measures one latency per frame, and leaves no temporary directory behind.
// Nothing is asserted about speed (whether a step passed depends on the machine).

const loadDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith('actorlog-ws-load-'));

describe('WebSocket load script', () => {
  it('journals every frame offered to the connection actors, counts them from the log, and cleans up', async () => {
    const before = new Set(loadDirs());
    const lines: string[] = [];
    const r = await runWsLoad({ connections: 20, rates: [200], seconds: 1, drainSeconds: 30, log: (l) => lines.push(l) });
    expect(r.connections).toBe(20);
    expect(r.steps).toHaveLength(1);
    const [step] = r.steps;
    expect(step!.sent).toBe(200);
    expect(step!.journaled).toBe(200);
    expect(Number.isFinite(step!.p99Ms)).toBe(true); // every frame's commit was seen: no frame counted as lost
    expect(step!.p50Ms).toBeLessThanOrEqual(step!.p99Ms);
    expect(r.ceiling === null || r.ceiling === 200).toBe(true);
    expect(r.machine.cpus).toBeGreaterThan(0);
    expect(formatWsLoad(r)).toMatch(/ceiling: /);
    expect(lines.some((l) => l.startsWith('200/s: sent 200, journaled 200'))).toBe(true);
    expect(loadDirs().filter((d) => !before.has(d))).toEqual([]);
  }, 120_000);
});

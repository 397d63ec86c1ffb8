import { describe, expect, it } from 'vitest';
import { measureSse } from '../../bench/sse.ts';
import { measureWs } from '../../bench/ws.ts';

// Smoke of the transport figures of `npm run bench` (bench/sse.ts, bench/ws.ts): every figure is
// measured, and the journaled runs check that the log holds every event (they throw otherwise).
// Nothing is asserted about speed.

const positiveFinite = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;

describe('transport bench', () => {
  it('SSE: the source alone, the bare loop and the journaled session actor each report a rate', async () => {
    const f = await measureSse({ events: 300, sourceEvents: 500, sourceRuns: 1 });
    expect(f).toMatchObject({ events: 300, sourceEvents: 500 });
    for (const key of ['journaledPerSec', 'journaledTickPerSec', 'sourcePerSec', 'barePerSec', 'ratio', 'sourceRatio'] as const)
      expect(positiveFinite(f[key]), key).toBe(true);
  }, 120_000);

  it('WebSocket: the source alone, the bare client, the journaled actor and the heap per connection (shipped code, a child process)', async () => {
    const f = await measureWs({ frames: 300, connections: 10, sourceFrames: 500, sourceRuns: 1 });
    expect(f).toMatchObject({ frames: 300, connections: 10, sourceFrames: 500 });
    for (const key of [
      'wsFramesPerSec',
      'wsTickFramesPerSec',
      'bareFramesPerSec',
      'ratio',
      'tickRatio',
      'sourceFramesPerSec',
      'sourceBareFramesPerSec',
      'sourceRatio',
      'heapPerConnection',
      'bareHeapPerConnection',
      'sourceHeapPerConnection',
      'heapRatio',
    ] as const)
      expect(positiveFinite(f[key]), key).toBe(true);
  }, 180_000);
});

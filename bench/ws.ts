import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import WebSocket from 'ws';
import type { ConnectionMachine } from '../machines/connection/machine.ts';
import { encodeBackendCursor, yoiConnectionInput, yoiConnectionMachine } from '../machines/yoi/index.ts';
import { observationWsUrl } from '../machines/yoi/target.ts';
import { createActorSystem, type JournaledActor } from '../src/index.ts';
import { webSocket } from '../src/sources/webSocket/index.ts';
import { openSqliteStore } from '../stores/sqlite/index.ts';
import { startYoiServer, type YoiServerHandle } from '../test/servers/yoi-server.ts';
import type { WsHeapFigures } from './wsHeap.ts';

/** Options of {@link measureWs}. */
export interface MeasureWsOptions {
  /** Frames sent per throughput measurement. @default 20000 */
  frames?: number;
  /** Connections opened for the memory figures. @default 200 */
  connections?: number;
  /** Frames per run of the source alone and of its bare baseline. @default max(frames, 20000) */
  sourceFrames?: number;
  /** Alternated runs of each (the median reported). @default 5 */
  sourceRuns?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What {@link measureWs} reports. Rates in frames per second, memory in bytes. */
export interface WsFigures {
  frames: number;
  /** Frames through the WebSocket source, the yoi binding, a journaled connection actor and the SQLite log (commit each). */
  wsFramesPerSec: number;
  /** The same with group commit (`commit: 'tick'`: the frames of one socket read share a transaction). */
  wsTickFramesPerSec: number;
  /** The same frames counted by a bare `ws` client (the baseline). */
  bareFramesPerSec: number;
  /** wsFramesPerSec / bareFramesPerSec. */
  ratio: number;
  /** wsTickFramesPerSec / bareFramesPerSec. */
  tickRatio: number;
  /** Frames per run of the source alone and of its bare baseline (at least 20,000 by default). */
  sourceFrames: number;
  /** Alternated runs of the source alone and of the bare client; the median of each is reported. */
  sourceRuns: number;
  /** Frames through the WebSocket source's Observable alone (no binding, no actor, no log), counted. */
  sourceFramesPerSec: number;
  /** A bare `ws` client counting the same frames, alternated with the source's runs. */
  sourceBareFramesPerSec: number;
  /** sourceFramesPerSec / sourceBareFramesPerSec. */
  sourceRatio: number;
  connections: number;
  /**
   * Heap (V8, after GC) per idle journaled connection actor, online with its socket open, bytes: the
   * shipped code (bundled without tsx, run in a child process; bench/wsHeap.ts), warmed up. Under
   * tsx it reads ~10 KB more: tsx's esbuild `keepNames` gives each named closure a property array.
   */
  heapPerConnection: number;
  /** Heap per bare `ws` connection to the same server, measured alike (each includes the in-process server's side). */
  bareHeapPerConnection: number;
  /** Heap per WebSocket source alone (subscribed, first frame received), measured alike. */
  sourceHeapPerConnection: number;
  /** heapPerConnection / bareHeapPerConnection. */
  heapRatio: number;
  durationMs: number;
}

/**
 * Runs bench/wsHeap.ts as the package ships (plain JavaScript, no tsx): bundled with esbuild
 * (`keepNames` off, packages external, resolved through a symlink to node_modules) into a temporary
 * directory, run with `node --expose-gc` in a child process (at most 180 s), its JSON parsed.
 */
async function measureHeapAsShipped(connections: number): Promise<WsHeapFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'actorlog-bench-heap-bundle-'));
  try {
    // this file runs as its .ts source (tsx) or from the tsc build `npm run bench` makes (.bench-build/bench/*.js)
    const built = !import.meta.url.endsWith('.ts');
    symlinkSync(fileURLToPath(new URL(built ? '../../node_modules' : '../node_modules', import.meta.url)), join(dir, 'node_modules'), 'dir');
    const outfile = join(dir, 'wsHeap.mjs');
    await build({
      entryPoints: [fileURLToPath(new URL(built ? './wsHeap.js' : './wsHeap.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      keepNames: false,
      outfile,
      logLevel: 'warning',
    });
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', outfile, String(connections)], { timeout: 180_000 });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as WsHeapFigures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const round = (x: number) => Math.round(x);

async function waitAll(actors: Array<JournaledActor<ConnectionMachine>>, seq: number): Promise<void> {
  // seq 0 (the first snapshot) is dropped as seed 004 drops it: its arrival shows as the first duplicate
  const at = (s: ReturnType<JournaledActor<ConnectionMachine>['getSnapshot']>) =>
    seq === 0 ? s.context.counts.duplicates >= 1 : s.context.lastSeq === encodeBackendCursor(seq).slice(3);
  await Promise.all(actors.map((a) => a.waitFor(at, { timeoutMs: 120_000 })));
}

/** A bare ws client on a worker's observation URL, counting messages. */
function bareClient(server: YoiServerHandle, workerId: string): Promise<{ ws: WebSocket; count: () => number; until: (n: number) => Promise<void> }> {
  const ws = new WebSocket(observationWsUrl({ baseUrl: server.url, runtimeId: 'bench', workerId }), { perMessageDeflate: false });
  let count = 0;
  let waiter: { n: number; resolve: () => void } | undefined;
  ws.on('message', () => {
    count += 1;
    if (waiter && count >= waiter.n) waiter.resolve();
  });
  const until = (n: number) => (count >= n ? Promise.resolve() : new Promise<void>((resolve) => (waiter = { n, resolve })));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, count: () => count, until }));
    ws.once('error', reject);
  });
}

/** Frames per run of the source alone and of its bare baseline (at least): a shorter run lasts a few ms. */
const SOURCE_FRAMES = 20_000;
/** Alternated runs of the source alone and of the bare client; the median of each is reported. */
const SOURCE_RUNS = 5;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

/** The WebSocket source alone on a worker's observation URL (no reconnects), counting messages. */
function sourceClient(server: YoiServerHandle, workerId: string): Promise<{ close: () => void; until: (n: number) => Promise<void> }> {
  let count = 0;
  let waiter: { n: number; resolve: () => void } | undefined;
  let opened: (() => void) | undefined;
  let failed: ((err: unknown) => void) | undefined;
  const sub = webSocket(observationWsUrl({ baseUrl: server.url, runtimeId: 'bench', workerId }), { reconnect: { maxAttempts: 0 } }).subscribe({
    next: (e) => {
      if (e.type === 'open') opened?.();
      else if (e.type === 'message') {
        count += 1;
        if (waiter && count >= waiter.n) waiter.resolve();
      }
    },
    error: (err: unknown) => failed?.(err),
  });
  const until = (n: number) => (count >= n ? Promise.resolve() : new Promise<void>((resolve) => (waiter = { n, resolve })));
  return new Promise((resolve, reject) => {
    opened = () => resolve({ close: () => sub.unsubscribe(), until });
    failed = reject;
  });
}

/** Frames per second of the source alone and of a bare `ws` client on their own server, alternated, medians. */
async function measureSourceAlone(frames: number, runs: number): Promise<{ sourcePerSec: number; barePerSec: number }> {
  const server = await startYoiServer();
  try {
    let worker = 0;
    const run = async (open: (workerId: string) => Promise<{ until: (n: number) => Promise<void>; close: () => void }>) => {
      const workerId = `alone-${(worker += 1)}`;
      const client = await open(workerId);
      await client.until(1); // the snapshot frame
      const t0 = performance.now();
      for (let i = 1; i <= frames; i++) server.emit('bench', workerId, { type: 'text_delta', text: `frame ${i}` });
      await client.until(frames + 1);
      const perSec = frames / ((performance.now() - t0) / 1000);
      client.close();
      return perSec;
    };
    const bare = (workerId: string) => bareClient(server, workerId).then((c) => ({ until: c.until, close: () => c.ws.terminate() }));
    const source = (workerId: string) => sourceClient(server, workerId);
    await run(bare); // warm-up
    await run(source);
    const bares: number[] = [];
    const sources: number[] = [];
    for (let r = 0; r < runs; r++) {
      bares.push(await run(bare));
      sources.push(await run(source));
    }
    return { sourcePerSec: median(sources), barePerSec: median(bares) };
  } finally {
    await server.close();
  }
}

/**
 * WebSocket frames per second from a local server (the yoi test backend, in process) through the
 * WebSocket source, the yoi binding, a journaled connection actor and its SQLite log, against a
 * bare `ws` client counting the same frames in the same run; and memory per connection for
 * `connections` journaled connection actors (online, socket open, first frame received) against as
 * many bare `ws` clients. Nothing here is asserted: figures only.
 *
 * @example
 * ```ts
 * const figures = await measureWs({ frames: 20_000, connections: 200 });
 * console.log(figures.wsFramesPerSec, figures.ratio, figures.heapPerConnection);
 * ```
 */
export async function measureWs(options: MeasureWsOptions = {}): Promise<WsFigures> {
  const frames = options.frames ?? 20_000;
  const connections = options.connections ?? 200;
  const log = options.log ?? (() => {});
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'actorlog-bench-ws-'));
  const server = await startYoiServer({ retention: frames + 10 });
  const store = openSqliteStore(join(dir, 'ws.db'));
  const system = createActorSystem({ store, machines: { yoi: yoiConnectionMachine() } });
  const tickSystem = createActorSystem({ store, machines: { yoi: yoiConnectionMachine() }, commit: 'tick' });
  const spawn = (workerId: string, on = system) => {
    const input = yoiConnectionInput({ baseUrl: server.url, runtimeId: 'bench', workerId });
    return on.spawn('yoi', { id: input.connectionId, input });
  };
  const journaled = async (workerId: string, on = system) => {
    const actor = spawn(workerId, on);
    await waitAll([actor], 0);
    const t0 = performance.now();
    emit(workerId);
    await waitAll([actor], frames);
    const perSec = frames / ((performance.now() - t0) / 1000);
    on.stop(actor.id);
    if (store.readStream(actor.id).filter((r) => r.type === 'connection.message').length !== frames + 2)
      throw new Error('ws bench: the log does not hold every frame');
    return perSec;
  };
  const emit = (workerId: string) => {
    for (let i = 1; i <= frames; i++) server.emit('bench', workerId, { type: 'text_delta', text: `frame ${i}` });
  };
  try {
    const sourceFrames = options.sourceFrames ?? Math.max(frames, SOURCE_FRAMES);
    const sourceRuns = options.sourceRuns ?? SOURCE_RUNS;
    log(`ws: source alone vs bare ws client, ${sourceFrames} frames, median of ${sourceRuns} alternated runs`);
    const alone = await measureSourceAlone(sourceFrames, sourceRuns);
    log(`ws: source alone ${round(alone.sourcePerSec)}/s, bare ${round(alone.barePerSec)}/s`);
    log(`ws: bare ws client, ${frames} frames`);
    const bare = await bareClient(server, 'bare');
    await bare.until(1);
    let t0 = performance.now();
    emit('bare');
    await bare.until(frames + 1);
    const bareFramesPerSec = frames / ((performance.now() - t0) / 1000);
    bare.ws.terminate();

    log(`ws: journaled connection actor, ${frames} frames, commit each`);
    const wsFramesPerSec = await journaled('journaled');
    log(`ws: journaled connection actor, ${frames} frames, commit tick`);
    const wsTickFramesPerSec = await journaled('journaled-tick', tickSystem);

    log(`ws: heap of ${connections} bare ws connections, WebSocket sources and journaled connection actors (a bundle without tsx, in a child process)`);
    const shipped = await measureHeapAsShipped(connections);
    log(`ws: heap per connection: bare ${shipped.bare} B, source ${shipped.source} B, journaled actor ${shipped.journaled} B`);
    return {
      frames,
      wsFramesPerSec: round(wsFramesPerSec),
      wsTickFramesPerSec: round(wsTickFramesPerSec),
      bareFramesPerSec: round(bareFramesPerSec),
      ratio: Math.round((wsFramesPerSec / bareFramesPerSec) * 1000) / 1000,
      tickRatio: Math.round((wsTickFramesPerSec / bareFramesPerSec) * 1000) / 1000,
      sourceFrames,
      sourceRuns,
      sourceFramesPerSec: round(alone.sourcePerSec),
      sourceBareFramesPerSec: round(alone.barePerSec),
      sourceRatio: Math.round((alone.sourcePerSec / alone.barePerSec) * 1000) / 1000,
      connections,
      heapPerConnection: shipped.journaled,
      bareHeapPerConnection: shipped.bare,
      sourceHeapPerConnection: shipped.source,
      heapRatio: Math.round((shipped.journaled / shipped.bare) * 100) / 100,
      durationMs: round(performance.now() - started),
    };
  } finally {
    await system.close();
    await tickSystem.close();
    store.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `npx tsx bench/ws.ts [frames] [connections]`: prints the figures as JSON. */
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [frames, connections] = process.argv.slice(2).map(Number);
  const figures = await measureWs({ frames: frames || undefined, connections: connections || undefined, log: (l) => process.stderr.write(`${l}\n`) });
  console.log(JSON.stringify(figures, null, 2));
}

import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import type { Subscription } from 'rxjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { yoiConnectionInput, yoiConnectionMachine } from '../machines/yoi/index.ts';
import { observationWsUrl } from '../machines/yoi/target.ts';
import { createActorSystem } from '../src/index.ts';
import { webSocket } from '../src/sources/webSocket/index.ts';
import { openSqliteStore } from '../stores/sqlite/index.ts';
import { startYoiServer } from '../test/servers/yoi-server.ts';

/** Heap (V8, after GC) per connection, bytes; each includes the in-process server's side of the socket. */
export interface WsHeapFigures {
  connections: number;
  /** A bare `ws` client, open, its first frame received. */
  bare: number;
  /** The WebSocket source alone (its Observable subscribed, no binding or actor), its first frame received. */
  source: number;
  /** A journaled yoi connection actor (source, binding, connection machine, journal; SQLite), online, idle. */
  journaled: number;
}

const gcOf = () => (globalThis as { gc?: () => void }).gc;
const heap = () => {
  gcOf()!();
  gcOf()!();
  return process.memoryUsage().heapUsed;
};
const settle = () => new Promise((r) => setTimeout(r, 200));

/**
 * Heap per idle connection of a bare `ws` client, the WebSocket source alone and a journaled yoi
 * connection actor, `connections` of each, on a yoi test server in this process. Each kind is
 * warmed up first (a batch opened, then the measured one), so code compiled on first use is not
 * counted. Needs `--expose-gc`. bench/ws.ts runs it in a child process from a bundle of the shipped
 * sources without tsx (whose esbuild `keepNames` gives every named closure a property of its own).
 */
export async function measureWsHeap(connections: number): Promise<WsHeapFigures> {
  if (!gcOf()) throw new Error('bench/wsHeap.ts needs node --expose-gc');
  const server = await startYoiServer();
  const dir = mkdtempSync(join(tmpdir(), 'actorlog-bench-heap-'));
  const store = openSqliteStore(join(dir, 'heap.db'));
  const system = createActorSystem({ store, machines: { yoi: yoiConnectionMachine() }, commit: 'tick' });
  const url = (w: string) => observationWsUrl({ baseUrl: server.url, runtimeId: 'heap', workerId: w });
  const bareOpen = (w: string) =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url(w), { perMessageDeflate: false });
      ws.once('message', () => resolve(ws));
      ws.once('error', reject);
    });
  const sourceOpen = (w: string) =>
    new Promise<Subscription>((resolve, reject) => {
      const sub: Subscription = webSocket(url(w), { reconnect: { maxAttempts: 0 } }).subscribe({
        next: (e) => e.type === 'message' && resolve(sub),
        error: reject,
      });
    });
  const actorOpen = async (w: string) => {
    const input = yoiConnectionInput({ baseUrl: server.url, runtimeId: 'heap', workerId: w });
    const actor = system.spawn('yoi', { id: input.connectionId, input });
    // online: the snapshot frame arrived (dropped as seed 004 drops sequence 0: counted as a duplicate)
    await actor.waitFor((s) => s.context.counts.duplicates >= 1, { timeoutMs: 60_000 });
    return actor;
  };
  const per = async <T>(name: string, open: (w: string) => Promise<T>, close: (x: T) => void): Promise<number> => {
    const warm = await Promise.all(Array.from({ length: connections }, (_, i) => open(`${name}-warm-${i}`)));
    const before = heap();
    const measured = await Promise.all(Array.from({ length: connections }, (_, i) => open(`${name}-${i}`)));
    const bytes = (heap() - before) / connections;
    for (const x of [...warm, ...measured]) close(x);
    await settle();
    return Math.round(bytes);
  };
  try {
    const bare = await per('bare', bareOpen, (ws) => ws.terminate());
    const source = await per('source', sourceOpen, (sub) => sub.unsubscribe());
    const journaled = await per('journaled', actorOpen, (a) => system.stop(a.id));
    return { connections, bare, source, journaled };
  } finally {
    await system.close();
    store.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `node --expose-gc <bundle of this file> [connections]`: prints the figures as JSON. */
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = performance.now();
  const figures = await measureWsHeap(Number(process.argv[2]) || 200);
  console.log(JSON.stringify({ ...figures, durationMs: Math.round(performance.now() - started) }));
}

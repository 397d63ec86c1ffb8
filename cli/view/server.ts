import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Subscription } from 'rxjs';
import { isActorlogError } from '../../src/errors.ts';
import type { EmbeddedLogStore } from '../../src/log/types.ts';
import { eventRow, type ViewApi } from './api.ts';
import type { Assets } from './assets.ts';

/** Options of {@link startViewServer}. */
export interface ViewServerOptions {
  api: ViewApi;
  assets: Assets;
  /** The log file's name, shown in the page. */
  db: string;
  /** 0 (default): a free port. */
  port?: number;
  /** How often the live feed looks for events other processes appended (ms). @default 200 */
  pollIntervalMs?: number;
}

/** A running viewer: its URL and how to stop it. */
export interface ViewServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const STATUS_OF: Record<string, number> = { STREAM_NOT_FOUND: 404, INVALID_OPTIONS: 400 };

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/**
 * Serves the viewer on 127.0.0.1: the page's assets, a JSON API of bounded reads (see {@link ViewApi})
 * and `GET /api/live`, a Server-Sent Events feed of the events appended after the page connected
 * (`event: append`, each the event's timeline row and stream id, so the page shows it without another read) driven by `store.subscribe()`, which also sees what other
 * processes append (within `pollIntervalMs`), plus `event: streams` when a stream's status or
 * version changed.
 *
 * @throws the `listen` error (e.g. `EADDRINUSE`) as a rejection
 */
export async function startViewServer(store: EmbeddedLogStore, options: ViewServerOptions): Promise<ViewServer> {
  const { api, assets } = options;
  const clients = new Set<ServerResponse>();
  const broadcast = (event: string, data: unknown) => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of clients) res.write(frame);
  };
  let live: Subscription | undefined;
  let signature = '';
  const streamsSignature = () => store.listStreams().map((s) => `${s.streamId}:${s.status}:${s.version}`).join('|');
  let watcher: NodeJS.Timeout | undefined;
  const startLive = () => {
    if (live) return;
    signature = streamsSignature();
    live = store.subscribe({ after: store.headPosition(), pollIntervalMs: options.pollIntervalMs ?? 200 }).subscribe({
      next: (r) => broadcast('append', { streamId: r.streamId, ...eventRow(r) }),
      error: () => undefined,
    });
    // status changes are not events: compare the stream list now and then
    watcher = setInterval(() => {
      const next = streamsSignature();
      if (next !== signature) (signature = next), broadcast('streams', { head: store.headPosition() });
    }, options.pollIntervalMs ?? 200);
  };
  const stopLive = () => {
    live?.unsubscribe();
    live = undefined;
    if (watcher) clearInterval(watcher);
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    if (req.method !== 'GET') return send(res, 405, { error: { code: 'INVALID_OPTIONS', message: 'GET only' } });
    if (path === '/api/live') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(`event: hello\ndata: ${JSON.stringify({ head: store.headPosition() })}\n\n`);
      clients.add(res);
      startLive();
      req.on('close', () => {
        clients.delete(res);
        if (clients.size === 0) stopLive();
      });
      return;
    }
    if (path === '/api/info') return send(res, 200, api.info(options.db));
    if (path === '/api/streams') return send(res, 200, api.streams(url.searchParams));
    if (path === '/api/service') return send(res, 200, await api.service(url.searchParams));
    const m = /^\/api\/stream\/([^/]+)(?:\/(events|at)(?:\/(\d+))?)?$/.exec(path);
    if (m) {
      const id = decodeURIComponent(m[1]!);
      if (!m[2]) return send(res, 200, await api.streamInfo(id));
      if (m[2] === 'events') return send(res, 200, await api.events(id, url.searchParams));
      if (m[3] !== undefined) return send(res, 200, await api.at(id, Number(m[3])));
    }
    if (path.startsWith('/api/')) return send(res, 404, { error: { code: 'INVALID_OPTIONS', message: `no such API: ${path}` } });
    const asset = await assets.get(path === '/' ? '/index.html' : path);
    if (!asset) return send(res, 404, { error: { code: 'INVALID_OPTIONS', message: `no such file: ${path}` } });
    res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache' });
    res.end(asset.body);
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      const code = isActorlogError(err) ? err.code : 'INTERNAL';
      if (!res.headersSent) send(res, STATUS_OF[code] ?? 500, { error: { code, message: (err as Error)?.message ?? String(err) } });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => (server.off('error', reject), resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        stopLive();
        for (const res of clients) res.end();
        clients.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

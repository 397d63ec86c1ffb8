import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { AddressInfo, Socket } from 'node:net';
import { describeError, isActorlogError } from '../../src/errors.ts';
import type { LogStore } from '../../src/log/types.ts';
import type { Assets } from './assets.ts';
import { allowedHost } from './hostCheck.ts';
import { LiveFeed } from './liveFeed.ts';
import type { StreamListing } from './streamList.ts';
import type { StreamReads } from './streamReads.ts';

/** Options of {@link startViewServer}. */
export interface ViewServerOptions {
  /** The stream list and the log's head (cheap reads, answered on the server's thread). */
  listing: StreamListing;
  /** The reads that fold: a `ViewApi` in this thread, or a worker's (cli/view/workerReads.ts). */
  reads: StreamReads;
  assets: Assets;
  /** The log file's name, shown in the page. */
  db: string;
  /** 0 (default): a free port. */
  port?: number;
  /** How often the live feed looks for events other processes appended (ms). @default 200 */
  pollIntervalMs?: number;
  /** Most `/api/live` clients at once. @default 32 */
  maxLiveClients?: number;
  /** A client must send its whole request head within this time (ms), else it gets 408 and is closed. @default 10000 */
  headersTimeoutMs?: number;
  /** Told of each refused request once per reason and host (a stranger `Host`, too many live clients). */
  onRefused?(line: string): void;
}

/** A running viewer: its URL and how to stop it. */
export interface ViewServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const STATUS_OF: Record<string, number> = { STREAM_NOT_FOUND: 404, INVALID_OPTIONS: 400, TRANSIENT: 503 };

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

const fail = (res: ServerResponse, status: number, code: string, message: string, headers?: Record<string, string>) =>
  send(res, status, { error: { code, message } }, headers);

/**
 * Serves the viewer on 127.0.0.1: the page's assets, a JSON API of bounded reads and `GET /api/live`
 * ({@link LiveFeed}). Safe to leave open: it answers only requests whose `Host` is this server
 * (`127.0.0.1`, `localhost` or `[::1]` with its port: a page elsewhere that re-points its own name
 * at 127.0.0.1, DNS rebinding, gets 421 and reads nothing), at most `maxLiveClients` live feeds (one
 * more gets 503, `TRANSIENT`), and a client that trickles its request head is cut off after
 * `headersTimeoutMs` (408). Refusals are told to `onRefused`.
 *
 * @throws the `listen` error (e.g. `EADDRINUSE`) as a rejection
 */
export async function startViewServer(store: LogStore, options: ViewServerOptions): Promise<ViewServer> {
  const { listing, reads, assets } = options;
  const feed = new LiveFeed(store, { pollIntervalMs: options.pollIntervalMs ?? 200, maxClients: options.maxLiveClients });
  const told = new Set<string>();
  const refuse = (key: string, line: string) => {
    if (told.has(key) || told.size > 1_000) return;
    told.add(key);
    options.onRefused?.(line);
  };
  let port = 0;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = req.headers.host;
    if (!allowedHost(host, port)) {
      refuse(
        `host:${host}`,
        `refused a request for Host ${JSON.stringify(host ?? '')}: only 127.0.0.1:${port}, localhost:${port} or [::1]:${port} (INVALID_OPTIONS)`,
      );
      return fail(res, 421, 'INVALID_OPTIONS', `this viewer answers only Host 127.0.0.1:${port}, localhost:${port} or [::1]:${port}`);
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    const query = url.searchParams.toString();
    if (req.method !== 'GET') return fail(res, 405, 'INVALID_OPTIONS', 'GET only');
    if (path === '/api/live') {
      if (feed.full) {
        refuse('live:full', `refused a live client: ${feed.size} are connected, the most allowed (TRANSIENT)`);
        return fail(res, 503, 'TRANSIENT', `too many live clients (${feed.size}); close another viewer tab`, { 'retry-after': '5' });
      }
      return feed.add(res);
    }
    if (path === '/api/info') return send(res, 200, await listing.info(options.db));
    if (path === '/api/streams') return send(res, 200, await listing.streams(url.searchParams));
    if (path === '/api/service') return send(res, 200, await reads.service(query));
    if (path === '/api/export') return download(res, url.searchParams);
    const m = /^\/api\/stream\/([^/]+)(?:\/(events|at|definition|kinds|sequence)(?:\/(\d+))?)?$/.exec(path);
    if (m) {
      const id = decodeURIComponent(m[1]!);
      const actor = url.searchParams.get('actor') ?? '';
      switch (m[2]) {
        case undefined:
          return send(res, 200, await reads.streamInfo(id));
        case 'events':
          return send(res, 200, await reads.events(id, query));
        case 'kinds':
          return send(res, 200, await reads.kinds(id));
        case 'sequence':
          return send(res, 200, await reads.sequence(id, query));
        case 'definition':
          return send(res, 200, await reads.definition(id, actor, Number(url.searchParams.get('v') ?? 0)));
        case 'at':
          if (m[3] !== undefined) return send(res, 200, await reads.at(id, Number(m[3]), actor));
      }
    }
    if (path.startsWith('/api/')) return fail(res, 404, 'INVALID_OPTIONS', `no such API: ${path}`);
    const asset = await assets.get(path === '/' ? '/index.html' : path);
    if (!asset) return fail(res, 404, 'INVALID_OPTIONS', `no such file: ${path}`);
    res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache' });
    res.end(asset.body);
  }

  /** `GET /api/export?stream=a&stream=b&to=N`: the streams up to global position N as a log file (`exportLog`), sent as an attachment. */
  async function download(res: ServerResponse, params: URLSearchParams): Promise<void> {
    const streams = params.getAll('stream').filter((s) => s !== '');
    const to = params.get('to');
    const dir = await mkdtemp(join(tmpdir(), 'actorlog-view-export-'));
    try {
      const file = join(dir, 'export.actorlog');
      await reads.exportTo(file, streams, to === null || to === '' ? undefined : Number(to));
      const name = `${(streams[0] ?? 'log').replace(/[^\w.-]+/g, '_')}${streams.length > 1 ? `+${streams.length - 1}` : ''}${to ? `-to-${Number(to)}` : ''}.actorlog`;
      res.writeHead(200, { 'content-type': 'application/vnd.sqlite3', 'content-disposition': `attachment; filename="${name}"`, 'cache-control': 'no-store' });
      await pipeline(createReadStream(file), res);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  const server = createServer(
    { headersTimeout, requestTimeout: headersTimeout * 2, connectionsCheckingInterval: Math.min(1_000, headersTimeout) },
    (req, res) => {
      route(req, res).catch((err: unknown) => {
        const code = isActorlogError(err) ? err.code : 'INTERNAL';
        if (!res.headersSent) fail(res, STATUS_OF[code] ?? 500, code, describeError(err).message);
        else res.end();
      });
    },
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT')
      refuse(`timeout:${(socket as Socket).remoteAddress}`, `cut off a client that did not send its request within ${headersTimeout} ms (INVALID_OPTIONS)`);
    if (socket.writable) socket.end('HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => (server.off('error', reject), resolve()));
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        feed.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

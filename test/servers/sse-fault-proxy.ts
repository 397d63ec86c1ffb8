import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * Faults the proxy injects into event streams (`text/event-stream` responses) whose request path
 * matches `path` (and method, when given). Each fault is used once, then cleared; set them again to re-arm.
 */
export interface SseFaults {
  /** Destroy the client connection after this many events were forwarded (a dropped stream). */
  drop?: { path: RegExp; method?: string; afterEvents: number };
  /** Insert `frame` (a malformed one by default) after this many events were forwarded. */
  malformed?: { path: RegExp; method?: string; afterEvents: number; frame?: string };
  /** Answer the next `times` matching requests (any content type) with `status` (and `Retry-After`, when given) without forwarding them. */
  fail?: { path: RegExp; method?: string; status: number; times: number; retryAfter?: string };
  /** Send the next `bytes` matching SSE event (its `data:` padded to this many bytes) instead of the real one: an event over a parser's buffer. */
  oversized?: { path: RegExp; method?: string; afterEvents: number; bytes: number };
  /** Send event number `afterEvents` twice, as is (its id or durable seq reused: a server that re-sends an event). */
  repeat?: { path: RegExp; method?: string; afterEvents: number };
}

/** A running proxy. */
export interface SseFaultProxy {
  /** `http://127.0.0.1:<port>`: use it instead of the target's URL. */
  url: string;
  /** Live fault settings. */
  faults: SseFaults;
  /** Faults that fired, in order (`drop /event`, `malformed /mcp`). */
  fired: string[];
  /** Every request forwarded: method, path (with query) and its `Last-Event-ID` header. */
  requests: Array<{ method: string; path: string; lastEventId?: string }>;
  close(): Promise<void>;
}

/** The default malformed frame: a JSON object cut short. */
export const MALFORMED_FRAME = 'data: {"type":"session.status","properties":{"sessionID":\n\n';

/**
 * A small HTTP proxy on 127.0.0.1 in front of a real server (OpenCode, an MCP server): it forwards
 * every request as is and, for event streams, counts the events it forwards (frames ending in a
 * blank line that have a `data:` field) so a test can drop the connection, slip a malformed frame
 * in, or send an event twice at a chosen point. Nothing else is changed: headers, bodies and auth pass through.
 *
 * @example
 * ```ts
 * const proxy = await startSseFaultProxy(opencode.url);
 * proxy.faults.drop = { path: /\/event/, afterEvents: 3 };
 * ```
 */
export async function startSseFaultProxy(target: string): Promise<SseFaultProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  const state: SseFaultProxy = { url: '', faults: {}, fired: [], requests: [], close: async () => undefined };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    const lastEventId = req.headers['last-event-id'];
    state.requests.push({ method: req.method ?? 'GET', path, ...(typeof lastEventId === 'string' ? { lastEventId } : {}) });
    const fail = state.faults.fail;
    if (fail && fail.times > 0 && fail.path.test(path) && (!fail.method || fail.method === req.method)) {
      if (--fail.times === 0) delete state.faults.fail;
      state.fired.push(`fail ${fail.status} ${path}`);
      req.resume();
      res.writeHead(fail.status, { 'content-type': 'text/plain', ...(fail.retryAfter ? { 'retry-after': fail.retryAfter } : {}) }).end('injected failure');
      return;
    }
    const proxied = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      const isStream = String(up.headers['content-type'] ?? '').startsWith('text/event-stream');
      const matches = (f?: { path: RegExp; method?: string }) => isStream && f !== undefined && f.path.test(path) && (!f.method || f.method === req.method);
      const drop = matches(state.faults.drop) ? state.faults.drop : undefined;
      const bad = matches(state.faults.malformed) ? state.faults.malformed : undefined;
      const big = matches(state.faults.oversized) ? state.faults.oversized : undefined;
      const again = matches(state.faults.repeat) ? state.faults.repeat : undefined;
      if (drop) delete state.faults.drop;
      if (bad) delete state.faults.malformed;
      if (big) delete state.faults.oversized;
      if (again) delete state.faults.repeat;
      if (!drop && !bad && !big && !again) {
        up.pipe(res);
        return;
      }
      let buffer = '';
      let events = 0;
      up.setEncoding('utf8');
      up.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const sep = /\r?\n\r?\n/.exec(buffer.slice(end))![0];
          const frame = buffer.slice(0, end + sep.length);
          buffer = buffer.slice(end + sep.length);
          if (res.destroyed) return;
          res.write(frame);
          if (/^data:/m.test(frame)) events += 1;
          if (again && events === again.afterEvents && /^data:/m.test(frame)) {
            res.write(frame);
            state.fired.push(`repeat ${path}`);
          }
          if (bad && events === bad.afterEvents) {
            res.write(bad.frame ?? MALFORMED_FRAME);
            state.fired.push(`malformed ${path}`);
          }
          if (big && events === big.afterEvents) {
            res.write(`data: {"type":"oversized","pad":"${'x'.repeat(big.bytes)}"}\n\n`);
            state.fired.push(`oversized ${path}`);
          }
          if (drop && events === drop.afterEvents) {
            state.fired.push(`drop ${path}`);
            res.socket?.destroy();
            up.destroy();
            return;
          }
        }
      });
      up.on('end', () => {
        if (!res.destroyed) res.end(buffer);
      });
      up.on('error', () => res.destroy());
    });
    proxied.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    res.on('close', () => proxied.destroy());
    req.pipe(proxied);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return state;
}

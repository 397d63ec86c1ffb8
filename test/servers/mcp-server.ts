import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { z } from 'zod';

/** Options of {@link startMcpServer}. */
export interface McpTestServerOptions {
  /** Delay between two progress notifications of the `count` tool, ms, unless the call says otherwise. @default 50 */
  stepMs?: number;
  /** SSE keep-alive comment interval of the SDK transport, ms. @default 15000 (the SDK's) */
  keepAliveMs?: number;
  /** The `retry:` the SDK puts in its priming events, ms. */
  retryInterval?: number;
  /** Hold the first POST of each `tools/call` id this long (ms) before the SDK sees it: no byte of its answer (not even the priming event) goes out meanwhile, so a test can kill the caller in that window. The held call is then handled (the tool runs). */
  holdFirstCallMs?: number;
}

/** Counters since start. */
export interface McpTestServerStats {
  sessions: number;
  /** Sessions ended by DELETE. */
  deleted: number;
  /** `count` calls started, by JSON-RPC request id: a value above 1 means the tool ran twice. */
  toolRuns: Record<string, number>;
  /** `count` calls that saw their request cancelled (notifications/cancelled). */
  cancelled: number;
  /** `tools/call` POSTs received, by JSON-RPC request id (counted on arrival, before any hold). */
  callsReceived: Record<string, number>;
}

/** Faults armed at run time (live object): each count is decremented as it is used. */
export interface McpTestServerFaults {
  /** `tools/call` POSTs whose answer is lost: the SDK takes the call (the tool runs), the client's connection is destroyed before any byte of the answer. */
  loseAnswers?: number;
  /** `initialize` POSTs whose answer is lost: the SDK makes the session, the client's connection is destroyed before any byte of the answer. */
  loseInitializeAnswers?: number;
  /** `initialize` POSTs answered 200 JSON with a session id and a body cut short (not JSON-RPC). */
  malformedInitialize?: number;
  /** `initialize` POSTs answered with event-stream headers, then a byte every 20 ms for ever (never an event). */
  dripInitialize?: number;
  /** The next `times` POSTs are answered `status` (with `Retry-After`, when given) without reaching the SDK. */
  fail?: { status: number; times: number; retryAfter?: string };
  /**
   * The next N events stored (any stream) get the SSE id of the event stored before them, instead of
   * a new one: a server that reuses event ids (MCP requires them unique within a session).
   */
  reuseEventIds?: number;
}

/** The SDK example's event store, whose ids can be reused on demand (`faults.reuseEventIds`). */
class FaultyEventStore extends InMemoryEventStore {
  private last: string | undefined;
  constructor(private readonly faults: McpTestServerFaults) {
    super();
  }
  override async storeEvent(...args: Parameters<InMemoryEventStore['storeEvent']>): Promise<string> {
    const id = await super.storeEvent(...args);
    if (this.last !== undefined && (this.faults.reuseEventIds ?? 0) > 0) {
      this.faults.reuseEventIds! -= 1;
      return this.last;
    }
    this.last = id;
    return id;
  }
}

/** A running MCP server. */
export interface McpTestServer {
  /** The Streamable HTTP endpoint, `http://127.0.0.1:<port>/mcp`. */
  url: string;
  /** Live faults (see {@link McpTestServerFaults}). */
  faults: McpTestServerFaults;
  stats(): McpTestServerStats;
  close(): Promise<void>;
}

/**
 * A real MCP server built with `@modelcontextprotocol/sdk` (PEERS.md): one `McpServer` and one
 * `StreamableHTTPServerTransport` per session (`mcp-session-id`), each with the SDK's example
 * `InMemoryEventStore`, so streams are resumable with `Last-Event-ID` and start with a priming
 * event (protocol 2025-11-25). Its tool `count { n, stepMs? }` sends `notifications/progress`
 * 1..n over time (to the request's progress token) and answers `Counted to n`; it stops when the
 * request is cancelled. `echo { text }` answers at once. DELETE /mcp ends a session (later requests:
 * 404, JSON-RPC -32001). `holdFirstCallMs` and `faults.loseAnswers` open the window between a
 * `tools/call` POST and its first SSE event. The routing follows the SDK's `simpleStreamableHttp` example.
 *
 * @example
 * ```ts
 * const mcp = await startMcpServer({ stepMs: 100 });
 * // POST mcp.url initialize …
 * await mcp.close();
 * ```
 */
export async function startMcpServer(options: McpTestServerOptions = {}): Promise<McpTestServer> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const stats: McpTestServerStats = { sessions: 0, deleted: 0, toolRuns: {}, cancelled: 0, callsReceived: {} };
  const faults: McpTestServerFaults = {};
  const sockets = new Set<Socket>();

  function mcpServer(): McpServer {
    const server = new McpServer({ name: 'actorlog-test-mcp', version: '1.0.0' }, { capabilities: { logging: {} } });
    server.registerTool(
      'count',
      {
        description: 'Count to n, with a progress notification per step',
        inputSchema: { n: z.number().int().min(1).max(1000), stepMs: z.number().int().min(0).max(10_000).optional() },
      },
      async ({ n, stepMs }, extra) => {
        const id = String(extra.requestId);
        stats.toolRuns[id] = (stats.toolRuns[id] ?? 0) + 1;
        for (let i = 1; i <= n; i++) {
          await new Promise((r) => setTimeout(r, stepMs ?? options.stepMs ?? 50));
          if (extra.signal.aborted) {
            stats.cancelled += 1;
            throw new Error('cancelled');
          }
          if (extra._meta?.progressToken !== undefined) {
            await extra.sendNotification({
              method: 'notifications/progress',
              params: { progressToken: extra._meta.progressToken, progress: i, total: n, message: `step ${i} of ${n}` },
            });
          }
        }
        return { content: [{ type: 'text', text: `Counted to ${n}` }] };
      },
    );
    server.registerTool('echo', { description: 'Echo a text', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
    server.registerTool(
      'big',
      {
        description: 'Answer a text of `bytes` bytes (results over 1 MiB)',
        inputSchema: {
          bytes: z
            .number()
            .int()
            .min(1)
            .max(64 * 1024 * 1024),
        },
      },
      async ({ bytes }) => ({ content: [{ type: 'text', text: 'b'.repeat(bytes) }] }),
    );
    return server;
  }

  async function readJson(req: IncomingMessage): Promise<unknown> {
    let body = '';
    for await (const chunk of req) body += chunk;
    try {
      return body ? JSON.parse(body) : undefined;
    } catch {
      return body;
    }
  }

  const notFound = (res: ServerResponse) =>
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    const sessionId = req.headers['mcp-session-id'] as string | undefined;
    const existing = sessionId ? transports.get(sessionId) : undefined;
    if (req.method === 'POST') {
      const body = await readJson(req);
      const call = body as { method?: unknown; id?: unknown } | undefined;
      if (faults.fail && faults.fail.times > 0) {
        const { status, retryAfter } = faults.fail;
        if (--faults.fail.times === 0) delete faults.fail;
        res.writeHead(status, { 'content-type': 'text/plain', ...(retryAfter ? { 'retry-after': retryAfter } : {}) }).end('injected failure');
        return;
      }
      if (call?.method === 'initialize' && (faults.malformedInitialize ?? 0) > 0) {
        faults.malformedInitialize! -= 1;
        res
          .writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': randomUUID() })
          .end('{"jsonrpc":"2.0","id":"initialize","result":{"protocolVer');
        return;
      }
      if (call?.method === 'initialize' && (faults.loseInitializeAnswers ?? 0) > 0) {
        faults.loseInitializeAnswers! -= 1;
        const writeHead = res.writeHead.bind(res);
        res.writeHead = ((...args: Parameters<typeof res.writeHead>) => {
          res.socket?.destroy();
          return writeHead(...args);
        }) as typeof res.writeHead;
      }
      if (call?.method === 'initialize' && (faults.dripInitialize ?? 0) > 0) {
        faults.dripInitialize! -= 1;
        res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': randomUUID() });
        res.flushHeaders();
        const t = setInterval(() => res.write('d'), 20); // "ddd…": an event that never ends
        res.on('close', () => clearInterval(t));
        return;
      }
      if (existing && call?.method === 'tools/call') {
        const id = String(call.id);
        stats.callsReceived[id] = (stats.callsReceived[id] ?? 0) + 1;
        if (options.holdFirstCallMs && stats.callsReceived[id] === 1) await new Promise((r) => setTimeout(r, options.holdFirstCallMs));
        if ((faults.loseAnswers ?? 0) > 0) {
          faults.loseAnswers! -= 1;
          const writeHead = res.writeHead.bind(res);
          res.writeHead = ((...args: Parameters<typeof res.writeHead>) => {
            res.socket?.destroy();
            return writeHead(...args);
          }) as typeof res.writeHead;
        }
      }
      if (existing) {
        await existing.handleRequest(req, res, body);
        return;
      }
      if (sessionId) {
        notFound(res);
        return;
      }
      if (!isInitializeRequest(body)) {
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: No valid session ID provided' }, id: null }));
        return;
      }
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        eventStore: new FaultyEventStore(faults),
        keepAliveMs: options.keepAliveMs,
        retryInterval: options.retryInterval,
        onsessioninitialized: (id) => {
          transports.set(id, transport);
          stats.sessions += 1;
        },
      });
      transport.onclose = () => {
        if (transport.sessionId && transports.delete(transport.sessionId)) stats.deleted += 1;
      };
      await mcpServer().connect(transport);
      await transport.handleRequest(req, res, body);
      return;
    }
    if (!existing) {
      notFound(res);
      return;
    }
    await existing.handleRequest(req, res);
  }

  const http = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: String(err) }, id: null }));
    });
  });
  http.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    faults,
    stats: () => structuredClone(stats),
    close: async () => {
      for (const t of transports.values()) await t.close().catch(() => undefined);
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

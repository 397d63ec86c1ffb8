import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { encodeBackendCursor } from '../../machines/yoi/target.ts';

/**
 * A yoi Workspace Backend for tests and examples, faithful to what seed 004's client expects:
 * GET /api/runtimes/:rid/workers/:wid/transcript?start=0&limit=512 -> `{ items, diagnostics }`;
 * POST …/input `{ kind, content }`, …/cancel and …/stop `{ reason }` -> `{ state, diagnostics }`;
 * the observation WebSocket …/events/ws[?cursor=bo_<16 hex>] with frames
 * `{ kind: 'event', envelope: { cursor, runtime_id, worker_id, payload } }` and
 * `{ kind: 'diagnostic', diagnostic: { code, message } }`. Without a cursor a connection starts
 * with a `snapshot` event (cursor = the head); with one it replays every retained event after it,
 * then goes live; a cursor older than the retention (or unknown) gets the diagnostic
 * `backend.cursor_unknown_or_expired` and the socket is closed. An input makes the worker answer
 * (`user_message`, `text_delta`, `text_done`). Every worker id exists. Faults are consumed in order.
 *
 * As strict as seed 004 shows its backend, no more lenient: an `Idempotency-Key` is recorded but
 * not honoured (a repeated command runs again: the seed never sends one); it can run a command and
 * answer it late (`slowCommands`), fail commands, send a transcript over 1 MiB (`bigTranscript`),
 * and send events that share one malformed cursor (`malformedCursor`); the transcript has
 * only `items` and `diagnostics` unless `transcriptCursor` is set (then also `cursor`, the
 * observation cursor of the last event it covers: our extension, see docs/connections.md).
 */
export interface YoiFaults {
  /** Statuses for the next transcript GETs. */
  transcript?: number[];
  /** Run after the next transcript answers were sent (e.g. emit events before the WebSocket opens). */
  afterTranscript?: Array<() => void>;
  /** Statuses for the next WebSocket upgrades (rejected with that HTTP status). */
  upgrade?: number[];
  /** Per new connection: destroy the socket (a drop, 1006) after this many frames. */
  dropAfterFrames?: number[];
  /** Per new connection: close it with this code right after it opens. */
  closeCode?: number[];
  /** Next event broadcasts: also re-send the frame (a duplicate). */
  duplicateFrame?: number;
  /** Next event broadcasts: first send a frame for another worker. */
  foreignFrame?: number;
  /** Next event broadcasts: first send a frame that is not JSON. */
  malformedFrame?: number;
  /** Next event broadcasts: sent with the cursor `bogus-cursor`. */
  malformedCursor?: number;
  /** Next event broadcasts: sent with the cursor `bo_ffffffffffffffff` (the largest u64). */
  maxCursor?: number;
  /**
   * The next commands (input, cancel, stop) are run at once but answered this many ms later (past
   * the client's deadline the client cannot know the command ran). Consumed in order.
   */
  slowCommands?: number[];
  /** The next transcript answers carry one assistant item of this many bytes (over 1 MiB: a big body is ordinary). */
  bigTranscript?: number[];
  /** Answers of the next inputs / lifecycle calls: an HTTP status, a result, or a body that is not JSON. */
  input?: Array<number | { state: string; diagnostics?: Array<{ code: string; message: string }> } | 'malformed'>;
  lifecycle?: Array<number | { state: string; diagnostics?: Array<{ code: string; message: string }> } | 'malformed'>;
}

export interface YoiServerOptions {
  port?: number;
  /** Answer WebSocket pings (false: a stalled server). @default true */
  autoPong?: boolean;
  /** Events retained per worker; older ones expire. @default 1000 */
  retention?: number;
  /** Require `Authorization: Bearer <token>` on every request and upgrade. */
  token?: string;
  /** Add `cursor` (the head's observation cursor) to the transcript projection. @default false (seed 004's projection has none) */
  transcriptCursor?: boolean;
  /** The sequence a new worker's head starts at (its first event gets the next one); a u64. @default 0n */
  firstSeq?: bigint;
  faults?: YoiFaults;
}

export interface YoiStats {
  connections: Array<{ runtimeId: string; workerId: string; cursor: string | null }>;
  transcripts: number;
  commands: Array<{ op: 'input' | 'cancel' | 'stop'; body: unknown; key?: string }>;
  /** Slow command answers written so far (an answer to a client that gave up is still written). */
  lateAnswers: number;
  duplicateKeys: number;
  rejected: number;
}

export interface YoiServerHandle {
  /** The Backend API root, `http://127.0.0.1:<port>`. */
  url: string;
  faults: YoiFaults;
  stats: YoiStats;
  /** Appends a worker event and sends it to the live observers; returns its cursor. */
  emit(runtimeId: string, workerId: string, payload: Record<string, unknown>): string;
  /** Sets a worker's transcript projection. */
  setTranscript(
    runtimeId: string,
    workerId: string,
    transcript: { items: Array<{ role: string; content: string }>; diagnostics?: Array<{ code: string; message: string }> },
  ): void;
  /** Expires every retained event up to `seq` (cursors at or before seq - 1 become expired). */
  expire(runtimeId: string, workerId: string, seq: number | bigint): void;
  /** Open observation sockets of a worker. */
  observers(runtimeId: string, workerId: string): number;
  /** Destroys every observation socket (a network drop). */
  dropAll(): void;
  close(): Promise<void>;
}

interface Worker {
  seq: bigint;
  events: Array<{ seq: bigint; payload: Record<string, unknown> }>;
  floor: bigint;
  transcript: { items: Array<{ role: string; content: string }>; diagnostics: Array<{ code: string; message: string }> };
  sockets: Set<WebSocket>;
}

export async function startYoiServer(options: YoiServerOptions = {}): Promise<YoiServerHandle> {
  const faults: YoiFaults = options.faults ?? {};
  const retention = options.retention ?? 1000;
  const stats: YoiStats = { connections: [], transcripts: 0, commands: [], lateAnswers: 0, duplicateKeys: 0, rejected: 0 };
  const workers = new Map<string, Worker>();
  const keys = new Set<string>();
  const worker = (rid: string, wid: string): Worker => {
    const key = `${rid}\u0000${wid}`;
    let w = workers.get(key);
    if (!w)
      workers.set(
        key,
        (w = { seq: options.firstSeq ?? 0n, events: [], floor: (options.firstSeq ?? 0n) + 1n, transcript: { items: [], diagnostics: [] }, sockets: new Set() }),
      );
    return w;
  };
  const route = (url: URL) => {
    const m = /^\/api\/runtimes\/([^/]+)\/workers\/([^/]+)\/(transcript|input|cancel|stop|events\/ws)$/.exec(url.pathname);
    return m ? { rid: decodeURIComponent(m[1]), wid: decodeURIComponent(m[2]), op: m[3] } : undefined;
  };
  const authorized = (req: IncomingMessage) => !options.token || req.headers.authorization === `Bearer ${options.token}`;
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const frame = (rid: string, wid: string, cursor: string, payload: unknown) =>
    JSON.stringify({ kind: 'event', envelope: { cursor, runtime_id: rid, worker_id: wid, payload } });

  function emit(rid: string, wid: string, payload: Record<string, unknown>): string {
    const w = worker(rid, wid);
    const seq = (w.seq += 1n);
    w.events.push({ seq, payload });
    while (w.events.length > retention) w.floor = w.events.shift()!.seq + 1n;
    const cursor = encodeBackendCursor(seq);
    for (const ws of w.sockets) {
      if (faults.foreignFrame && faults.foreignFrame-- > 0) send(ws, frame(rid, `${wid}-other`, cursor, payload));
      if (faults.malformedFrame && faults.malformedFrame-- > 0) send(ws, '{"kind":"event","envelope":');
      const bad = faults.malformedCursor && faults.malformedCursor-- > 0;
      const max = faults.maxCursor && faults.maxCursor-- > 0;
      const text = frame(rid, wid, bad ? 'bogus-cursor' : max ? 'bo_ffffffffffffffff' : cursor, payload);
      send(ws, text);
      if (faults.duplicateFrame && faults.duplicateFrame-- > 0) send(ws, text);
    }
    return cursor;
  }

  const budget = new WeakMap<WebSocket, number>();
  function send(ws: WebSocket, text: string) {
    if (ws.readyState !== ws.OPEN) return;
    const left = budget.get(ws);
    if (left !== undefined) {
      if (left <= 0) return;
      budget.set(ws, left - 1);
    }
    ws.send(text);
    if (left === 1) setImmediate(() => ws.terminate());
  }

  const wss = new WebSocketServer({ noServer: true, autoPong: options.autoPong ?? true });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const r = route(url);
    if (!authorized(req)) return json(res, 401, { error: 'unauthorized' });
    if (!r || r.op === 'events/ws') return json(res, 404, { error: 'not found' });
    const w = worker(r.rid, r.wid);
    if (req.method === 'GET' && r.op === 'transcript') {
      stats.transcripts += 1;
      const status = faults.transcript?.shift();
      if (status) return json(res, status, { error: `injected ${status}` });
      const big = faults.bigTranscript?.shift();
      const transcript = big ? { ...w.transcript, items: [...w.transcript.items, { role: 'assistant', content: 'b'.repeat(big) }] } : w.transcript;
      json(res, 200, options.transcriptCursor ? { ...transcript, cursor: encodeBackendCursor(w.seq) } : transcript);
      faults.afterTranscript?.shift()?.();
      return;
    }
    if (req.method !== 'POST') return json(res, 405, { error: 'method not allowed' });
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const body = JSON.parse(text || 'null') as { kind?: string; content?: string; reason?: string | null };
      const op = r.op as 'input' | 'cancel' | 'stop';
      const key = req.headers['idempotency-key'] as string | undefined;
      stats.commands.push({ op, body, key });
      const fault = (op === 'input' ? faults.input : faults.lifecycle)?.shift();
      if (typeof fault === 'number') return json(res, fault, { error: `injected ${fault}` });
      if (fault === 'malformed') return json(res, 200, '<html>oops</html>');
      if (fault) return json(res, 200, { diagnostics: [], ...fault });
      if (key && keys.has(key)) stats.duplicateKeys += 1; // recorded, not honoured: the command runs again
      if (key) keys.add(key);
      const slow = faults.slowCommands?.shift();
      if (slow) {
        setTimeout(() => {
          stats.lateAnswers += 1;
          if (!res.destroyed) json(res, 200, { state: 'accepted', diagnostics: [] });
        }, slow);
      } else {
        json(res, 200, { state: 'accepted', diagnostics: [] });
      }
      if (op === 'input' && body?.kind === 'user') {
        emit(r.rid, r.wid, { type: 'user_message', segments: [{ type: 'text', text: body.content }] });
        setImmediate(() => {
          emit(r.rid, r.wid, { type: 'text_delta', text: `echo: ${body.content}` });
          emit(r.rid, r.wid, { type: 'text_done', text: `echo: ${body.content}` });
        });
      } else if (op === 'input') {
        emit(r.rid, r.wid, { type: 'alert', level: 'info', source: 'system', message: body?.content ?? '', timestamp_ms: 0 });
      } else {
        emit(r.rid, r.wid, { type: 'status', status: op === 'cancel' ? 'cancelled' : 'stopped', reason: body?.reason ?? null });
      }
    });
  });

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const r = route(url);
    const status = !authorized(req) ? 401 : !r || r.op !== 'events/ws' ? 404 : faults.upgrade?.shift();
    if (status) {
      stats.rejected += 1;
      socket.end(`HTTP/1.1 ${status} Rejected\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const { rid, wid } = r!;
      const w = worker(rid, wid);
      const cursor = url.searchParams.get('cursor');
      stats.connections.push({ runtimeId: rid, workerId: wid, cursor });
      ws.on('error', () => {});
      const drop = faults.dropAfterFrames?.shift();
      if (drop !== undefined) budget.set(ws, drop);
      const close = faults.closeCode?.shift();
      if (close !== undefined) {
        ws.close(close, 'injected close');
        return;
      }
      if (cursor !== null) {
        const m = /^bo_([0-9a-fA-F]{16})$/.exec(cursor);
        const seq = m ? BigInt(`0x${m[1]}`) : undefined;
        if (seq === undefined || seq + 1n < w.floor || seq > w.seq) {
          ws.send(
            JSON.stringify({
              kind: 'diagnostic',
              diagnostic: { code: 'backend.cursor_unknown_or_expired', message: `cursor ${cursor} is unknown or expired` },
            }),
          );
          ws.close(1000, 'cursor expired');
          return;
        }
        w.sockets.add(ws);
        for (const e of w.events) if (e.seq > seq) send(ws, frame(rid, wid, encodeBackendCursor(e.seq), e.payload));
      } else {
        w.sockets.add(ws);
        send(
          ws,
          frame(rid, wid, encodeBackendCursor(w.seq), {
            type: 'snapshot',
            entries: [],
            greeting: {
              worker_name: wid,
              cwd: '/work',
              provider: 'yoi-test',
              model: 'test',
              scope_summary: '',
              tools: [],
              context_window: 0,
              context_tokens: 0,
            },
            status: 'idle',
            in_flight: { blocks: [] },
          }),
        );
      }
      ws.on('close', () => w.sockets.delete(ws));
    });
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    faults,
    stats,
    emit,
    setTranscript(rid, wid, transcript) {
      worker(rid, wid).transcript = { items: transcript.items, diagnostics: transcript.diagnostics ?? [] };
    },
    expire(rid, wid, seq) {
      const w = worker(rid, wid);
      const at = BigInt(seq);
      w.events = w.events.filter((e) => e.seq > at);
      if (at + 1n > w.floor) w.floor = at + 1n;
    },
    observers: (rid, wid) => [...worker(rid, wid).sockets].filter((s) => s.readyState === s.OPEN).length,
    dropAll() {
      for (const w of workers.values()) for (const ws of w.sockets) ws.terminate();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

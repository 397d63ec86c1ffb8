import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A molecule platform for tests and examples, faithful to the endpoints of seed 003
 * (`internal/connect/client.go`): POST /registry/register, POST /registry/heartbeat,
 * GET /workspaces/:id/activity?type=a2a_receive&since_id=&limit=, POST /workspaces/:id/a2a, all
 * with `Authorization: Bearer <token>` (401 otherwise). Activity rows get ids `act-000001`…; a
 * `since_id` that is not (or no longer) retained answers 410 Gone (the cursor was pruned); no
 * `since_id` answers the latest `limit` rows. It also hosts a durable test backend
 * (POST /_backend/dispatch) that executes each idempotency key once.
 *
 * As strict as a real platform: it can fail replies (`faults.reply`, every attempt counted in
 * `stats.replyAttempts`), answer slower than the client's timeout after taking the request
 * (`faults.slow`), send an activity answer over 1 MiB (`faults.bigBody`), and senders may reuse
 * one A2A messageId (`addMessage(…, { messageId })`).
 */

/** Faults, consumed in order: each list entry answers one call of that endpoint (then 200). */
export interface MoleculeFaults {
  register?: number[];
  heartbeat?: number[];
  /**
   * `malformed`: a 200 body that is not JSON; `badRow`: one row whose `status` is a number (a type
   * Go's decoder rejects) before the real rows; `empty` / `null`: a 200 with an empty body / `null`;
   * `{ status, body }`: that status with that body text.
   */
  activity?: Array<number | 'malformed' | 'badRow' | 'empty' | 'null' | { status: number; body: string }>;
  reply?: number[];
  /** Message ids whose backend dispatch is executed and recorded, but never answered (the caller hangs). */
  holdDispatch?: string[];
  /** Message ids (`in_reply_to`) whose reply is recorded, but never answered. */
  holdReply?: string[];
  /** Every backend dispatch answers after this long (ms). Not consumed. */
  dispatchDelayMs?: number;
  /**
   * Slow answers, per endpoint: each entry delays one call's answer by that many ms (past the
   * client's timeout, the call is cut while the platform has taken it: a reply is then recorded
   * although the client saw a timeout). Consumed in order.
   */
  slow?: Partial<Record<'register' | 'heartbeat' | 'activity' | 'reply', number[]>>;
  /** The next this-many activity answers are a valid JSON array over 1 MiB (a row with a 1.5 MiB summary first). */
  bigBody?: number;
  /** The next activity answers drip: one byte every this many ms (an answer that never quite stalls). Consumed in order. */
  drip?: number[];
  /** The `Retry-After` header sent with the injected `reply` (and `register`, `heartbeat`) failures. Not consumed. */
  retryAfter?: string;
}

/** Options of {@link startMoleculeServer}. */
export interface MoleculeServerOptions {
  token?: string;
  port?: number;
  faults?: MoleculeFaults;
}

/** What the server saw. */
export interface MoleculeStats {
  registrations: Array<{ workspaceId: string; body: unknown }>;
  /** Heartbeats by time received (ms since epoch). */
  heartbeats: Array<{ workspaceId: string; at: number }>;
  activityCalls: Array<{ workspaceId: string; sinceId: string | null; limit: string | null; status: number }>;
  /** Every reply POST, failed or not, in order (`status`: what it was answered). */
  replyAttempts: Array<{ to: string; id: string; status: number }>;
  /** Replies, first copy of each envelope id. */
  replies: Array<{ to: string; envelope: { id?: string; params?: { message?: { parts?: Array<{ text?: string }>; metadata?: { in_reply_to?: string } } } } }>;
  duplicateReplies: number;
  /** Backend calls (every attempt) and executions (first call of each key). */
  dispatchCalls: Array<{ key: string; messageId: string; at: number }>;
  executions: Array<{ key: string; messageId: string; text: string }>;
  unauthorized: number;
}

export interface MoleculeServerHandle {
  url: string;
  token: string;
  faults: MoleculeFaults;
  stats: MoleculeStats;
  /**
   * Queues an `a2a_receive` row for `workspaceId`; `sourceId` null = from the canvas; `idempotencyKey`
   * in the A2A message metadata; `messageId` the A2A messageId (default `m-<row id>`; senders choose
   * theirs, so two senders may reuse one). Returns the row id.
   */
  addMessage(workspaceId: string, text: string, sourceId?: string | null, options?: { idempotencyKey?: string; messageId?: string }): string;
  /** Stores the request of row `rowId` again under a new row id (a platform re-delivery); returns the new id. */
  redeliver(workspaceId: string, rowId: string): string;
  /** Queues a row as given (fields missing or null, as a platform may send them); `id` is assigned. Returns it. */
  addRawRow(workspaceId: string, row: Record<string, unknown>): string;
  /** Drops the oldest `count` rows of a workspace (their ids then answer 410 as `since_id`). */
  prune(workspaceId: string, count: number): void;
  /** Answers every held request (dispatch and reply) now. */
  release(): void;
  close(): Promise<void>;
}

interface Row {
  id: string;
  [field: string]: unknown;
}

export async function startMoleculeServer(options: MoleculeServerOptions = {}): Promise<MoleculeServerHandle> {
  const token = options.token ?? 'molecule-test-token';
  const faults: MoleculeFaults = options.faults ?? {};
  const stats: MoleculeStats = {
    registrations: [],
    heartbeats: [],
    activityCalls: [],
    replyAttempts: [],
    replies: [],
    duplicateReplies: 0,
    dispatchCalls: [],
    executions: [],
    unauthorized: 0,
  };
  const rows = new Map<string, Row[]>();
  const replyIds = new Set<string>();
  const executed = new Map<string, string>();
  const held: Array<() => void> = [];
  let seq = 0;

  const json = (res: ServerResponse, status: number, body?: unknown) => {
    const retry = status >= 400 && faults.retryAfter !== undefined ? { 'retry-after': faults.retryAfter } : {};
    res.writeHead(status, { 'content-type': 'application/json', ...retry });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  /** Writes `text` one byte every `ms` (stops when the client goes). */
  const drip = (res: ServerResponse, text: string, ms: number) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const bytes = Buffer.from(text);
    let i = 0;
    const timer = setInterval(() => {
      if (res.destroyed || i >= bytes.length) {
        clearInterval(timer);
        if (!res.destroyed) res.end();
        return;
      }
      res.write(bytes.subarray(i, ++i));
    }, ms);
  };
  const readBody = (req: IncomingMessage) =>
    new Promise<unknown>((resolve) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        try {
          resolve(text ? JSON.parse(text) : undefined);
        } catch {
          resolve(undefined);
        }
      });
    });
  const hold = (res: ServerResponse, answer: () => void) =>
    held.push(() => {
      if (!res.writableEnded && !res.destroyed) answer();
    });
  /** Runs `answer` now, or after the next slow delay of `endpoint` (never on a socket the client closed). */
  const later = (endpoint: keyof NonNullable<MoleculeFaults['slow']>, res: ServerResponse, answer: () => void) => {
    const ms = faults.slow?.[endpoint]?.shift();
    if (!ms) return answer();
    setTimeout(() => {
      if (!res.writableEnded && !res.destroyed) answer();
    }, ms);
  };

  /** Answers one request (what it returns is the answer it wrote: nothing reads it). */
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    const url = new URL(req.url ?? '/', 'http://x');
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    if (url.pathname === '/_backend/dispatch') return backend(body as { key: string; messageId: string; text: string }, res);
    if (req.headers.authorization !== `Bearer ${token}`) {
      stats.unauthorized += 1;
      return json(res, 401, { error: 'unauthorized' });
    }
    const fault = (list?: number[]) => list?.shift();
    if (req.method === 'POST' && url.pathname === '/registry/register') {
      const b = body as { id?: string; delivery_mode?: string; agent_card?: { name?: string } } | undefined;
      const status = fault(faults.register);
      if (status) return json(res, status, { error: `injected ${status}` });
      if (!b?.id || b.delivery_mode !== 'poll' || !b.agent_card?.name) return json(res, 400, { error: 'bad register body' });
      stats.registrations.push({ workspaceId: b.id, body: b });
      return later('register', res, () => json(res, 200, { status: 'registered' }));
    }
    if (req.method === 'POST' && url.pathname === '/registry/heartbeat') {
      const b = body as { workspace_id?: string; runtime_state?: string } | undefined;
      const status = fault(faults.heartbeat);
      if (status) return json(res, status, { error: `injected ${status}` });
      if (!b?.workspace_id || b.runtime_state !== 'ok') return json(res, 400, { error: 'bad heartbeat body' });
      stats.heartbeats.push({ workspaceId: b.workspace_id, at: Date.now() });
      return later('heartbeat', res, () => json(res, 200, { status: 'ok' }));
    }
    const activity = /^\/workspaces\/([^/]+)\/activity$/.exec(url.pathname);
    if (req.method === 'GET' && activity) {
      const ws = decodeURIComponent(activity[1]);
      const sinceId = url.searchParams.get('since_id');
      const limit = Number(url.searchParams.get('limit') ?? 100);
      const f = faults.activity?.shift();
      const record = (status: number) => stats.activityCalls.push({ workspaceId: ws, sinceId, limit: url.searchParams.get('limit'), status });
      if (typeof f === 'number') {
        record(f);
        return json(res, f, { error: `injected ${f}` });
      }
      if (f === 'malformed') {
        record(200);
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end('<html>502 Bad Gateway</html>');
      }
      if (f === 'empty' || f === 'null') {
        record(200);
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(f === 'null' ? 'null' : '');
      }
      if (typeof f === 'object') {
        record(f.status);
        res.writeHead(f.status, { 'content-type': 'text/plain' });
        return res.end(f.body);
      }
      if (url.searchParams.get('type') !== 'a2a_receive') {
        record(400);
        return json(res, 400, { error: 'type must be a2a_receive' });
      }
      const all = rows.get(ws) ?? [];
      let page: Row[];
      if (sinceId) {
        const at = all.findIndex((r) => r.id === sinceId);
        if (at < 0) {
          record(410);
          return json(res, 410, { error: 'since_id pruned' });
        }
        page = all.slice(at + 1, at + 1 + limit);
      } else {
        page = all.slice(Math.max(0, all.length - limit));
      }
      record(200);
      const out: unknown[] =
        f === 'badRow' ? [{ id: `bad-${++seq}`, workspace_id: ws, activity_type: 'a2a_receive', status: 500, created_at: '' }, ...page] : page;
      if (faults.bigBody && faults.bigBody-- > 0)
        out.unshift({
          id: `big-${++seq}`,
          workspace_id: ws,
          activity_type: 'a2a_receive',
          summary: 'x'.repeat(1.5 * 1024 * 1024),
          status: 'ok',
          created_at: '',
        });
      const dripMs = faults.drip?.shift();
      if (dripMs) return drip(res, JSON.stringify(out), dripMs);
      return later('activity', res, () => json(res, 200, out));
    }
    const a2a = /^\/workspaces\/([^/]+)\/a2a$/.exec(url.pathname);
    if (req.method === 'POST' && a2a) {
      const envelope = body as MoleculeStats['replies'][number]['envelope'];
      const id = String(envelope?.id ?? '');
      const status = fault(faults.reply);
      stats.replyAttempts.push({ to: decodeURIComponent(a2a[1]), id, status: status ?? 200 });
      if (status) return json(res, status, { error: `injected ${status}` });
      if (replyIds.has(id)) stats.duplicateReplies += 1;
      else {
        replyIds.add(id);
        stats.replies.push({ to: decodeURIComponent(a2a[1]), envelope });
      }
      const inReplyTo = envelope?.params?.message?.metadata?.in_reply_to ?? '';
      const at = faults.holdReply?.indexOf(inReplyTo) ?? -1;
      if (at >= 0) {
        faults.holdReply!.splice(at, 1);
        return hold(res, () => json(res, 200, { jsonrpc: '2.0', id, result: {} }));
      }
      return later('reply', res, () => json(res, 200, { jsonrpc: '2.0', id, result: {} }));
    }
    json(res, 404, { error: 'not found' });
  }
  // a request the handler fails on (a body that did not arrive whole) is answered 500
  const server = createServer((req, res) => void handle(req, res).catch(() => json(res, 500, { error: 'internal' })));

  function backend(b: { key: string; messageId: string; text: string }, res: ServerResponse) {
    stats.dispatchCalls.push({ key: b.key, messageId: b.messageId, at: Date.now() });
    let reply = executed.get(b.key);
    const duplicate = reply !== undefined;
    if (reply === undefined) {
      reply = `pong: ${b.text}`;
      executed.set(b.key, reply);
      stats.executions.push({ key: b.key, messageId: b.messageId, text: b.text });
    }
    const answer = () => json(res, 200, { reply, duplicate });
    const at = faults.holdDispatch?.indexOf(b.messageId) ?? -1;
    if (at >= 0) {
      faults.holdDispatch!.splice(at, 1);
      return hold(res, answer);
    }
    if (faults.dispatchDelayMs) setTimeout(answer, faults.dispatchDelayMs);
    else answer();
  }

  function push(workspaceId: string, row: Row): string {
    const list = rows.get(workspaceId) ?? [];
    list.push(row);
    rows.set(workspaceId, list);
    return row.id;
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    token,
    faults,
    stats,
    addMessage(workspaceId, text, sourceId = 'ws-peer', opts = {}) {
      const id = `act-${String(++seq).padStart(6, '0')}`;
      const metadata = opts.idempotencyKey === undefined ? {} : { metadata: { idempotency_key: opts.idempotencyKey } };
      const envelope = {
        jsonrpc: '2.0',
        id: `rpc-${id}`,
        method: 'message/send',
        params: { message: { role: 'user', messageId: opts.messageId ?? `m-${id}`, parts: [{ kind: 'text', text }], ...metadata } },
      };
      return push(workspaceId, {
        id,
        workspace_id: workspaceId,
        activity_type: 'a2a_receive',
        source_id: sourceId,
        target_id: workspaceId,
        method: 'message/send',
        summary: text.slice(0, 40),
        request_body: envelope,
        status: 'ok',
        created_at: new Date().toISOString(),
      });
    },
    redeliver(workspaceId, rowId) {
      const original = rows.get(workspaceId)?.find((r) => r.id === rowId);
      if (!original) throw new Error(`no row ${rowId}`);
      return push(workspaceId, { ...original, id: `act-${String(++seq).padStart(6, '0')}`, created_at: new Date().toISOString() });
    },
    addRawRow(workspaceId, row) {
      return push(workspaceId, { ...row, id: `act-${String(++seq).padStart(6, '0')}` });
    },
    prune(workspaceId, count) {
      rows.get(workspaceId)?.splice(0, count);
    },
    release() {
      for (const answer of held.splice(0)) answer();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A molecule backend that dispatches through the server's durable test backend (POST
 * /_backend/dispatch), keyed by the idempotency key: a key already executed is answered from the
 * record, not executed again. It stands for a real backend that records its work durably.
 */
export function durableBackend(serverUrl: string) {
  return async (message: { id: string; text: string }, context: { idempotencyKey: string; signal: AbortSignal }) => {
    const res = await fetch(`${serverUrl}/_backend/dispatch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      signal: context.signal,
      body: JSON.stringify({ key: context.idempotencyKey, messageId: message.id, text: message.text }),
    });
    if (!res.ok) throw new Error(`backend answered ${res.status}`);
    return { text: ((await res.json()) as { reply: string }).reply };
  };
}

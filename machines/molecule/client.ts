import type { Dispatcher } from 'undici';
import type { SchedulerLike } from 'rxjs';
import { moleculeRequest } from './http.ts';
import { parseActivityAnswer, type ActivityItem } from './schemas.ts';

/** Options of {@link createMoleculeClient}. `token` is a secret: it stays in this closure. */
export interface MoleculeClientOptions {
  /** The platform's base URL, e.g. `https://platform.example.com` (a trailing slash is dropped). */
  apiUrl: string;
  /** The workspace's bearer token. */
  token: string;
  /** An undici dispatcher (pool, agent); the global one when omitted. */
  dispatcher?: Dispatcher;
  /** The overall deadline of a request, from the request to the last byte of the answer (a dripping body does not extend it). @default 30000 (seed 003: the http.Client's 30 s `Timeout`) */
  timeoutMs?: number;
  /** The deadline's scheduler. @default asyncScheduler */
  scheduler?: SchedulerLike;
  /** The most bytes of an answer read; an activity answer over it is `INVALID_PAYLOAD`, saying so. @default 1048576 (seed 003 `io.LimitReader(resp.Body, 1<<20)`) */
  maxBodyBytes?: number;
}

/** Per-call options: an AbortSignal ends the call with code `ABORTED`. */
export interface MoleculeCallOptions {
  signal?: AbortSignal;
}

/**
 * The molecule platform API a connection uses (seed 003 `internal/connect/client.go`). Every failure
 * is an ActorlogError classified once (src/transport/classify.ts): network, 5xx, 429, 408 ->
 * `TRANSIENT`; other 4xx -> `PERMANENT` with `details.status` (410 on activity: the cursor was pruned);
 * the message quotes the server's body, credential forms scrubbed, cut to 200 bytes plus `...`
 * (seed 003); an activity body that is not JSON, or over `maxBodyBytes` -> `INVALID_PAYLOAD`.
 */
export interface MoleculeClient {
  /** POST /registry/register `{ id, agent_card: { name, description, version }, delivery_mode: 'poll' }` (no URL: poll mode). */
  register(workspaceId: string, agentName: string, options?: MoleculeCallOptions): Promise<void>;
  /** POST /registry/heartbeat `{ workspace_id, runtime_state: 'ok', uptime_seconds: 0 }`. */
  heartbeat(workspaceId: string, options?: MoleculeCallOptions): Promise<void>;
  /** GET /workspaces/:id/activity?type=a2a_receive[&since_id=][&limit=]: rows after `sinceId` (none: the latest backlog). */
  activity(workspaceId: string, sinceId: string | undefined, limit: number, options?: MoleculeCallOptions): Promise<ActivityItem[]>;
  /** POST /workspaces/:source/a2a with the JSON-RPC envelope (a string is sent as is). */
  replyA2A(sourceWorkspaceId: string, envelope: unknown, options?: MoleculeCallOptions): Promise<void>;
}

/**
 * Creates a molecule platform client over undici with bearer auth (seed 003). Paths and bodies are
 * the seed's; each request times out after `timeoutMs` (30 s) as `TRANSIENT`.
 *
 * @example
 * ```ts
 * const client = createMoleculeClient({ apiUrl: 'http://127.0.0.1:8080', token });
 * await client.register('ws-1', 'my-agent');
 * const rows = await client.activity('ws-1', undefined, 100);
 * ```
 */
export function createMoleculeClient(options: MoleculeClientOptions): MoleculeClient {
  const base = options.apiUrl.replace(/\/+$/, '');
  const auth = { authorization: `Bearer ${options.token}` };
  const seg = (id: string) => encodeURIComponent(id);

  const send = async (label: string, method: string, path: string, body: unknown, call?: MoleculeCallOptions) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    await moleculeRequest(
      label,
      { url: base + path, method, headers: { ...auth, 'content-type': 'application/json' }, body: text },
      { signal: call?.signal, dispatcher: options.dispatcher, timeoutMs: options.timeoutMs, maxBodyBytes: options.maxBodyBytes, scheduler: options.scheduler },
    );
  };

  return {
    register(workspaceId, agentName, call) {
      const body = {
        id: workspaceId,
        agent_card: { name: agentName, description: 'molecule connect (CLI bridge)', version: '0.1.0' },
        delivery_mode: 'poll',
      };
      return send('molecule register', 'POST', '/registry/register', body, call);
    },
    heartbeat(workspaceId, call) {
      return send('molecule heartbeat', 'POST', '/registry/heartbeat', { workspace_id: workspaceId, runtime_state: 'ok', uptime_seconds: 0 }, call);
    },
    async activity(workspaceId, sinceId, limit, call) {
      const q = new URLSearchParams({ type: 'a2a_receive' });
      if (sinceId) q.set('since_id', sinceId);
      if (limit > 0) q.set('limit', String(limit));
      const answer = await moleculeRequest(
        'molecule activity',
        {
          url: `${base}/workspaces/${seg(workspaceId)}/activity?${q}`,
          headers: { ...auth, accept: 'application/json' },
        },
        {
          signal: call?.signal,
          dispatcher: options.dispatcher,
          timeoutMs: options.timeoutMs,
          maxBodyBytes: options.maxBodyBytes,
          scheduler: options.scheduler,
        },
      );
      return parseActivityAnswer(answer.text, { cut: answer.cut, maxBytes: options.maxBodyBytes });
    },
    replyA2A(sourceWorkspaceId, envelope, call) {
      return send('molecule reply', 'POST', `/workspaces/${seg(sourceWorkspaceId)}/a2a`, envelope, call);
    },
  };
}

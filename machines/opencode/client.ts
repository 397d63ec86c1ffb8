import { createHash } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { ActorlogError } from '../../src/errors.ts';
import { httpStatusError, invalidPayload, keepRaw, networkError } from '../../src/transport/classify.ts';
import type { SseRequest } from '../../src/sources/sse/connection.ts';
import {
  ActiveResponseSchema, AdmittedResponseSchema, HealthSchema, MessageWithPartsSchema, SessionSchema, SessionV2ResponseSchema, StatusMapSchema,
  type OpencodeHealth, type OpencodeMessage, type OpencodeSession,
} from './schemas.ts';

/** Options of {@link createOpencodeClient} (seed 001 `ClientConfig`). The password stays in this closure. */
export interface OpencodeClientOptions {
  /** The server, e.g. `http://127.0.0.1:4096` (seed 001 default). A trailing `/` is removed. */
  url: string;
  /** Basic auth user. @default 'opencode' (seed 001 `NewClient`) */
  username?: string;
  /** Basic auth password; none is sent when empty (seed 001 `setAuth`). @default process.env.OPENCODE_SERVER_PASSWORD */
  password?: string;
  /** Time to wait for a response's headers, ms (seed 001 `Timeout`, 30 s). Synchronous prompts wait without limit. @default 30000 */
  timeoutMs?: number;
  dispatcher?: Dispatcher;
}

/** Per-call options: an AbortSignal ends the call with code ABORTED. */
export interface CallOptions { signal?: AbortSignal }

/** A text part of a prompt (OpenAPI `TextPartInput`). */
export interface TextPartInput { type: 'text'; text: string }

/**
 * A small OpenCode HTTP client over undici: the calls of seed 001 (`Health`, `CreateSession`,
 * `GetSession`, `SendMessage`, `SendPromptAsync`, `AbortSession`, `RunShell`) and the v2 session API
 * of opencode 1.18.33 (`GET /doc`: `v2.session.create`, `v2.session.prompt`, `v2.session.interrupt`,
 * `v2.session.events`). Every failure is an {@link ActorlogError}: network errors and HTTP
 * 5xx/429/408 `TRANSIENT`, other 4xx `PERMANENT` (with `details.status` and, as seed 001's
 * `doRequest` does for debugging, the start of the response body); a body failing its schema
 * `INVALID_PAYLOAD`.
 */
export interface OpencodeClient {
  /** GET /global/health. */
  health(o?: CallOptions): Promise<OpencodeHealth>;
  /** POST /session (not idempotent: a retry after a lost answer may create a second session). */
  createSession(body: { title?: string; parentID?: string }, o?: CallOptions): Promise<OpencodeSession>;
  /** GET /session/:id. @throws PERMANENT (404) for an unknown session */
  getSession(id: string, o?: CallOptions): Promise<OpencodeSession>;
  /** GET /session/status: the status of each busy session (absent = idle). */
  sessionStatus(o?: CallOptions): Promise<Record<string, { type: 'idle' | 'busy' | 'retry' }>>;
  /** GET /session/:id/message: the session's messages with their parts, oldest first. */
  messages(id: string, o?: CallOptions): Promise<OpencodeMessage[]>;
  /** POST /session/:id/message: a prompt answered when the turn ends (seed `SendMessage`). `messageID` makes it idempotent. */
  sendMessage(id: string, body: { messageID?: string; parts: TextPartInput[] }, o?: CallOptions): Promise<OpencodeMessage>;
  /** POST /session/:id/prompt_async -> 204 (seed `SendPromptAsync`). The server answers a repeated `messageID` once. */
  promptAsync(id: string, body: { messageID?: string; parts: TextPartInput[] }, o?: CallOptions): Promise<void>;
  /** POST /session/:id/abort -> true (seed `AbortSession`). */
  abort(id: string, o?: CallOptions): Promise<void>;
  /** POST /session/:id/shell (seed `RunShell`): the command's message, when it finished. */
  shell(id: string, body: { command: string; agent: string; messageID?: string }, o?: CallOptions): Promise<OpencodeMessage>;
  /** POST /api/session with our own `id` (`ses_…`): idempotent, a second call answers the same session. */
  createSessionV2(id: string, o?: CallOptions): Promise<{ id: string; title?: string }>;
  /** GET /api/session/:id. */
  getSessionV2(id: string, o?: CallOptions): Promise<{ id: string; title?: string }>;
  /** POST /api/session/:id/prompt: durably admitted; a repeated `id` (`msg_…`) is admitted once. */
  promptV2(id: string, body: { id: string; text: string }, o?: CallOptions): Promise<{ admittedSeq: number }>;
  /** POST /api/session/:id/interrupt -> 204 (idle: a no-op). */
  interruptV2(id: string, o?: CallOptions): Promise<void>;
  /** GET /api/session/active: ids of the sessions running now. */
  activeV2(o?: CallOptions): Promise<string[]>;
  /** The request opening the global event stream GET /event (with auth). */
  globalEventsRequest(): SseRequest;
  /** The request opening the durable stream GET /api/session/:id/event, after `cursor` (a `durable.seq`) when given. */
  durableEventsRequest(id: string, cursor?: string): SseRequest;
}

const tag = (remoteId: string, promptId: string) => createHash('sha256').update(`${remoteId}\n${promptId}`).digest('hex').slice(0, 8);

/**
 * The message id (`msg_…`) OpenCode stores for a prompt: 8 hex of sha256(remote id, prompt id), then
 * the prompt's idempotency key in base64url. A re-sent prompt (after a crash or a retry) is the
 * same message, which the server answers once; and the answer's `parentID` tells which of our
 * prompts it belongs to ({@link promptIdOf}).
 */
export function opencodeMessageId(remoteId: string, promptId: string): string {
  return `msg_${tag(remoteId, promptId)}${Buffer.from(promptId, 'utf8').toString('base64url')}`;
}

/** The prompt id a message id made by {@link opencodeMessageId} for this session carries; undefined for any other id. */
export function promptIdOf(messageId: string | undefined, remoteId: string): string | undefined {
  if (!messageId?.startsWith('msg_') || messageId.length <= 12) return undefined;
  const promptId = Buffer.from(messageId.slice(12), 'base64url').toString('utf8');
  return messageId.slice(4, 12) === tag(remoteId, promptId) ? promptId : undefined;
}

/** The v2 session id (`ses_…`) for our session key: creating it twice answers the same session. */
export function opencodeSessionId(sessionKey: string): string {
  return `ses_${createHash('sha256').update(sessionKey).digest('hex').slice(0, 26)}`;
}

/**
 * Creates an OpenCode client.
 * @example
 * ```ts
 * const oc = createOpencodeClient({ url: 'http://127.0.0.1:4096', password: process.env.OPENCODE_SERVER_PASSWORD });
 * const s = await oc.createSession({ title: 'review' });
 * await oc.promptAsync(s.id, { parts: [{ type: 'text', text: 'review the diff' }] });
 * ```
 */
export function createOpencodeClient(options: OpencodeClientOptions): OpencodeClient {
  const base = options.url.replace(/\/+$/, '');
  const username = options.username || 'opencode';
  const password = options.password ?? process.env.OPENCODE_SERVER_PASSWORD ?? '';
  const auth: Record<string, string> = password ? { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` } : {};
  const headersTimeout = options.timeoutMs ?? 30_000;

  async function call(method: 'GET' | 'POST' | 'DELETE', path: string, body: unknown, o: CallOptions = {}, wait = false): Promise<{ status: number; text: string }> {
    const label = `OpenCode ${method} ${path}`;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(base + path, {
        method,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...auth },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: o.signal,
        dispatcher: options.dispatcher,
        headersTimeout: wait ? 0 : headersTimeout,
        bodyTimeout: wait ? 0 : headersTimeout,
      });
    } catch (err) { throw networkError(label, err); }
    let text: string;
    try { text = await res.body.text(); } catch (err) { throw networkError(label, err); }
    if (res.statusCode >= 400) {
      const body = keepRaw(text); // the server's text, credential forms scrubbed
      const err = httpStatusError(label, res.statusCode, { body: body.slice(0, 500) });
      throw new ActorlogError(err.code, `${err.message}: ${body.slice(0, 200)}`, { details: err.details });
    }
    return { status: res.statusCode, text };
  }

  async function json<T>(method: 'GET' | 'POST', path: string, schema: z.ZodType<T>, body?: unknown, o?: CallOptions, wait = false): Promise<T> {
    const { text } = await call(method, path, body, o, wait);
    let value: unknown;
    try { value = JSON.parse(text); } catch (err) { throw invalidPayload(`OpenCode ${method} ${path}`, text, `not JSON (${(err as Error).message})`); }
    const r = schema.safeParse(value);
    if (!r.success) throw invalidPayload(`OpenCode ${method} ${path}`, text, z.prettifyError(r.error));
    return r.data;
  }

  const sid = (id: string) => encodeURIComponent(id);
  return {
    health: (o) => json('GET', '/global/health', HealthSchema, undefined, o),
    createSession: (body, o) => json('POST', '/session', SessionSchema, body, o),
    getSession: (id, o) => json('GET', `/session/${sid(id)}`, SessionSchema, undefined, o),
    sessionStatus: (o) => json('GET', '/session/status', StatusMapSchema, undefined, o),
    messages: (id, o) => json('GET', `/session/${sid(id)}/message`, z.array(MessageWithPartsSchema), undefined, o),
    sendMessage: (id, body, o) => json('POST', `/session/${sid(id)}/message`, MessageWithPartsSchema, body, o, true),
    promptAsync: async (id, body, o) => { await call('POST', `/session/${sid(id)}/prompt_async`, body, o); },
    abort: async (id, o) => { await call('POST', `/session/${sid(id)}/abort`, undefined, o); },
    shell: (id, body, o) => json('POST', `/session/${sid(id)}/shell`, MessageWithPartsSchema, body, o, true),
    createSessionV2: async (id, o) => (await json('POST', '/api/session', SessionV2ResponseSchema, { id }, o)).data,
    getSessionV2: async (id, o) => (await json('GET', `/api/session/${sid(id)}`, SessionV2ResponseSchema, undefined, o)).data,
    promptV2: async (id, body, o) => (await json('POST', `/api/session/${sid(id)}/prompt`, AdmittedResponseSchema, { id: body.id, prompt: { text: body.text } }, o)).data,
    interruptV2: async (id, o) => { await call('POST', `/api/session/${sid(id)}/interrupt`, undefined, o); },
    activeV2: async (o) => Object.keys((await json('GET', '/api/session/active', ActiveResponseSchema, undefined, o)).data),
    globalEventsRequest: () => ({ url: `${base}/event`, headers: { ...auth } }),
    durableEventsRequest: (id, cursor) => ({ url: `${base}/api/session/${sid(id)}/event${cursor === undefined ? '' : `?after=${encodeURIComponent(cursor)}`}`, headers: { ...auth } }),
  };
}

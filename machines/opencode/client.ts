import { createHash } from 'node:crypto';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { ActorlogError } from '../../src/errors.ts';
import { decodeJson } from '../../src/transport/boundedJson.ts';
import { watchCall } from '../../src/transport/callWatch.ts';
import { httpStatusError, invalidPayload, keepRaw } from '../../src/transport/classify.ts';
import { readBodyText } from '../../src/transport/readBody.ts';
import type { SseRequest } from '../../src/sources/sse/connection.ts';
import {
  ActiveResponseSchema,
  AdmittedResponseSchema,
  HealthSchema,
  MessageWithPartsSchema,
  SessionSchema,
  SessionV2ResponseSchema,
  StatusMapSchema,
  type OpencodeHealth,
  type OpencodeMessage,
  type OpencodeSession,
} from './schemas.ts';

/** The seed's default server (seed 001 `NewClient`: `http://127.0.0.1:4096`). */
export const OPENCODE_DEFAULT_URL = 'http://127.0.0.1:4096';
/** The seed's request timeout, ms (seed 001 `NewClient`: `Timeout` 30 s). */
export const OPENCODE_DEFAULT_TIMEOUT_MS = 30_000;
/** The largest answer read, bytes (64 MiB): a session's message history (`GET /session/:id/message`) easily passes 1 MiB. */
export const OPENCODE_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Options of {@link createOpencodeClient} (seed 001 `ClientConfig`). The password stays in this closure. */
export interface OpencodeClientOptions {
  /** The server. A trailing `/` is removed. @default 'http://127.0.0.1:4096' (seed 001 `NewClient`) */
  url?: string;
  /** Basic auth user. @default 'opencode' (seed 001 `NewClient`) */
  username?: string;
  /** Basic auth password; none is sent when empty (seed 001 `setAuth`). @default process.env.OPENCODE_SERVER_PASSWORD */
  password?: string;
  /**
   * The whole time one request may take, ms: connect, headers and the body read to its end, as Go's
   * `http.Client.Timeout` (seed 001 `ClientConfig.Timeout`, 30 s). It bounds every call, the
   * synchronous `POST /session/:id/message` and `/shell` included (give a longer one, or `Infinity`,
   * for long turns); past it the call fails `TRANSIENT` with `details.timeoutMs`. The event streams
   * are not bounded by it (they are long-lived; their stall timeout watches them).
   * @default 30000
   */
  timeoutMs?: number;
  /** The scheduler of the request timeout (an RxJS `SchedulerLike`; tests use a `VirtualTimeScheduler`). @default asyncScheduler */
  scheduler?: SchedulerLike;
  dispatcher?: Dispatcher;
  /** The largest answer read, bytes; a larger one fails the call `INVALID_PAYLOAD`. @default {@link OPENCODE_MAX_BODY_BYTES} (64 MiB) */
  maxBodyBytes?: number;
}

/** Per-call options: an AbortSignal ends the call with code ABORTED. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** A text part of a prompt (OpenAPI `TextPartInput`). */
export interface TextPartInput {
  type: 'text';
  text: string;
}

/**
 * The body of `POST /session/:id/message` and `prompt_async` (seed 001 `SendMessageRequest`, in the
 * forms opencode 1.18.33 accepts: `model` as `{ providerID, modelID }`, `tools` as a map of tool name
 * to enabled; the seed's string and list forms are answered HTTP 400, see {@link toServerModel}).
 */
export interface PromptBody {
  messageID?: string;
  model?: { providerID: string; modelID: string };
  agent?: string;
  system?: string;
  tools?: Record<string, boolean>;
  parts: TextPartInput[];
}

/**
 * A small OpenCode HTTP client over undici: the calls of seed 001 (`Health`, `CreateSession`,
 * `GetSession`, `SendMessage`, `SendPromptAsync`, `AbortSession`, `RunShell`) and the v2 session API
 * of opencode 1.18.33 (`GET /doc`: `v2.session.create`, `v2.session.prompt`, `v2.session.interrupt`,
 * `v2.session.events`). Every failure is an {@link ActorlogError}: network errors and HTTP
 * 5xx/429/408 `TRANSIENT`, other 4xx `PERMANENT` (with `details.status` and, as seed 001's
 * `doRequest` does for debugging, the start of the response body); a body failing its schema
 * `INVALID_PAYLOAD`; a call past `timeoutMs` (30 s, seed 001) `TRANSIENT` with `details.timeoutMs`.
 */
export interface OpencodeClient {
  /** GET /global/health. */
  health(o?: CallOptions): Promise<OpencodeHealth>;
  /** POST /session (seed `CreateSession`; `parentID` makes it a child session). Not idempotent: a retry after a lost answer may create a second session. */
  createSession(body: { title?: string; parentID?: string }, o?: CallOptions): Promise<OpencodeSession>;
  /** GET /session/:id. @throws PERMANENT (404) for an unknown session */
  getSession(id: string, o?: CallOptions): Promise<OpencodeSession>;
  /** GET /session/status: the status of each busy session (absent = idle). */
  sessionStatus(o?: CallOptions): Promise<Record<string, { type: 'idle' | 'busy' | 'retry' }>>;
  /** GET /session/:id/message: the session's messages with their parts, oldest first. */
  messages(id: string, o?: CallOptions): Promise<OpencodeMessage[]>;
  /** POST /session/:id/message: a prompt answered when the turn ends (seed `SendMessage`). opencode 1.18.33 answers a re-sent `messageID` once. */
  sendMessage(id: string, body: PromptBody, o?: CallOptions): Promise<OpencodeMessage>;
  /** POST /session/:id/prompt_async -> 204 (seed `SendPromptAsync`), with the prompt's `messageID`. */
  promptAsync(id: string, body: PromptBody, o?: CallOptions): Promise<void>;
  /** POST /session/:id/abort -> true (seed `AbortSession`). */
  abort(id: string, o?: CallOptions): Promise<void>;
  /**
   * POST /session/:id/shell (seed `RunShell`): the command's message, when it finished. Not
   * idempotent: opencode 1.18.33 runs a command re-sent with the same `messageID` again (its user
   * message is `messageID`, each run's answer a new assistant message whose `parentID` is it).
   */
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

/**
 * A prompt's model in the form opencode 1.18.33 accepts. Seed 001 sends `Model` as a string, which
 * the server answers HTTP 400 ("Expected object"); the string is read as `<providerID>/<modelID>`
 * (the server's own config notation, e.g. `fake/slow`), split at the first `/`.
 * @throws ActorlogError `PERMANENT` for a string without a `/`
 * @example
 * ```ts
 * toServerModel('anthropic/claude-sonnet-4');   // { providerID: 'anthropic', modelID: 'claude-sonnet-4' }
 * ```
 */
export function toServerModel(model: string | { providerID: string; modelID: string }): { providerID: string; modelID: string } {
  if (typeof model !== 'string') return { providerID: model.providerID, modelID: model.modelID };
  const i = model.indexOf('/');
  if (i <= 0 || i === model.length - 1)
    throw new ActorlogError('PERMANENT', `OpenCode model "${model}" is not "<providerID>/<modelID>"`, { details: { model } });
  return { providerID: model.slice(0, i), modelID: model.slice(i + 1) };
}

/**
 * A prompt's tools in the form opencode 1.18.33 accepts: seed 001 sends `Tools` as a list of names,
 * which the server answers HTTP 400 ("Expected object"); each listed tool becomes `name: true`
 * (enabled). A map of name to enabled passes as it is.
 * @example
 * ```ts
 * toServerTools(['bash', 'read']);   // { bash: true, read: true }
 * ```
 */
export function toServerTools(tools: string[] | Record<string, boolean>): Record<string, boolean> {
  return Array.isArray(tools) ? Object.fromEntries(tools.map((name) => [name, true])) : { ...tools };
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
 * Creates an OpenCode client (seed 001 `NewClient`: `http://127.0.0.1:4096`, user `opencode`, 30 s per request by default).
 * @throws ActorlogError `INVALID_OPTIONS` when `timeoutMs` is not > 0
 * @example
 * ```ts
 * const oc = createOpencodeClient({ url: 'http://127.0.0.1:4096', password: process.env.OPENCODE_SERVER_PASSWORD });
 * const s = await oc.createSession({ title: 'review' });
 * await oc.promptAsync(s.id, { parts: [{ type: 'text', text: 'review the diff' }] });
 * ```
 */
export function createOpencodeClient(options: OpencodeClientOptions = {}): OpencodeClient {
  const base = (options.url || OPENCODE_DEFAULT_URL).replace(/\/+$/, '');
  const username = options.username || 'opencode';
  const password = options.password ?? process.env.OPENCODE_SERVER_PASSWORD ?? '';
  const auth: Record<string, string> = password ? { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` } : {};
  const timeoutMs = options.timeoutMs ?? OPENCODE_DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0))
    throw new ActorlogError('INVALID_OPTIONS', `OpenCode timeoutMs must be > 0 ms or Infinity, not ${timeoutMs}`, { details: { timeoutMs } });
  const maxBytes = options.maxBodyBytes ?? OPENCODE_MAX_BODY_BYTES;
  const scheduler = options.scheduler ?? asyncScheduler;

  async function call(method: 'GET' | 'POST' | 'DELETE', path: string, body: unknown, o: CallOptions = {}): Promise<{ status: number; text: string }> {
    const label = `OpenCode ${method} ${path}`;
    // One deadline for the whole exchange (Go's http.Client.Timeout): undici's own header and body timeouts are off.
    const watch = watchCall(label, { timeoutMs }, scheduler, o.signal);
    let res: Dispatcher.ResponseData;
    let text: string;
    try {
      res = await request(base + path, {
        method,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...auth },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: watch.signal,
        dispatcher: options.dispatcher,
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      text = await readBodyText(res.body, { label, maxBytes: res.statusCode >= 400 ? 64 * 1024 : maxBytes }).catch((err: unknown) => {
        if (res.statusCode >= 400 && (err as ActorlogError).code === 'INVALID_PAYLOAD') return ''; // an error page too long to quote: the status says enough
        throw err;
      });
    } catch (err) {
      throw watch.error(err);
    } finally {
      watch.stop();
    }
    if (res.statusCode >= 400) {
      const body = keepRaw(text); // the server's text, credential forms scrubbed
      const err = httpStatusError(label, res.statusCode, { body: body.slice(0, 500) }, res.headers);
      throw new ActorlogError(err.code, `${err.message}: ${body.slice(0, 200)}`, { details: err.details });
    }
    return { status: res.statusCode, text };
  }

  async function json<T>(method: 'GET' | 'POST', path: string, schema: z.ZodType<T>, body?: unknown, o?: CallOptions): Promise<T> {
    const { text } = await call(method, path, body, o);
    const decoded = decodeJson(text, schema, { maxBytes }); // bounded JSON, then the schema (binding kit)
    if (!decoded.ok) throw invalidPayload(`OpenCode ${method} ${path}`, text, decoded.error);
    return decoded.value;
  }

  const sid = (id: string) => encodeURIComponent(id);
  return {
    health: (o) => json('GET', '/global/health', HealthSchema, undefined, o),
    createSession: (body, o) => json('POST', '/session', SessionSchema, body, o),
    getSession: (id, o) => json('GET', `/session/${sid(id)}`, SessionSchema, undefined, o),
    sessionStatus: (o) => json('GET', '/session/status', StatusMapSchema, undefined, o),
    messages: (id, o) => json('GET', `/session/${sid(id)}/message`, z.array(MessageWithPartsSchema), undefined, o),
    sendMessage: (id, body, o) => json('POST', `/session/${sid(id)}/message`, MessageWithPartsSchema, body, o),
    promptAsync: async (id, body, o) => {
      await call('POST', `/session/${sid(id)}/prompt_async`, body, o);
    },
    abort: async (id, o) => {
      await call('POST', `/session/${sid(id)}/abort`, undefined, o);
    },
    shell: (id, body, o) => json('POST', `/session/${sid(id)}/shell`, MessageWithPartsSchema, body, o),
    createSessionV2: async (id, o) => (await json('POST', '/api/session', SessionV2ResponseSchema, { id }, o)).data,
    getSessionV2: async (id, o) => (await json('GET', `/api/session/${sid(id)}`, SessionV2ResponseSchema, undefined, o)).data,
    promptV2: async (id, body, o) =>
      (await json('POST', `/api/session/${sid(id)}/prompt`, AdmittedResponseSchema, { id: body.id, prompt: { text: body.text } }, o)).data,
    interruptV2: async (id, o) => {
      await call('POST', `/api/session/${sid(id)}/interrupt`, undefined, o);
    },
    activeV2: async (o) => Object.keys((await json('GET', '/api/session/active', ActiveResponseSchema, undefined, o)).data),
    globalEventsRequest: () => ({ url: `${base}/event`, headers: { ...auth } }),
    durableEventsRequest: (id, cursor) => ({
      url: `${base}/api/session/${sid(id)}/event${cursor === undefined ? '' : `?after=${encodeURIComponent(cursor)}`}`,
      headers: { ...auth },
    }),
  };
}

import { asyncScheduler, concatMap, defer, filter, firstValueFrom, map, race, tap, throwError, timer, type Observable, type SchedulerLike } from 'rxjs';
import { request, type Dispatcher } from 'undici';
import { ActorlogError } from '../../src/errors.ts';
import { decodeJson, schemaErrorText, type JsonLimits } from '../../src/transport/boundedJson.ts';
import { watchCall } from '../../src/transport/callWatch.ts';
import { httpStatusError, invalidPayload, keepRaw } from '../../src/transport/classify.ts';
import { notDelivered } from '../../src/transport/outcome.ts';
import { openSseConnection, type SseRequest } from '../../src/sources/sse/connection.ts';
import { sse, type SseItem } from '../../src/sources/sse/index.ts';
import type { SseRetryOptions } from '../../src/sources/sse/retryPolicy.ts';
import { InitializeResultSchema, JsonRpcMessageSchema, MCP_PROTOCOL_VERSION, rpcKind, type InitializeResult, type JsonRpcMessage } from './schemas.ts';

/** Options of {@link createMcpClient}. `headers` may carry secrets (authorization): they stay in this closure. */
export interface McpClientOptions {
  /** The server's MCP endpoint, e.g. `http://127.0.0.1:3000/mcp`. */
  url: string;
  /** Extra headers on every request (e.g. `authorization`). */
  headers?: Record<string, string>;
  /** @default { name: 'actorlog', version: '0.1.0' } */
  clientInfo?: { name: string; version: string };
  /** Stall timeout of its streams, ms; the SDK server sends a keep-alive comment every 15 s. @default 45000 */
  stallTimeoutMs?: number;
  /** Reconnection policy of its streams. */
  retry?: SseRetryOptions;
  /** Scheduler of the streams' backoff and stall timers, and of `timeoutMs`. */
  scheduler?: SchedulerLike;
  dispatcher?: Dispatcher;
  /**
   * The overall deadline of one request/response exchange (`initialize`, a notification, `DELETE`),
   * ms: a server that answers slowly or trickles its answer fails it `TRANSIENT` (`details.cause`
   * `timeout`). The SDK client's default request timeout. Streams of a tools/call are long-lived:
   * their stall bound watches them instead. @default 60000
   */
  timeoutMs?: number;
  /**
   * The largest JSON-RPC message read, bytes: one SSE event (the parser's buffer), a JSON body, the
   * decode bound. A tool result may be large. @default {@link MCP_MAX_MESSAGE_BYTES} (16 MiB)
   */
  maxMessageBytes?: number;
}

/** The MCP SDK client's default request timeout (`DEFAULT_REQUEST_TIMEOUT_MSEC`), ms. */
export const MCP_DEFAULT_TIMEOUT_MS = 60_000;
/** Default of {@link McpClientOptions.maxMessageBytes}: 16 MiB. */
export const MCP_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Per-call options: an AbortSignal ends the call with code ABORTED. */
export interface CallOptions {
  signal?: AbortSignal;
}

/**
 * A Model Context Protocol client over Streamable HTTP (MCP 2025-11-25, "Transports"), written on
 * undici and actorlog's SSE source rather than the SDK client, so every streamed message can be
 * journaled with its event id. Every failure is an {@link ActorlogError}: network errors and HTTP
 * 5xx/429/408 `TRANSIENT`; other 4xx `PERMANENT` (`details.status`; 404 for a session the server
 * no longer knows, JSON-RPC -32001); JSON-RPC error answers `PERMANENT` (`details.rpcCode`); a
 * message failing its schema `INVALID_PAYLOAD`.
 */
export interface McpClient {
  /** `initialize`, then `notifications/initialized`: the session id (`mcp-session-id`) and the server's answer. */
  initialize(o?: CallOptions): Promise<{ sessionId: string; result: InitializeResult }>;
  /** POSTs one notification (answered 202). */
  notify(sessionId: string, method: string, params: Record<string, unknown>, o?: CallOptions): Promise<void>;
  /**
   * POSTs one request whose answer streams (e.g. `tools/call` with a progress token): the SSE items
   * of its response. After a drop the stream resumes by `GET` with `Last-Event-ID` (the last event
   * id, or `cursor` when given: then nothing is POSTed again), as "Resumability and Redelivery" says.
   * A drop before any event id arrived leaves nothing to resume from: the request is POSTed again
   * only when `options.idempotent` is true or the failure shows it never reached the server
   * (connection refused, DNS, HTTP 429/503); otherwise the stream fails `OUTCOME_UNKNOWN`.
   */
  requestStream(
    sessionId: string,
    message: { id: string; method: string; params: Record<string, unknown> },
    cursor?: string,
    options?: { idempotent?: boolean },
  ): Observable<SseItem>;
  /** The session's standalone stream (`GET`), resumed from `cursor` with `Last-Event-ID`. */
  standaloneStream(sessionId: string, cursor?: string): Observable<SseItem>;
  /** `DELETE` the session. A session already gone (404) counts as deleted; a server that refuses (405) is told apart by `false`. */
  deleteSession(sessionId: string, o?: CallOptions): Promise<boolean>;
}

/**
 * Parses one JSON-RPC message (an SSE `data:` or a JSON body) with the one decoder (bounded JSON,
 * then the schema; `limits.maxBytes` 1 MiB unless given).
 * @throws ActorlogError `INVALID_PAYLOAD` with the raw text (<= 4 KiB) and the reason
 */
export function parseRpcMessage(label: string, raw: string, limits?: JsonLimits): JsonRpcMessage {
  const decoded = decodeJson(raw, JsonRpcMessageSchema, limits);
  if (!decoded.ok) throw invalidPayload(label, raw, decoded.error);
  return decoded.value;
}

/**
 * The error of a request whose answer was lost before any SSE event id arrived: it may have run, and
 * MCP has no idempotency for it (tools/call), so it is not sent again (issue: never a silent second run).
 */
export function answerLost(label: string, requestId: string, cause?: unknown): ActorlogError {
  const why = cause instanceof Error ? ` (${cause.message.slice(0, 200)})` : '';
  return new ActorlogError(
    'OUTCOME_UNKNOWN',
    `${label} (id "${requestId}"): the request was sent but its answer was lost before any event id was logged${why}; ` +
      'MCP has no idempotency for it, so it is not sent again: it may or may not have run (mark the call idempotent to have it re-sent)',
    { cause, details: { requestId, label } },
  );
}

/**
 * Creates the client.
 * @example
 * ```ts
 * const mcp = createMcpClient({ url: 'http://127.0.0.1:3000/mcp' });
 * const { sessionId } = await mcp.initialize();
 * mcp.requestStream(sessionId, { id: 'job-1:p1', method: 'tools/call', params: { name: 'count', arguments: { n: 3 }, _meta: { progressToken: 'job-1:p1' } } })
 *   .subscribe((item) => item.kind === 'message' && console.log(item.cursor, item.data));
 * ```
 */
export function createMcpClient(options: McpClientOptions): McpClient {
  const extra: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.headers ?? {})) extra[k.toLowerCase()] = v;
  const accept = 'application/json, text/event-stream';
  const sessionHeaders = (sessionId: string) => ({ ...extra, 'mcp-session-id': sessionId, 'mcp-protocol-version': MCP_PROTOCOL_VERSION });
  const maxBytes = options.maxMessageBytes ?? MCP_MAX_MESSAGE_BYTES;
  const timeoutMs = options.timeoutMs ?? MCP_DEFAULT_TIMEOUT_MS;
  const scheduler = options.scheduler ?? asyncScheduler;
  const streamOptions = {
    stallTimeoutMs: options.stallTimeoutMs ?? 45_000,
    retry: options.retry,
    scheduler: options.scheduler,
    dispatcher: options.dispatcher,
    maxEventChars: maxBytes,
    maxBodyBytes: maxBytes,
  };

  /** POSTs one notification under the deadline; the answer's body is discarded. */
  async function post(label: string, headers: Record<string, string>, body: unknown, o?: CallOptions): Promise<void> {
    const watch = watchCall(label, { timeoutMs }, scheduler, o?.signal);
    try {
      const res = await request(options.url, {
        method: 'POST',
        headers: { ...headers, accept, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: watch.signal,
        dispatcher: options.dispatcher,
      });
      if (res.statusCode >= 400) {
        const text = await res.body.text().catch(() => '');
        throw httpStatusError(label, res.statusCode, { body: keepRaw(text).slice(0, 500) }, res.headers);
      }
      await res.body.dump();
    } catch (err) {
      throw watch.error(err);
    } finally {
      watch.stop();
    }
  }

  return {
    async initialize(o) {
      const label = 'MCP initialize';
      const message = {
        jsonrpc: '2.0',
        id: 'initialize',
        method: 'initialize',
        params: { protocolVersion: MCP_PROTOCOL_VERSION, capabilities: {}, clientInfo: options.clientInfo ?? { name: 'actorlog', version: '0.1.0' } },
      };
      // The answer comes as JSON or as an event stream (the SDK server streams it after a priming event).
      const req: SseRequest = {
        url: options.url,
        method: 'POST',
        headers: { ...extra, accept, 'content-type': 'application/json' },
        body: JSON.stringify(message),
      };
      let sessionId: string | undefined;
      // One deadline for the whole exchange: a server that trickles its answer cannot hold it open.
      const deadline = timer(timeoutMs, scheduler).pipe(
        concatMap(() =>
          throwError(
            () =>
              new ActorlogError('TRANSIENT', `${label}: no answer within ${timeoutMs} ms`, {
                details: { cause: 'timeout', timeoutMs },
              }),
          ),
        ),
      );
      const answered = openSseConnection(req, { label, ...streamOptions }).pipe(
        map((item) => {
          if (item.kind === 'open' || item.kind === 'body') sessionId = item.headers['mcp-session-id'];
          if (item.kind === 'body') return item.text;
          return item.kind === 'message' && item.message.data !== '' ? item.message.data : undefined;
        }),
        filter((raw): raw is string => raw !== undefined),
      );
      const answer = await firstValueFrom(Number.isFinite(timeoutMs) ? race(answered, deadline) : answered, { defaultValue: undefined });
      if (answer === undefined) throw new ActorlogError('TRANSIENT', `${label}: the stream ended without an answer`);
      const rpc = rpcKind(parseRpcMessage(label, answer, { maxBytes }));
      if (rpc.kind === 'error')
        throw new ActorlogError('PERMANENT', `${label}: JSON-RPC error ${rpc.error.code}: ${rpc.error.message}`, { details: { rpcCode: rpc.error.code } });
      if (rpc.kind !== 'result') throw invalidPayload(label, answer, 'not a response');
      const result = InitializeResultSchema.safeParse(rpc.result);
      if (!result.success) throw invalidPayload(label, answer, schemaErrorText(result.error));
      if (!sessionId) throw new ActorlogError('PERMANENT', `${label}: the server gave no mcp-session-id (stateless servers are not supported)`);
      await this.notify(sessionId, 'notifications/initialized', {}, o);
      return { sessionId, result: result.data };
    },
    async notify(sessionId, method, params, o) {
      await post(`MCP ${method}`, sessionHeaders(sessionId), { jsonrpc: '2.0', method, params }, o);
    },
    requestStream(sessionId, message, cursor, opts) {
      const body = JSON.stringify({ jsonrpc: '2.0', ...message });
      const label = `MCP ${message.method}`;
      return defer(() => {
        let posted = false;
        let lastFailure: ActorlogError | undefined;
        return sse({
          ...streamOptions,
          label,
          cursor,
          request: ({ cursor: last }) => {
            if (last !== undefined) return { url: options.url, method: 'GET', headers: { ...sessionHeaders(sessionId), accept: 'text/event-stream' } };
            if (posted && opts?.idempotent !== true && !notDelivered(lastFailure)) throw answerLost(label, message.id, lastFailure);
            posted = true;
            return { url: options.url, method: 'POST', headers: { ...sessionHeaders(sessionId), accept, 'content-type': 'application/json' }, body };
          },
        }).pipe(
          tap((item) => {
            if (item.kind === 'retry') lastFailure = item.error;
          }),
        );
      });
    },
    standaloneStream(sessionId, cursor) {
      return sse({
        ...streamOptions,
        label: 'MCP GET stream',
        cursor,
        request: () => ({ url: options.url, headers: { ...sessionHeaders(sessionId), accept: 'text/event-stream' } }),
      });
    },
    async deleteSession(sessionId, o) {
      const label = 'MCP DELETE';
      const watch = watchCall(label, { timeoutMs }, scheduler, o?.signal);
      let res: Dispatcher.ResponseData;
      try {
        res = await request(options.url, { method: 'DELETE', headers: sessionHeaders(sessionId), signal: watch.signal, dispatcher: options.dispatcher });
        await res.body.dump();
      } catch (err) {
        throw watch.error(err);
      } finally {
        watch.stop();
      }
      if (res.statusCode === 404) return true;
      if (res.statusCode === 405) return false;
      if (res.statusCode >= 400) throw httpStatusError(label, res.statusCode, {}, res.headers);
      return true;
    },
  };
}

import { asyncScheduler, concatMap, defer, EMPTY, Observable, of, throwError, type SchedulerLike } from 'rxjs';
import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { ActorlogError, type ErrorCode } from '../../src/errors.ts';
import { decodeJson } from '../../src/transport/boundedJson.ts';
import { watchCall } from '../../src/transport/callWatch.ts';
import { httpStatusError, invalidPayload } from '../../src/transport/classify.ts';
import { readBodyText } from '../../src/transport/readBody.ts';
import { openSseConnection } from '../../src/sources/sse/connection.ts';
import {
  JsonRpcResponseSchema,
  SendMessageResultSchema,
  StreamResultSchema,
  TaskSchema,
  type A2ASendResult,
  type A2AStreamResult,
  type A2ATask,
  type JsonRpcError,
} from './schemas.ts';

/** The stall bound of A2A calls and streams when none is given, ms: the same as the SSE source's (MCP, OpenCode). */
export const DEFAULT_A2A_STALL_TIMEOUT_MS = 45_000;
/** The largest A2A answer or stream event read, bytes (64 MiB): a task carries its artifacts inline. */
export const A2A_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Options of {@link createA2AClient}. `headers` may carry secrets: they never reach an error or a result. */
export interface A2AClientOptions {
  /** The agent's JSON-RPC endpoint (A2A v0.3 §3.2.1), e.g. `http://127.0.0.1:4000/a2a/jsonrpc`. */
  url: string;
  /** Extra request headers (e.g. `authorization`). */
  headers?: Record<string, string>;
  /** An undici dispatcher (pool, agent, mock); the global dispatcher when omitted. */
  dispatcher?: Dispatcher;
  /**
   * A call (message/send, tasks/get, tasks/cancel) fails `TRANSIENT` with `details { cause: 'stall',
   * stallTimeoutMs }` when its answer's headers do not come within this long, or its whole body not
   * within this long after them (a body that drips does not re-arm it); a tasks/resubscribe stream
   * when no complete event or keep-alive comes for this long. The job machine then retries the call
   * or resubscribes. The same bound as the SSE source (MCP, OpenCode), instead of undici's 300 s
   * defaults. 0 disables it.
   * @default 45000
   */
  stallTimeoutMs?: number;
  /** The overall deadline of one call, ms (`details.cause` `timeout`). The A2A SDK client sets none. @default Infinity */
  timeoutMs?: number;
  /** The largest answer or stream event read, bytes; larger: `INVALID_PAYLOAD`. @default {@link A2A_MAX_BODY_BYTES} (64 MiB) */
  maxBodyBytes?: number;
  /** Scheduler of the stall timers (tests pass a VirtualTimeScheduler). @default asyncScheduler */
  scheduler?: SchedulerLike;
}

/** What {@link A2AClient.sendMessage} sends: one user message, a text part and an optional data part. */
export interface SendMessageArgs {
  /** The A2A `messageId`; agents may use it as an idempotency key. */
  messageId: string;
  text: string;
  data?: Record<string, unknown>;
  /** Continue this task (answer to input-required, §7.1). */
  taskId?: string;
  contextId?: string;
}

/** One SSE frame: a parsed stream result, or a malformed frame kept raw (reported as data, never thrown). */
export type StreamFrame = { ok: true; value: A2AStreamResult } | { ok: false; raw: string; error: string };

/** Per-call options: an AbortSignal ends the call with code ABORTED. */
export interface CallOptions {
  signal?: AbortSignal;
}

/**
 * A small A2A v0.3 JSON-RPC client. Every failure is an {@link ActorlogError}: `TRANSIENT`,
 * `PERMANENT`, `INVALID_PAYLOAD` or `ABORTED` (classification in {@link createA2AClient}).
 */
export interface A2AClient {
  /**
   * message/send, non-blocking (§7.1, `configuration.blocking: false`): the Task as accepted, or a direct Message.
   * @throws ActorlogError PERMANENT with `details.rpcCode` -32004 when `taskId` names a terminal task.
   */
  sendMessage(args: SendMessageArgs, options?: CallOptions): Promise<A2ASendResult>;
  /**
   * tasks/get (§7.3).
   * @throws ActorlogError PERMANENT with `details.rpcCode` -32001 for an unknown task.
   */
  getTask(taskId: string, options?: CallOptions): Promise<A2ATask>;
  /**
   * tasks/cancel (§7.4): the task as the agent left it (normally `canceled`).
   * @throws ActorlogError PERMANENT with `details.rpcCode` -32002 when the task already ended otherwise.
   */
  cancelTask(taskId: string, options?: CallOptions): Promise<A2ATask>;
  /**
   * tasks/resubscribe (§7.9): the SSE frames, completing when the server ends the stream; unsubscribing
   * aborts. Errors: TRANSIENT (connection lost mid-stream), PERMANENT (HTTP 4xx, or a JSON-RPC error
   * frame, e.g. `rpcCode` -32004 for a task already terminal). Malformed frames are `{ ok: false }` values.
   */
  resubscribe(taskId: string): Observable<StreamFrame>;
}

/** Raw payloads kept in errors and `job.invalid` events are cut to 4 KiB (src/transport/classify.ts). */
export { MAX_RAW_BYTES, truncateRaw } from '../../src/transport/classify.ts';

function fail(code: ErrorCode, method: string, reason: string, details: Record<string, unknown>, cause?: unknown): ActorlogError {
  return new ActorlogError(code, `A2A ${method}: ${reason}`, { cause, details: { method, ...details } });
}

function rpcError(method: string, error: JsonRpcError): ActorlogError {
  const rpcMessage = error.message.slice(0, 500);
  return fail('PERMANENT', method, `JSON-RPC error ${error.code}: ${rpcMessage}`, { rpcCode: error.code, rpcMessage });
}

function invalid(method: string, raw: string, error: string): ActorlogError {
  return invalidPayload(`A2A ${method}`, raw, error);
}

/** Parses a JSON-RPC response body with the one decoder: the checked `result`, or throws PERMANENT (rpc error) / INVALID_PAYLOAD. */
function parseResponse<T>(method: string, raw: string, schema: z.ZodType<T>, maxBytes = A2A_MAX_BODY_BYTES): T {
  const envelope = decodeJson(raw, JsonRpcResponseSchema, { maxBytes });
  if (!envelope.ok) throw invalid(method, raw, envelope.error);
  if ('error' in envelope.value) throw rpcError(method, envelope.value.error);
  const result = schema.safeParse(envelope.value.result);
  if (!result.success) throw invalid(method, raw, z.prettifyError(result.error));
  return result.data;
}

/** One SSE event as a frame; a JSON-RPC error (in `event: error` or `data:`) ends the stream as PERMANENT. */
function parseFrame(method: string, event: { data: string }, maxBytes: number): StreamFrame | ActorlogError {
  try {
    return { ok: true, value: parseResponse(method, event.data, StreamResultSchema, maxBytes) };
  } catch (err) {
    const e = err as ActorlogError;
    if (e.code !== 'INVALID_PAYLOAD') return e;
    return { ok: false, raw: String(e.details?.raw), error: String(e.details?.error) };
  }
}

/**
 * Creates an A2A v0.3 JSON-RPC client over undici (SSE parsed by eventsource-parser).
 * Failures are classified once: network errors, HTTP 5xx/429/408 -> `TRANSIENT` (`details.status`);
 * other 4xx and JSON-RPC errors -> `PERMANENT` (`details.status` or `details.rpcCode`); a body that is
 * not JSON or fails its schema -> `INVALID_PAYLOAD` (`details.raw`, at most 4 KiB, and `details.error`);
 * no byte for `stallTimeoutMs` (45 s) -> `TRANSIENT` with `details.cause` `stall`.
 * Requests carry `A2A-Version: 0.3`. The tasks/resubscribe stream is read by the SSE source's
 * connection (src/sources/sse/connection.ts: eventsource-parser, stall timer, error classification).
 * @example
 * ```ts
 * const a2a = createA2AClient({ url, headers: { authorization: `Bearer ${token}` } });
 * const task = await a2a.sendMessage({ messageId: 'job-1/submit', text: 'summarise' });
 * a2a.resubscribe(task.id).subscribe((f) => console.log(f.ok ? f.value.kind : f.error));
 * ```
 */
export function createA2AClient(options: A2AClientOptions): A2AClient {
  let nextId = 1;
  const baseHeaders: Record<string, string> = { 'content-type': 'application/json', 'a2a-version': '0.3' };
  for (const [k, v] of Object.entries(options.headers ?? {})) baseHeaders[k.toLowerCase()] = v;

  const stallMs = options.stallTimeoutMs ?? DEFAULT_A2A_STALL_TIMEOUT_MS;
  const maxBytes = options.maxBodyBytes ?? A2A_MAX_BODY_BYTES;
  const scheduler = options.scheduler ?? asyncScheduler;
  const rpcBody = (method: string, params: unknown) => JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params });

  /** One JSON-RPC call: the headers, then the whole body, each within the stall bound (a drip does not re-arm it), then parsed and checked. */
  async function call<T>(method: string, params: unknown, schema: z.ZodType<T>, signal?: AbortSignal): Promise<T> {
    const label = `A2A ${method}`;
    const watch = watchCall(label, { stallTimeoutMs: stallMs, timeoutMs: options.timeoutMs }, scheduler, signal);
    let raw = '';
    try {
      const res = await request(options.url, {
        method: 'POST',
        headers: { ...baseHeaders, accept: 'application/json' },
        body: rpcBody(method, params),
        signal: watch.signal,
        dispatcher: options.dispatcher,
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      watch.answered();
      if (res.statusCode >= 400) {
        await res.body.dump().catch(() => undefined);
        throw httpStatusError(label, res.statusCode, { method }, res.headers);
      }
      raw = await readBodyText(res.body, { label, maxBytes });
    } catch (err) {
      throw err instanceof ActorlogError && watch.expired === undefined ? err : watch.error(err);
    } finally {
      watch.stop();
    }
    return parseResponse(method, raw, schema, maxBytes);
  }

  return {
    sendMessage(args, opts) {
      const parts: unknown[] = [{ kind: 'text', text: args.text }];
      if (args.data) parts.push({ kind: 'data', data: args.data });
      const message = { kind: 'message', role: 'user', messageId: args.messageId, parts, taskId: args.taskId, contextId: args.contextId };
      return call('message/send', { message, configuration: { blocking: false } }, SendMessageResultSchema, opts?.signal);
    },
    getTask: (taskId, opts) => call('tasks/get', { id: taskId }, TaskSchema, opts?.signal),
    cancelTask: (taskId, opts) => call('tasks/cancel', { id: taskId }, TaskSchema, opts?.signal),
    resubscribe(taskId) {
      const method = 'tasks/resubscribe';
      return defer(() =>
        openSseConnection(
          { url: options.url, method: 'POST', headers: { ...baseHeaders, accept: 'text/event-stream' }, body: rpcBody(method, { id: taskId }) },
          { label: `A2A ${method}`, stallTimeoutMs: stallMs, scheduler, dispatcher: options.dispatcher, maxEventChars: maxBytes, maxBodyBytes: maxBytes },
        ),
      ).pipe(
        concatMap((item): Observable<StreamFrame> => {
          if (item.kind === 'message') {
            const frame = parseFrame(method, item.message, maxBytes);
            return frame instanceof ActorlogError ? throwError(() => frame) : of(frame);
          }
          // Not an event stream: a JSON-RPC error answer (e.g. -32004 for a task already terminal), thrown.
          if (item.kind === 'body')
            return defer(() => {
              parseResponse(method, item.text, z.never(), maxBytes);
              return EMPTY;
            });
          return EMPTY;
        }),
      );
    },
  };
}

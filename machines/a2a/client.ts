import { asyncScheduler, concatMap, defer, EMPTY, Observable, of, throwError, type SchedulerLike } from 'rxjs';
import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { ActorlogError, type ErrorCode } from '../../src/errors.ts';
import { httpStatusError, invalidPayload, networkError } from '../../src/transport/classify.ts';
import { openSseConnection } from '../../src/sources/sse/connection.ts';
import { DEFAULT_A2A_STALL_TIMEOUT_MS, watchStall } from './stall.ts';
import {
  JsonRpcResponseSchema, SendMessageResultSchema, StreamResultSchema, TaskSchema,
  type A2ASendResult, type A2AStreamResult, type A2ATask, type JsonRpcError,
} from './schemas.ts';
import { parseJson } from '../../src/transport/boundedJson.ts';

/** Options of {@link createA2AClient}. `headers` may carry secrets: they never reach an error or a result. */
export interface A2AClientOptions {
  /** The agent's JSON-RPC endpoint (A2A v0.3 §3.2.1), e.g. `http://127.0.0.1:4000/a2a/jsonrpc`. */
  url: string;
  /** Extra request headers (e.g. `authorization`). */
  headers?: Record<string, string>;
  /** An undici dispatcher (pool, agent, mock); the global dispatcher when omitted. */
  dispatcher?: Dispatcher;
  /**
   * No byte for this long, ms, fails a call (message/send, tasks/get, tasks/cancel) or a
   * tasks/resubscribe stream `TRANSIENT` with `details { cause: 'stall', stallTimeoutMs }`: the job
   * machine then retries the call or resubscribes. The same bound as the SSE source (MCP, OpenCode),
   * instead of undici's 300 s defaults. 0 disables it.
   * @default 45000
   */
  stallTimeoutMs?: number;
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
export interface CallOptions { signal?: AbortSignal }

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

/** Network failures are TRANSIENT; an abort is ABORTED; an ActorlogError passes through. */
function transportError(method: string, err: unknown): ActorlogError {
  return networkError(`A2A ${method}`, err);
}

/** 5xx, 429 and 408 are TRANSIENT (retry with backoff); any other 4xx is PERMANENT. */
function statusError(method: string, status: number): ActorlogError {
  return httpStatusError(`A2A ${method}`, status, { method });
}

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

/** Parses a JSON-RPC response body: the checked `result`, or throws PERMANENT (rpc error) / INVALID_PAYLOAD. */
function parseResponse<T>(method: string, raw: string, schema: z.ZodType<T>): T {
  let json: unknown;
  const parsed = parseJson(raw); // bounded: depth and size (binding kit)
  if (!parsed.ok) throw invalid(method, raw, parsed.error);
  json = parsed.value;
  const envelope = JsonRpcResponseSchema.safeParse(json);
  if (!envelope.success) throw invalid(method, raw, z.prettifyError(envelope.error));
  if ('error' in envelope.data) throw rpcError(method, envelope.data.error);
  const result = schema.safeParse(envelope.data.result);
  if (!result.success) throw invalid(method, raw, z.prettifyError(result.error));
  return result.data;
}

/** One SSE event as a frame; a JSON-RPC error (in `event: error` or `data:`) ends the stream as PERMANENT. */
function parseFrame(method: string, event: { data: string }): StreamFrame | ActorlogError {
  try {
    return { ok: true, value: parseResponse(method, event.data, StreamResultSchema) };
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
  const scheduler = options.scheduler ?? asyncScheduler;
  const rpcBody = (method: string, params: unknown) => JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params });

  /** One JSON-RPC call: the body read whole under the stall watchdog, then parsed and checked. */
  async function call<T>(method: string, params: unknown, schema: z.ZodType<T>, signal?: AbortSignal): Promise<T> {
    const watch = watchStall(`A2A ${method}`, stallMs, scheduler, signal);
    let raw = '';
    try {
      const res = await request(options.url, {
        method: 'POST', headers: { ...baseHeaders, accept: 'application/json' }, body: rpcBody(method, params), signal: watch.signal, dispatcher: options.dispatcher,
      });
      watch.touch();
      if (res.statusCode >= 400) {
        await res.body.dump().catch(() => undefined);
        throw statusError(method, res.statusCode);
      }
      const decoder = new TextDecoder();
      for await (const chunk of res.body) { watch.touch(); raw += decoder.decode(chunk as Buffer, { stream: true }); }
      raw += decoder.decode();
    } catch (err) {
      if (watch.stalled) throw watch.stalledError(err);
      throw transportError(method, err);
    } finally { watch.stop(); }
    return parseResponse(method, raw, schema);
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
      return defer(() => openSseConnection(
        { url: options.url, method: 'POST', headers: { ...baseHeaders, accept: 'text/event-stream' }, body: rpcBody(method, { id: taskId }) },
        { label: `A2A ${method}`, stallTimeoutMs: stallMs, scheduler, dispatcher: options.dispatcher },
      )).pipe(concatMap((item): Observable<StreamFrame> => {
        if (item.kind === 'message') {
          const frame = parseFrame(method, item.message);
          return frame instanceof ActorlogError ? throwError(() => frame) : of(frame);
        }
        // Not an event stream: a JSON-RPC error answer (e.g. -32004 for a task already terminal), thrown.
        if (item.kind === 'body') return defer(() => { parseResponse(method, item.text, z.never()); return EMPTY; });
        return EMPTY;
      }));
    },
  };
}

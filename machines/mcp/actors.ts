import { asyncScheduler, catchError, concat, concatMap, defer, EMPTY, Observable, of, takeWhile, throwError, timer, type SchedulerLike } from 'rxjs';
import { fromEventObservable, type ObservableActorLogic } from 'xstate';
import { ActorlogError, isActorlogError, textOf } from '../../src/errors.ts';
import { keepRaw } from '../../src/transport/classify.ts';
import type { AbortInput, CloseInput, EventsInput, OpenInput, PromptInput, SessionChannel, SessionWireEvent, WireMeta } from '../session/events.ts';
import { answerLost, createMcpClient, MCP_MAX_MESSAGE_BYTES, parseRpcMessage, type McpClient, type McpClientOptions } from './client.ts';
import { recordInvalidThenFail } from '../../src/binding/index.ts';
import { CallToolResultSchema, ProgressParamsSchema, rpcKind } from './schemas.ts';
import { fromCall } from '../../src/transport/fromCall.ts';
import { streamNotice as notice } from '../session/streamNotice.ts';

/** An XState actor logic that sends {@link SessionWireEvent}s to its parent, then completes. */
export type SessionWireLogic<TInput> = ObservableActorLogic<SessionWireEvent, TInput>;

/** The five actor logics the session machine invokes. */
export interface McpSessionActors {
  open: SessionWireLogic<OpenInput>;
  events: SessionWireLogic<EventsInput>;
  prompt: SessionWireLogic<PromptInput>;
  abort: SessionWireLogic<AbortInput>;
  close: SessionWireLogic<CloseInput>;
}

/**
 * The diagnostic logged before an event whose SSE id an earlier event of the stream carried with other
 * content (MCP requires ids unique per session; a server that reuses them): the event is delivered
 * all the same, never dropped as a replay.
 */
const idReused = (id: string | undefined, channel: SessionChannel): SessionWireEvent => ({
  type: 'session.event',
  kind: 'mcp.event-id-reused',
  data: { id: id ?? '' },
  meta: { source: 'sse' },
  ...(channel === 'prompt' ? { channel } : {}),
});

/** Options of the MCP binding. */
export interface McpBindingOptions extends McpClientOptions {
  /** Follow the session's standalone `GET` stream (server notifications outside any request). @default true */
  standaloneStream?: boolean;
}

/**
 * Maps one message of an MCP stream (an SSE `data:` or a JSON body) to session events: the priming
 * event (empty data) -> `session.event` `mcp.priming`; `notifications/progress` for `promptId` ->
 * a `progress` part; the response to `promptId` -> `session.ended` (`failed` for a JSON-RPC error or
 * `isError: true`) with the text content as `output` and the CallToolResult as `result`; anything
 * else -> `session.event` with its params; a message failing its schema -> `session.invalid`.
 */
export function mapMcpMessage(
  raw: string,
  promptId: string | undefined,
  meta: WireMeta,
  channel: SessionChannel,
  maxBytes = MCP_MAX_MESSAGE_BYTES,
): SessionWireEvent {
  const tag = <E extends SessionWireEvent>(e: E): E => (channel === 'prompt' ? { ...e, channel } : e);
  if (raw.trim() === '') return tag({ type: 'session.event', kind: 'mcp.priming', meta });
  let message;
  try {
    message = rpcKind(parseRpcMessage('MCP stream', raw, { maxBytes }));
  } catch (err) {
    const details = isActorlogError(err) ? err.details : undefined;
    return tag({ type: 'session.invalid', raw: keepRaw(raw), error: textOf(details?.error ?? (err as Error).message), meta });
  }
  if (message.kind === 'notification' && message.method === 'notifications/progress') {
    const p = ProgressParamsSchema.safeParse(message.params);
    if (!p.success) return tag({ type: 'session.invalid', raw: keepRaw(raw), error: `notifications/progress: ${p.error.message}`, meta });
    if (String(p.data.progressToken) === promptId) {
      const part = {
        id: promptId,
        type: 'progress' as const,
        progress: p.data.progress,
        ...(p.data.total === undefined ? {} : { total: p.data.total }),
        ...(p.data.message === undefined ? {} : { text: p.data.message }),
      };
      return tag({ type: 'session.part', kind: message.method, part, promptId, meta });
    }
  }
  if (message.kind === 'notification' || message.kind === 'request')
    return tag({ type: 'session.event', kind: message.method, data: message.params ?? {}, meta });
  if (String(message.id) !== promptId) return tag({ type: 'session.event', kind: 'mcp.response', data: { id: message.id }, meta });
  if (message.kind === 'error') {
    const error = { name: 'JsonRpcError', code: 'PERMANENT', message: `JSON-RPC error ${message.error.code}: ${message.error.message.slice(0, 500)}` };
    return tag({ type: 'session.ended', kind: 'tools/call', reason: 'failed', error, meta });
  }
  const result = CallToolResultSchema.safeParse(message.result);
  if (!result.success) return tag({ type: 'session.invalid', raw: keepRaw(raw), error: `CallToolResult: ${result.error.message}`, meta });
  const output = result.data.content.map((c) => c.text ?? '').join('');
  const ended: SessionWireEvent = {
    type: 'session.ended',
    kind: 'tools/call',
    reason: result.data.isError ? 'failed' : 'completed',
    output,
    result: result.data,
    meta,
  };
  if (result.data.isError) ended.error = { name: 'ToolError', message: output.slice(0, 500) };
  return tag(ended);
}

const isAnswer = (e: SessionWireEvent) => e.type === 'session.ended';

/**
 * The prompt cursor logged right before a tools/call is POSTed: the request is out and no SSE event
 * id has arrived yet. An empty id is no resume point in SSE (WHATWG HTML §9.2.6), so nothing is
 * resumed from it; it only tells a re-run (recovery, retry) that the call may have run.
 */
export const SENT_CURSOR = '';

function prompt(client: McpClient, input: PromptInput, scheduler: SchedulerLike, maxBytes: number): Observable<SessionWireEvent> {
  const p = input.prompt;
  if (p.kind !== 'tool') {
    return defer(() =>
      throwError(() => new ActorlogError('PERMANENT', `MCP sessions take tool calls, not "${p.kind}" prompts`, { details: { kind: p.kind } })),
    );
  }
  const idempotent = p.idempotent === true;
  // Sent before, and no event id logged since: MCP cannot tell whether the tool ran. Re-send only an idempotent call.
  if (input.cursor === SENT_CURSOR && !idempotent) return defer(() => throwError(() => answerLost('MCP tools/call', input.promptId)));
  const resumeFrom = input.cursor === SENT_CURSOR ? undefined : input.cursor;
  // The JSON-RPC id and the progress token are the prompt's idempotency key, fixed in the log before the POST.
  const message = {
    id: input.promptId,
    method: 'tools/call',
    params: { name: p.name, arguments: p.arguments ?? {}, _meta: { progressToken: input.promptId } },
  };
  const stream = client.requestStream(input.remoteId, message, resumeFrom, { idempotent }).pipe(
    concatMap((item): Observable<SessionWireEvent> => {
      if (item.kind === 'open' || item.kind === 'retry') return of(notice(item, 'prompt'));
      if (item.kind === 'body') return of(mapMcpMessage(item.text, input.promptId, { source: 'sse' }, 'prompt', maxBytes));
      const meta: WireMeta = item.cursor === undefined ? { source: 'sse' } : { source: 'sse', cursor: item.cursor };
      const mapped = mapMcpMessage(item.data, input.promptId, meta, 'prompt', maxBytes);
      return item.cursorReused ? of(idReused(item.cursor, 'prompt'), mapped) : of(mapped);
    }),
    takeWhile((e) => !isAnswer(e), true),
    catchError(recordInvalidThenFail<SessionWireEvent>('session.invalid', { source: 'sse' })), // an event over the parser's bound: recorded raw
  );
  if (resumeFrom !== undefined) return stream;
  const sent: SessionWireEvent = {
    type: 'session.event',
    kind: 'mcp.request-sent',
    channel: 'prompt',
    data: { id: input.promptId, method: 'tools/call', idempotent },
    meta: { source: 'sse', cursor: SENT_CURSOR },
  };
  // POST on the next macrotask, once the parent has appended (and, in tick mode, committed) `sent`:
  // a kill -9 can then never leave a POST on the wire that the log does not know about.
  return concat(of(sent), timer(0, scheduler).pipe(concatMap(() => stream)));
}

function events(client: McpClient, options: McpBindingOptions, input: EventsInput): Observable<SessionWireEvent> {
  if (options.standaloneStream === false) return EMPTY;
  const maxBytes = options.maxMessageBytes ?? MCP_MAX_MESSAGE_BYTES;
  return client.standaloneStream(input.remoteId, input.cursor).pipe(
    concatMap((item): Observable<SessionWireEvent> => {
      if (item.kind === 'open' || item.kind === 'retry') return of(notice(item, 'events'));
      if (item.kind === 'body') return EMPTY;
      const meta: WireMeta = item.cursor === undefined ? { source: 'sse' } : { source: 'sse', cursor: item.cursor };
      const mapped = mapMcpMessage(item.data, undefined, meta, 'events', maxBytes);
      return item.cursorReused ? of(idReused(item.cursor, 'events'), mapped) : of(mapped);
    }),
    // A server without a standalone stream answers 405 (MCP "Listening for Messages from the Server");
    // one that still holds an earlier GET stream of this session answers 409. Neither ends the session.
    catchError(recordInvalidThenFail<SessionWireEvent>('session.invalid', { source: 'sse' })), // an event over the parser's bound: recorded raw
    catchError((err: unknown) => {
      const status = isActorlogError(err, 'PERMANENT') ? err.details?.status : undefined;
      if (status !== 405 && status !== 409) return throwError(() => err);
      return of<SessionWireEvent>({ type: 'session.event', kind: 'mcp.no-standalone-stream', data: { status }, meta: { source: 'sse' } });
    }),
  );
}

/**
 * The MCP binding's actors for the generic session machine (MCP 2025-11-25 Streamable HTTP, spoken
 * with undici and actorlog's SSE source, payloads checked with zod):
 * - `open`: `initialize` (the answer's `mcp-session-id` header is the session's remote id), then
 *   `notifications/initialized` -> `session.opened`; with `input.remoteId`, attach without initializing.
 * - `events`: the standalone `GET` stream, resumed with `Last-Event-ID` from `input.cursor`; its
 *   notifications -> `session.event` (405 or 409: no such stream for us, recorded, the actor completes).
 * - `prompt`: `tools/call` with `id` and `_meta.progressToken` = `promptId`; its SSE answer streams
 *   the priming event, `notifications/progress` (-> progress parts) and the result (-> `session.ended`),
 *   each with `meta.cursor` = the SSE event id. A dropped stream, or a recovery with `input.cursor`,
 *   resumes by `GET` with `Last-Event-ID`: the server replays what was missed, nothing is re-posted.
 *   Before the POST it logs `session.event` `mcp.request-sent` with cursor {@link SENT_CURSOR} (`''`).
 *   When the answer is lost before any event id (a drop, or a kill -9 and recovery with cursor `''`),
 *   MCP has no idempotency for tools/call: only a prompt with `idempotent: true` is POSTed again;
 *   any other ends the turn `failed` with `OUTCOME_UNKNOWN` (never a silent second run).
 * - `abort`: `notifications/cancelled { requestId: promptId }`, then `session.ended` aborted (the
 *   server sends no answer to a cancelled request, "Cancellation").
 * - `close`: `DELETE` the session.
 *
 * @example
 * ```ts
 * const machine = sessionMachine.provide({ actors: mcpSessionActors({ url: 'http://127.0.0.1:3000/mcp' }) });
 * session.send({ type: 'session.prompt', prompt: { kind: 'tool', name: 'count', arguments: { n: 5 } } });
 * ```
 */
export function mcpSessionActors(options: McpBindingOptions): McpSessionActors {
  const client = createMcpClient(options);
  return {
    open: fromEventObservable<SessionWireEvent, OpenInput>(({ input }) => {
      if (input.remoteId) return of<SessionWireEvent>({ type: 'session.opened', remoteId: input.remoteId, status: 'idle' });
      return fromCall((o) => client.initialize(o)).pipe(
        concatMap(({ sessionId, result }) =>
          of<SessionWireEvent>({
            type: 'session.opened',
            remoteId: sessionId,
            status: 'idle',
            title: `${result.serverInfo.name} ${result.serverInfo.version}`,
          }),
        ),
        // a malformed initialize answer is recorded raw (bounded) as session.invalid, then the open fails
        catchError(recordInvalidThenFail<SessionWireEvent>('session.invalid', { source: 'sse' })),
      );
    }),
    events: fromEventObservable<SessionWireEvent, EventsInput>(({ input }) => events(client, options, input)),
    prompt: fromEventObservable<SessionWireEvent, PromptInput>(({ input }) =>
      prompt(client, input, options.scheduler ?? asyncScheduler, options.maxMessageBytes ?? MCP_MAX_MESSAGE_BYTES),
    ),
    abort: fromEventObservable<SessionWireEvent, AbortInput>(({ input }) => {
      if (!input.promptId) return EMPTY;
      const cancel = fromCall((o) =>
        client.notify(input.remoteId, 'notifications/cancelled', { requestId: input.promptId!, reason: 'aborted by the client' }, o),
      );
      return concat(cancel.pipe(concatMap(() => EMPTY)), of<SessionWireEvent>({ type: 'session.ended', kind: 'notifications/cancelled', reason: 'aborted' }));
    }),
    close: fromEventObservable<SessionWireEvent, CloseInput>(({ input }) =>
      fromCall((o) => client.deleteSession(input.remoteId, o)).pipe(concatMap(() => EMPTY)),
    ),
  };
}

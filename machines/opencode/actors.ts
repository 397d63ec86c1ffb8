import {
  asyncScheduler,
  catchError,
  concat,
  concatMap,
  defer,
  EMPTY,
  exhaustMap,
  filter,
  from,
  map,
  Observable,
  of,
  retry,
  take,
  throwError,
  timer,
  type SchedulerLike,
} from 'rxjs';
import { fromEventObservable, type ObservableActorLogic } from 'xstate';
import { ActorlogError } from '../../src/errors.ts';
import { sse } from '../../src/sources/sse/index.ts';
import type { SseRetryOptions } from '../../src/sources/sse/retryPolicy.ts';
import type { AbortInput, CloseInput, EventsInput, OpenInput, PromptInput, SessionWireEvent, WireMeta } from '../session/events.ts';
import {
  createOpencodeClient,
  opencodeMessageId,
  opencodeSessionId,
  toServerModel,
  toServerTools,
  type OpencodeClient,
  type OpencodeClientOptions,
  type PromptBody,
} from './client.ts';
import { durableCursor, mapDurableEvent, mapGlobalEvent, messageText, type MessageMemo } from './mapEvents.ts';
import type { OpencodeMessage } from './schemas.ts';
import { fromCall } from '../../src/transport/fromCall.ts';
import { backoffDelay } from '../../src/transport/backoff.ts';
import { isTransient } from '../../src/transport/classify.ts';
import { notDelivered } from '../../src/transport/outcome.ts';
import { retryAfterMsOf } from '../../src/transport/retryAfter.ts';
import { streamNotice } from '../session/streamNotice.ts';
import { recordInvalidThenFail } from '../../src/binding/index.ts';

/** An XState actor logic that sends {@link SessionWireEvent}s to its parent, then completes. */
export type SessionWireLogic<TInput> = ObservableActorLogic<SessionWireEvent, TInput>;

/** The five actor logics the session machine invokes. */
export interface OpencodeSessionActors {
  open: SessionWireLogic<OpenInput>;
  events: SessionWireLogic<EventsInput>;
  prompt: SessionWireLogic<PromptInput>;
  abort: SessionWireLogic<AbortInput>;
  close: SessionWireLogic<CloseInput>;
}

/** Options of the OpenCode binding (all optional: `url` defaults to seed 001's `http://127.0.0.1:4096`). Secrets (`password`) stay in the actors' closure. */
export interface OpencodeBindingOptions extends OpencodeClientOptions {
  /**
   * `v2` (default): sessions created with our own id (idempotent), prompts admitted durably with an
   * idempotency key, events from the durable stream `GET /api/session/:id/event?after=SEQ` resumed
   * from the logged `durable.seq`. `v1`: the seed's API, `POST /session`, `prompt_async` or
   * `message`, and the global stream `GET /event`, which has no cursor: after each (re)connection the
   * session's status and last answer are re-read over HTTP (`session.synced`).
   */
  api?: 'v1' | 'v2';
  /** v1 text prompts: `async` (prompt_async, the answer streams) or `sync` (POST /message waits for it). @default 'async' */
  promptMode?: 'async' | 'sync';
  /** The agent that runs shell commands. @default 'build' */
  agent?: string;
  /**
   * Stall timeout of the event stream, ms. v1: OpenCode sends `server.heartbeat` every 10 s on
   * /event. v2: the durable stream sends no heartbeat (nor even its headers before its first event),
   * so a quiet session is not a stalled one. @default 30000 for v1, 0 (off) for v2
   */
  stallTimeoutMs?: number;
  /** Reconnection policy of the event stream. @default { maxAttempts: 5, baseMs: 500 } */
  retry?: SseRetryOptions;
  /** Scheduler of the stream's backoff and stall timers, of the request timeout (`timeoutMs`) and of the shell follower. @default asyncScheduler */
  scheduler?: SchedulerLike;
  /**
   * How often a shell command whose answer was lost (a timeout, a kill -9) is looked up in the
   * session's messages until it finishes, ms. @default 1000
   */
  shellPollIntervalMs?: number;
}

/**
 * The prompt cursor logged right before a shell command is POSTed: the request may be out, its
 * answer not in. A re-run (retry, recovery) that sees it looks the command up instead of re-sending it.
 */
export const SHELL_SENT_CURSOR = '';
/** The prompt cursor logged when a shell command's POST certainly never reached the server (refused, 408, 429, 503): a re-run sends it afresh. */
export const SHELL_UNSENT_CURSOR = 'unsent';

const POLL: WireMeta = { source: 'poll' };

/** The turn's end from a finished message (sync prompt, shell): aborted, failed or completed, with its text. */
function endedFromMessage(kind: string, message: OpencodeMessage): SessionWireEvent {
  const output = messageText(message) || message.parts.map((p) => p.state?.output ?? '').join('');
  const err = message.info.error;
  if (err?.name === 'MessageAbortedError') return { type: 'session.ended', kind, reason: 'aborted', output, channel: 'prompt' };
  if (err)
    return { type: 'session.ended', kind, reason: 'failed', output, error: { name: err.name, message: err.data?.message ?? err.name }, channel: 'prompt' };
  return { type: 'session.ended', kind, reason: 'completed', output, channel: 'prompt' };
}

/**
 * v1: re-reads status and last answer over HTTP (the global stream has no cursor to resume from). A
 * transient failure (network, 5xx, a timeout) is retried with the shared backoff (a 429/503's
 * Retry-After honoured) up to `retry.maxAttempts` (5) times: one 503 does not end the session.
 */
function sync(client: OpencodeClient, remoteId: string, options: OpencodeBindingOptions): Observable<SessionWireEvent> {
  const scheduler = options.scheduler ?? asyncScheduler;
  return fromCall(async (o) => {
    const statuses = await client.sessionStatus(o);
    const status = statuses[remoteId]?.type === 'busy' || statuses[remoteId]?.type === 'retry' ? ('busy' as const) : ('idle' as const);
    const event: SessionWireEvent = { type: 'session.synced', status, meta: POLL };
    if (status === 'idle') {
      const last = (await client.messages(remoteId, o)).filter((m) => m.info.role === 'assistant').at(-1);
      if (last) event.output = messageText(last);
    }
    return event;
  }).pipe(
    retry({
      count: options.retry?.maxAttempts ?? 5,
      delay: (err: unknown, n: number) => (isTransient(err) ? timer(backoffDelay(n, options.retry, retryAfterMsOf(err)), scheduler) : throwError(() => err)),
    }),
  );
}

/** The answer to our shell command in the session's messages: asked (its user message is there), and its first run's answer. */
function shellRun(messages: OpencodeMessage[], messageID: string): { asked: boolean; answer?: OpencodeMessage } {
  return { asked: messages.some((m) => m.info.id === messageID), answer: messages.find((m) => m.info.role === 'assistant' && m.info.parentID === messageID) };
}

/**
 * A shell command whose answer was lost: look its `messageID` up in the session's messages (the
 * server has them) and follow it until its answer is finished; when it is absent, re-send it only
 * when the prompt is idempotent, else fail `OUTCOME_UNKNOWN` (OpenCode would run it again).
 */
function followShell(
  client: OpencodeClient,
  options: OpencodeBindingOptions,
  input: PromptInput,
  messageID: string,
  resend: () => Observable<SessionWireEvent>,
  cause?: unknown,
): Observable<SessionWireEvent> {
  const idempotent = input.prompt.kind === 'shell' && input.prompt.idempotent === true;
  const scheduler = options.scheduler ?? asyncScheduler;
  const lookup = fromCall((o) => client.messages(input.remoteId, o)).pipe(
    retry({
      count: options.retry?.maxAttempts ?? 5, // a busy server may answer the look-up slowly: transient failures are retried here
      delay: (err: unknown, n: number) => (isTransient(err) ? timer(backoffDelay(n, options.retry, retryAfterMsOf(err)), scheduler) : throwError(() => err)),
    }),
  );
  return timer(0, options.shellPollIntervalMs ?? 1000, scheduler).pipe(
    exhaustMap(() => lookup),
    map((messages) => shellRun(messages, messageID)),
    concatMap((run): Observable<SessionWireEvent | undefined> => {
      if (!run.asked) {
        if (idempotent) return resend();
        return throwError(
          () =>
            new ActorlogError(
              'OUTCOME_UNKNOWN',
              `OpenCode POST /session/:id/shell (messageID ${messageID}): the answer was lost and the session has no such message: the command may still arrive and run; OpenCode runs a re-sent command again, so it is not re-sent (mark the prompt idempotent to have it re-sent)`,
              { cause, details: { messageID, promptId: input.promptId, lostAnswer: true } },
            ),
        );
      }
      return of(run.answer?.info.time?.completed !== undefined ? endedFromMessage('shell', run.answer) : undefined);
    }),
    filter((e): e is SessionWireEvent => e !== undefined),
    take(1),
  );
}

/**
 * A shell command (seed 001 `RunShell`): logs {@link SHELL_SENT_CURSOR} on the prompt channel, then
 * POSTs on the next macrotask. A re-run that finds that cursor, and a call whose answer was lost
 * after the request may have been written (timeout, reset), look the command up ({@link followShell}).
 */
function shell(client: OpencodeClient, options: OpencodeBindingOptions, input: PromptInput, messageID: string): Observable<SessionWireEvent> {
  const p = input.prompt as Extract<PromptInput['prompt'], { kind: 'shell' }>;
  const send = (): Observable<SessionWireEvent> =>
    fromCall((o) => client.shell(input.remoteId, { command: p.command, agent: options.agent ?? 'build', messageID }, o)).pipe(
      map((m) => endedFromMessage('shell', m)),
      catchError((err: unknown) => {
        if (!isTransient(err)) return throwError(() => err);
        if (!notDelivered(err)) return followShell(client, options, input, messageID, send, err);
        const unsent: SessionWireEvent = {
          type: 'session.event',
          kind: 'opencode.shell-not-sent',
          channel: 'prompt',
          data: { messageID },
          meta: { source: 'sse', cursor: SHELL_UNSENT_CURSOR },
        };
        return concat(
          of(unsent),
          throwError(() => err),
        ); // never reached the server: the retry sends it afresh
      }),
    );
  if (input.cursor === SHELL_SENT_CURSOR) return followShell(client, options, input, messageID, send);
  const sent: SessionWireEvent = {
    type: 'session.event',
    kind: 'opencode.shell-sent',
    channel: 'prompt',
    data: { messageID, idempotent: p.idempotent === true },
    meta: { source: 'sse', cursor: SHELL_SENT_CURSOR },
  };
  // POST on the next macrotask, once the parent has appended `sent`: a kill -9 never leaves a command on the wire the log does not know about.
  return concat(of(sent), timer(0, options.scheduler ?? asyncScheduler).pipe(concatMap(send)));
}

function openSession(client: OpencodeClient, options: OpencodeBindingOptions, input: OpenInput): Observable<SessionWireEvent> {
  return fromCall(async (o): Promise<SessionWireEvent> => {
    const health = await client.health(o);
    if (!health.healthy) throw new ActorlogError('TRANSIENT', `OpenCode server ${health.version} reports unhealthy`, { details: { version: health.version } });
    if (options.api === 'v1') {
      const body = { ...(input.title === undefined ? {} : { title: input.title }), ...(input.parentId === undefined ? {} : { parentID: input.parentId }) };
      const session = input.remoteId ? await client.getSession(input.remoteId, o) : await client.createSession(body, o);
      const statuses = await client.sessionStatus(o);
      return { type: 'session.opened', remoteId: session.id, title: session.title, status: statuses[session.id]?.type === 'busy' ? 'busy' : 'idle' };
    }
    if (input.parentId !== undefined && !input.remoteId) {
      throw new ActorlogError('PERMANENT', "OpenCode v2 sessions (POST /api/session) take no parentID: use api: 'v1' for a child session", {
        details: { parentId: input.parentId },
      });
    }
    const session = input.remoteId ? await client.getSessionV2(input.remoteId, o) : await client.createSessionV2(opencodeSessionId(input.sessionKey), o);
    const active = await client.activeV2(o);
    return { type: 'session.opened', remoteId: session.id, title: session.title, status: active.includes(session.id) ? 'busy' : 'idle' };
  });
}

function events(client: OpencodeClient, options: OpencodeBindingOptions, input: EventsInput): Observable<SessionWireEvent> {
  const common = {
    stallTimeoutMs: options.stallTimeoutMs ?? (options.api === 'v1' ? 30_000 : 0),
    retry: options.retry,
    scheduler: options.scheduler,
    dispatcher: options.dispatcher,
  };
  if (options.api === 'v1') {
    const messages: MessageMemo = new Map();
    return sse({
      ...common,
      label: 'OpenCode /event',
      request: () => client.globalEventsRequest(),
      isHeartbeat: (m) => m.data.includes('"server.heartbeat"'),
    }).pipe(
      concatMap((item): Observable<SessionWireEvent> => {
        if (item.kind === 'open') return concat(sync(client, input.remoteId, options), of(streamNotice(item, 'events')));
        if (item.kind === 'retry') return of(streamNotice(item, 'events'));
        if (item.kind === 'message') return from(mapGlobalEvent(item.data, input.remoteId, messages));
        return EMPTY;
      }),
      catchError(recordInvalidThenFail<SessionWireEvent>('session.invalid', { source: 'sse' })),
    );
  }
  return sse({
    ...common,
    label: 'OpenCode session events',
    request: ({ cursor }) => client.durableEventsRequest(input.remoteId, cursor),
    resume: 'request',
    cursor: input.cursor,
    cursorOf: (m) => durableCursor(m.data),
    isDuplicate: (next, last) => last !== undefined && Number(next) <= Number(last),
  }).pipe(
    concatMap((item): Observable<SessionWireEvent> => {
      if (item.kind === 'open' || item.kind === 'retry') return of(streamNotice(item, 'events'));
      if (item.kind === 'message') return of(mapDurableEvent(item.data));
      return EMPTY;
    }),
    catchError(recordInvalidThenFail<SessionWireEvent>('session.invalid', { source: 'sse' })),
  ); // an event over the parser's bound: recorded raw, then the stream fails
}

function prompt(client: OpencodeClient, options: OpencodeBindingOptions, input: PromptInput): Observable<SessionWireEvent> {
  const messageID = opencodeMessageId(input.remoteId, input.promptId);
  const p = input.prompt;
  if (p.kind === 'shell') return shell(client, options, input, messageID);
  if (p.kind !== 'text') {
    return defer(() => {
      throw new ActorlogError('PERMANENT', `OpenCode sessions take text prompts and shell commands, not "${p.kind}"`, { details: { kind: p.kind } });
    });
  }
  const parts = [{ type: 'text' as const, text: p.text }];
  const extras = (['model', 'agent', 'system', 'tools'] as const).filter((k) => p[k] !== undefined);
  if (options.api !== 'v1') {
    if (extras.length) {
      return defer(() => {
        throw new ActorlogError('PERMANENT', `OpenCode v2 prompts (POST /api/session/:id/prompt) take no ${extras.join(', ')}: use api: 'v1'`, {
          details: { fields: extras },
        });
      });
    }
    return fromCall((o) => client.promptV2(input.remoteId, { id: messageID, text: p.text }, o)).pipe(concatMap(() => EMPTY));
  }
  const body = (): PromptBody => ({
    messageID,
    ...(p.model === undefined ? {} : { model: toServerModel(p.model) }),
    ...(p.agent === undefined ? {} : { agent: p.agent }),
    ...(p.system === undefined ? {} : { system: p.system }),
    ...(p.tools === undefined ? {} : { tools: toServerTools(p.tools) }),
    parts,
  });
  if (options.promptMode === 'sync') {
    return fromCall((o) => client.sendMessage(input.remoteId, body(), o)).pipe(map((m) => endedFromMessage('message', m)));
  }
  return fromCall((o) => client.promptAsync(input.remoteId, body(), o)).pipe(concatMap(() => EMPTY));
}

/**
 * The OpenCode binding's actors for the generic session machine (seed 001 and the server's OpenAPI
 * document), each an XState `fromEventObservable` that sends JSON-safe session events to its parent:
 * - `open`: `GET /global/health`, then create the session (v2: `POST /api/session` with
 *   `ses_<sha256(sessionKey)>`, idempotent; v1: `POST /session { title, parentID }`) or attach to
 *   `input.remoteId`, -> `session.opened` with the session's status. v2 has no `parentID`: a
 *   `parentId` input fails `PERMANENT`.
 * - `events`: the session's stream through the SSE source (src/sources/sse): v2 the durable stream
 *   from `input.cursor` (`?after=SEQ`, cursor = `durable.seq`, duplicates by seq dropped); v1 the
 *   global `GET /event` filtered to this session, `server.heartbeat` as keep-alive, and a
 *   `session.synced` re-read after every (re)connection (a transient failure of the re-read is
 *   retried with backoff). Reconnections -> `session.stream`.
 * - `prompt`: text via v2 `POST /api/session/:id/prompt` (`id` = `msg_<sha256(remoteId, promptId)>`,
 *   admitted once), v1 `prompt_async` or (sync) `POST /session/:id/message` (same `messageID`, and
 *   the prompt's `model`, `agent`, `system`, `tools` as seed 001 sends them, in the server's forms:
 *   {@link toServerModel}, {@link toServerTools}; v2 takes none of them: `PERMANENT`);
 *   shell via `POST /session/:id/shell`. Sync and shell send `session.ended` with the answer. A
 *   shell command is never re-sent blindly: {@link SHELL_SENT_CURSOR} is logged before the POST,
 *   and after a lost answer (timeout, reset, kill -9) its `messageID` is looked up in
 *   `GET /session/:id/message` and followed to its end; absent, it is re-sent only when the prompt
 *   is `idempotent`, else the turn fails `OUTCOME_UNKNOWN`.
 * - `abort`: v2 `POST /api/session/:id/interrupt`, v1 `POST /session/:id/abort`.
 * - `close`: nothing remote (OpenCode sessions outlive their followers).
 * Failures are {@link ActorlogError}s (`TRANSIENT`, `PERMANENT`, `INVALID_PAYLOAD`); a stream payload
 * failing its schema is a `session.invalid` event, not a failure. Stopping an actor aborts its request.
 *
 * @example
 * ```ts
 * const machine = sessionMachine.provide({ actors: opencodeSessionActors({ url: 'http://127.0.0.1:4096' }) });
 * ```
 */
export function opencodeSessionActors(options: OpencodeBindingOptions = {}): OpencodeSessionActors {
  const client = createOpencodeClient(options);
  return {
    open: fromEventObservable<SessionWireEvent, OpenInput>(({ input }) => openSession(client, options, input)),
    events: fromEventObservable<SessionWireEvent, EventsInput>(({ input }) => events(client, options, input)),
    prompt: fromEventObservable<SessionWireEvent, PromptInput>(({ input }) => prompt(client, options, input)),
    abort: fromEventObservable<SessionWireEvent, AbortInput>(({ input }) =>
      fromCall((o) => (options.api === 'v1' ? client.abort(input.remoteId, o) : client.interruptV2(input.remoteId, o))).pipe(concatMap(() => EMPTY)),
    ),
    close: fromEventObservable<SessionWireEvent, CloseInput>(() => EMPTY),
  };
}

import { Observable } from 'rxjs';
import { fromEventObservable } from 'xstate';
import { ActorlogError, describeError, isActorlogError } from '../../src/errors.ts';
import { webSocket } from '../../src/sources/webSocket/webSocket.ts';
import { unlessNotDelivered } from '../../src/transport/outcome.ts';
import { backendDispatch, fromRequest } from '../connection/actors.ts';
import type { ConnectionActors } from '../connection/machine.ts';
import type {
  CommandInput,
  ConnectionMessage,
  ConnectionWireEvent,
  Diagnostic,
  DispatchInput,
  HeartbeatInput,
  ReceiveInput,
  RegisterInput,
  ReplyInput,
} from '../connection/events.ts';
import { createYoiClient, type YoiClient } from './client.ts';
import { backendCommandFromMethod, operationDiagnostics } from './commands.ts';
import { observeFrame, SEQ_FLOOR, unreadableFrame, type SeqPosition } from './observation.ts';
import type { YoiBindingOptions, YoiDelivery } from './options.ts';
import type { YoiEvent } from './schemas.ts';
import { backendCursorSeq, displayLabel, observationWsUrl, type YoiTarget } from './target.ts';
import { transcriptProjectionToEvents, transcriptUnavailable } from './transcript.ts';

const diagnostic = (d: Diagnostic): ConnectionWireEvent => ({ type: 'connection.diagnostic', code: d.code, message: d.message });
const target = (t: Record<string, unknown>) => t as unknown as YoiTarget;
const aborted = (signal: AbortSignal, err: unknown) => signal.aborted || (err as { code?: string })?.code === 'ABORTED';

/**
 * register: the transcript snapshot, its events delivered first. When the projection names its
 * position (`cursor`), the observation resumes from it (no window between the load and the first
 * WebSocket open) and no snapshot is skipped; otherwise, as seed 004, the observation starts
 * without a cursor and its first snapshot is skipped. A failed load is a diagnostic, nothing skipped.
 */
function register(client: YoiClient) {
  return fromRequest<RegisterInput>(async (input, signal) => {
    const t = target(input.target);
    try {
      const transcript = await client.transcript(t, { signal });
      const { events, diagnostics } = transcriptProjectionToEvents(t, transcript);
      const seq = transcript.cursor === undefined ? undefined : backendCursorSeq(transcript.cursor);
      const registration =
        seq === undefined
          ? { skipKind: 'snapshot', transcriptItems: transcript.items.length }
          : { resumeCursor: transcript.cursor, resumeSeq: seq, transcriptItems: transcript.items.length };
      return [
        ...events.map((event, i): ConnectionWireEvent => ({ type: 'connection.message', message: { id: `transcript:${i}`, kind: event.type, body: event } })),
        ...diagnostics.map(diagnostic),
        { type: 'connection.registered', registration },
      ];
    } catch (err) {
      if (aborted(signal, err)) throw err;
      return [diagnostic(transcriptUnavailable(t, describeError(err).message)), { type: 'connection.registered', registration: {} }];
    }
  });
}

/**
 * receive: the observation WebSocket from `input.cursor`, frames mapped by {@link observeFrame}.
 * Ends (the machine reconnects) at a close, a drop (with the seed's "Backend observation WebSocket
 * error for …" diagnostic) or a cursor reset. Fails `TRANSIENT`, after the seed's "… connect failed
 * for …" diagnostic, when the connection could not be made, a refused upgrade (HTTP 4xx) too: seed
 * 004 retries every failed connect, a bounded number of times. Fails `PERMANENT` after a close the
 * WebSocket source classifies permanent (4401, 4403, 1008…: reconnecting would get the same
 * answer), so the machine stops the observation instead of reconnecting (seed 004 reconnects after
 * any close, and for ever when the server accepts each connection before closing it).
 */
function receive(options: YoiBindingOptions) {
  return fromEventObservable<ConnectionWireEvent, ReceiveInput>(
    ({ input }) =>
      new Observable<ConnectionWireEvent>((subscriber) => {
        const t = target(input.target);
        const position: SeqPosition = { lastSeq: (input.cursor === undefined ? undefined : backendCursorSeq(input.cursor)) ?? SEQ_FLOOR };
        let opened = false;
        const { classifyClose, ...socket } = options.webSocket ?? {};
        const sub = webSocket(observationWsUrl(t), {
          ...socket,
          headers: options.headers,
          cursor: input.cursor,
          urlFor: (cursor) => observationWsUrl(t, cursor),
          reconnect: { maxAttempts: 0, ...(classifyClose ? { classifyClose } : {}) },
        }).subscribe({
          next: (event) => {
            if (event.type === 'open') {
              opened = true;
              subscriber.next({ type: 'connection.opened', meta: { source: 'ws' } });
            } else if (event.type === 'close') {
              if (event.code === 1006) {
                subscriber.next(
                  diagnostic({
                    code: 'observation.ws_error',
                    message: `Backend observation WebSocket error for ${displayLabel(t)}: ${event.reason || 'connection dropped (1006)'}`,
                  }),
                );
              }
              subscriber.next({ type: 'connection.closed', code: event.code, reason: event.reason, meta: { source: 'ws' } });
            } else if (event.type === 'invalid' || (event.type === 'message' && event.text === undefined)) {
              subscriber.next(unreadableFrame(event)); // binary, not UTF-8, or over maxPayloadBytes: recorded, never dropped
            } else if (event.type === 'message' && event.text !== undefined) {
              const frame = observeFrame(t, event.text, position, options.json);
              for (const e of frame.events) subscriber.next(e);
              if (frame.seq !== undefined && !frame.stale) position.lastSeq = position.streamSeq = frame.seq; // as the machine takes it
              if (frame.reset) subscriber.complete();
            }
          },
          error: (err: unknown) => {
            if (opened) {
              // closed after it opened (the close event was sent): reconnect, unless the close is permanent (4403…)
              if (isActorlogError(err, 'PERMANENT')) subscriber.error(err);
              else subscriber.complete();
              return;
            }
            const message = describeError(err).message;
            subscriber.next(
              diagnostic({ code: 'observation.connect_failed', message: `Backend observation WebSocket connect failed for ${displayLabel(t)}: ${message}` }),
            );
            // seed 004 retries a failed connect, a refused upgrade too (bounded by maxReconnects)
            subscriber.error(
              isActorlogError(err, 'PERMANENT')
                ? new ActorlogError('TRANSIENT', message, { cause: err, details: { ...err.details, retried: 'seed 004 retries every failed connect' } })
                : err,
            );
          },
          complete: () => subscriber.complete(),
        });
        return () => sub.unsubscribe();
      }),
  );
}

/**
 * command: a console method mapped to input or lifecycle (unsupported ones reported, never sent);
 * outcomes as diagnostics, as the seed's `send`. A command is sent once: a failure after which it
 * may have taken effect (a deadline passed, the connection cut after the request was written, a
 * 500/502/504) is `OUTCOME_UNKNOWN`, reported ("Backend runtime {op} outcome unknown for …") and
 * never re-sent, unless `idempotentCommands` declares that the backend honours `Idempotency-Key`.
 * A failure that certainly had no effect (refused connection, 503, 429, 408) is thrown `TRANSIENT`
 * so the machine retries it with the same key, except on the last attempt, which reports the
 * seed's "Backend runtime {op} failed for …" diagnostic.
 */
function command(client: YoiClient, idempotent: boolean) {
  return fromRequest<CommandInput>(async (input, signal) => {
    const t = target(input.target);
    const label = displayLabel(t);
    const cmd = backendCommandFromMethod(input.command as { method?: unknown });
    if (cmd.kind === 'unsupported') return [diagnostic({ code: 'command.unsupported', message: cmd.message })];
    const op = cmd.kind === 'input' ? 'input' : cmd.action;
    try {
      const call = { signal, idempotencyKey: input.idempotencyKey };
      const result = cmd.kind === 'input' ? await client.input(t, cmd.input, call) : await client.lifecycle(t, cmd.action, cmd.reason, call);
      return operationDiagnostics(op, label, result.state, result.diagnostics).map(diagnostic);
    } catch (caught) {
      if (aborted(signal, caught)) throw caught;
      const err = idempotent ? caught : unlessNotDelivered(`yoi ${op}`, caught, { idempotencyKey: input.idempotencyKey });
      const e = describeError(err);
      if (e.code === 'TRANSIENT' && !input.lastAttempt) throw err;
      if (e.code === 'OUTCOME_UNKNOWN') {
        return [
          diagnostic({
            code: `${op}.outcome_unknown`,
            message: `Backend runtime ${op} outcome unknown for ${label} (not sent again: the backend is not declared to honour Idempotency-Key ${input.idempotencyKey}): ${e.message}`,
          }),
        ];
      }
      const message =
        e.code === 'INVALID_PAYLOAD'
          ? `Backend runtime ${op} response could not be decoded for ${label}: ${e.message}`
          : `Backend runtime ${op} failed for ${label}: ${e.message}`;
      return [diagnostic({ code: `${op}.failed`, message })];
    }
  });
}

/** What `onEvent` receives for a queued message: an observed event, or a diagnostic as the seed's `Event::Error { code: Internal, message }`. */
export function yoiDelivery(m: ConnectionMessage): YoiDelivery {
  if (m.diagnostic !== undefined) {
    const body = m.body as Diagnostic;
    return { id: m.id, diagnostic: m.diagnostic, event: { type: 'error', code: 'internal', message: body.message } };
  }
  const delivery: YoiDelivery = { id: m.id, event: m.body as YoiEvent };
  if (m.cursor !== undefined) delivery.cursor = m.cursor;
  if (typeof m.seq === 'string') delivery.seq = BigInt(`0x${m.seq}`);
  return delivery;
}

/**
 * The yoi binding's actors for the generic connection machine (seed 004, the TUI's Backend
 * Runtime API client):
 * - `register`: GET the transcript snapshot; its events (a snapshot, chat messages, alerts) are
 *   delivered first; the observation then resumes from the transcript's `cursor` when it has one,
 *   else its first snapshot is skipped; when the load fails, a diagnostic, and nothing is skipped;
 * - `receive`: the observation WebSocket `/api/runtimes/:rid/workers/:wid/events/ws?cursor=…`;
 * - `command`: console methods (`run`, `notify`, `cancel`, `shutdown`; others reported as
 *   unsupported and not sent), with the `Idempotency-Key` `<connectionId>:c<n>`, sent once (no
 *   deadline by default; a lost answer is an unknown outcome, not re-sent unless `idempotentCommands`);
 * - `dispatch`: `onEvent`, when given (events and diagnostics, in order); `heartbeat`, `reply`: none in this protocol.
 *
 * @example
 * ```ts
 * const machine = connectionMachine.provide({ actors: yoiConnectionActors({ headers: { authorization: `Bearer ${token}` } }) });
 * ```
 */
export function yoiConnectionActors(options: YoiBindingOptions = {}): ConnectionActors {
  const client = createYoiClient({
    headers: options.headers,
    dispatcher: options.dispatcher,
    commandTimeoutMs: options.commandTimeoutMs,
    transcriptTimeoutMs: options.transcriptTimeoutMs,
    maxBodyBytes: options.maxBodyBytes,
    ...(options.webSocket?.scheduler ? { scheduler: options.webSocket.scheduler } : {}),
  });
  const none = <TInput>(what: string) =>
    fromRequest<TInput>(async () => {
      throw new ActorlogError('PERMANENT', `the yoi protocol has no ${what}`);
    });
  return {
    register: register(client),
    heartbeat: none<HeartbeatInput>('heartbeat'),
    receive: receive(options),
    dispatch: options.onEvent
      ? backendDispatch<YoiDelivery, unknown>(options.onEvent, { toMessage: yoiDelivery })
      : fromRequest<DispatchInput>(async () => {
          throw new ActorlogError('INVALID_OPTIONS', 'yoi connection with deliver: "dispatch" needs an onEvent handler');
        }),
    reply: none<ReplyInput>('reply'),
    command: command(client, options.idempotentCommands === true),
  };
}

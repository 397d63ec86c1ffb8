import { Observable } from 'rxjs';
import { fromEventObservable } from 'xstate';
import { ActorlogError, describeError } from '../../src/errors.ts';
import { webSocket } from '../../src/sources/webSocket/webSocket.ts';
import { backendDispatch, fromRequest } from '../connection/actors.ts';
import type { ConnectionActors } from '../connection/machine.ts';
import type { CommandInput, ConnectionWireEvent, Diagnostic, DispatchInput, HeartbeatInput, ReceiveInput, RegisterInput, ReplyInput } from '../connection/events.ts';
import { createYoiClient, type YoiClient } from './client.ts';
import { backendCommandFromMethod, operationDiagnostics } from './commands.ts';
import { observeFrame } from './observation.ts';
import type { YoiBindingOptions, YoiDelivery } from './options.ts';
import type { YoiEvent } from './schemas.ts';
import { decodeBackendCursor, displayLabel, observationWsUrl, type YoiTarget } from './target.ts';
import { transcriptProjectionToEvents, transcriptUnavailable } from './transcript.ts';

const diagnostic = (d: Diagnostic): ConnectionWireEvent => ({ type: 'connection.diagnostic', code: d.code, message: d.message });
const target = (t: Record<string, unknown>) => t as unknown as YoiTarget;
const aborted = (signal: AbortSignal, err: unknown) => signal.aborted || (err as { code?: string })?.code === 'ABORTED';

/** register: the transcript snapshot, its events delivered first; when it loaded, the observation's first snapshot is skipped. */
function register(client: YoiClient) {
  return fromRequest<RegisterInput>(async (input, signal) => {
    const t = target(input.target);
    try {
      const transcript = await client.transcript(t, { signal });
      const { events, diagnostics } = transcriptProjectionToEvents(t, transcript);
      return [
        ...events.map((event, i): ConnectionWireEvent => ({ type: 'connection.message', message: { id: `transcript:${i}`, kind: event.type, body: event } })),
        ...diagnostics.map(diagnostic),
        { type: 'connection.registered', registration: { skipKind: 'snapshot', transcriptItems: transcript.items.length } },
      ];
    } catch (err) {
      if (aborted(signal, err)) throw err;
      return [diagnostic(transcriptUnavailable(t, describeError(err).message)), { type: 'connection.registered', registration: {} }];
    }
  });
}

/** receive: the observation WebSocket from `input.cursor`, frames mapped by {@link observeFrame}; ends at a close or a cursor reset. */
function receive(options: YoiBindingOptions) {
  return fromEventObservable<ConnectionWireEvent, ReceiveInput>(({ input }) => new Observable<ConnectionWireEvent>((subscriber) => {
    const t = target(input.target);
    let lastSeq = input.cursor === undefined ? undefined : decodeBackendCursor(input.cursor);
    let opened = false;
    const sub = webSocket(observationWsUrl(t), {
      ...options.webSocket,
      headers: options.headers,
      cursor: input.cursor,
      urlFor: (cursor) => observationWsUrl(t, cursor),
      reconnect: { maxAttempts: 0 },
    }).subscribe({
      next: (event) => {
        if (event.type === 'open') {
          opened = true;
          subscriber.next({ type: 'connection.opened', meta: { source: 'ws' } });
        } else if (event.type === 'close') {
          subscriber.next({ type: 'connection.closed', code: event.code, reason: event.reason, meta: { source: 'ws' } });
        } else if (event.type === 'message' && event.text !== undefined) {
          const frame = observeFrame(t, event.text, lastSeq);
          for (const e of frame.events) subscriber.next(e);
          if (frame.seq !== undefined && (lastSeq === undefined || frame.seq > lastSeq)) lastSeq = frame.seq;
          if (frame.reset) subscriber.complete();
        }
      },
      error: (err: unknown) => {
        const info = describeError(err);
        if (!opened) subscriber.next(diagnostic({ code: 'observation.connect_failed', message: `Backend observation WebSocket connect failed for ${displayLabel(t)}: ${info.message}` }));
        subscriber.error(err);
      },
      complete: () => subscriber.complete(),
    });
    return () => sub.unsubscribe();
  }));
}

/** command: a console method mapped to input or lifecycle (unsupported ones reported, never sent); outcomes as diagnostics, as the seed's `send`. */
function command(client: YoiClient) {
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
    } catch (err) {
      if (aborted(signal, err)) throw err;
      const e = describeError(err);
      const message = e.code === 'INVALID_PAYLOAD'
        ? `Backend runtime ${op} response could not be decoded for ${label}: ${e.message}`
        : `Backend runtime ${op} failed for ${label}: ${e.message}`;
      return [diagnostic({ code: `${op}.failed`, message })];
    }
  });
}

/**
 * The yoi binding's actors for the generic connection machine (seed 004, the TUI's Backend
 * Runtime API client):
 * - `register`: GET the transcript snapshot; its events (a snapshot, chat messages, alerts) are
 *   delivered first and the observation's first snapshot is then skipped; when it fails, a
 *   diagnostic, and the observation goes on without skipping;
 * - `receive`: the observation WebSocket `/api/runtimes/:rid/workers/:wid/events/ws?cursor=…`;
 * - `command`: console methods (`run`, `notify`, `cancel`, `shutdown`; others reported as
 *   unsupported and not sent), with the `Idempotency-Key` `<connectionId>:c<n>`;
 * - `dispatch`: `onEvent`, when given; `heartbeat`, `reply`: none in this protocol.
 *
 * @example
 * ```ts
 * const machine = connectionMachine.provide({ actors: yoiConnectionActors({ headers: { authorization: `Bearer ${token}` } }) });
 * ```
 */
export function yoiConnectionActors(options: YoiBindingOptions = {}): ConnectionActors {
  const client = createYoiClient({ headers: options.headers, dispatcher: options.dispatcher });
  const none = <TInput>(what: string) => fromRequest<TInput>(async () => {
    throw new ActorlogError('PERMANENT', `the yoi protocol has no ${what}`);
  });
  return {
    register: register(client),
    heartbeat: none<HeartbeatInput>('heartbeat'),
    receive: receive(options),
    dispatch: options.onEvent
      ? backendDispatch<YoiDelivery, unknown>(options.onEvent, {
        toMessage: (m) => ({ id: m.id, cursor: m.cursor, seq: m.seq, event: m.body as YoiEvent }),
      })
      : fromRequest<DispatchInput>(async () => {
        throw new ActorlogError('INVALID_OPTIONS', 'yoi connection with deliver: "dispatch" needs an onEvent handler');
      }),
    reply: none<ReplyInput>('reply'),
    command: command(client),
  };
}

import { assign, setup } from 'xstate';
import { describeError } from '../../src/errors.ts';
import { mergePart, sessionBackoffMs, textOutput, type SessionContext, type SessionInput } from './context.ts';
import type { AbortInput, CloseInput, EventsInput, OpenInput, PromptInput, SessionCommandEvent, SessionWireEvent, TurnEnd } from './events.ts';
import { unboundActor } from '../../src/binding/index.ts';

const errorCode = (error: unknown) => describeError(error).code;
/** Every event the session machine takes. */
export type SessionEvent = SessionWireEvent | SessionCommandEvent;
const wireMeta = (event: SessionEvent) => (event as { meta?: { cursor?: string } }).meta;
const onPromptChannel = (event: SessionEvent) => (event as { channel?: string }).channel === 'prompt';

/**
 * The implementations of the session machine (./machine.ts): its types, the unbound actors a
 * binding replaces, delays, guards and actions, all pure (they read context and event data only).
 */
export const sessionSetup = setup({
  types: {
    context: {} as SessionContext,
    input: {} as SessionInput,
    events: {} as SessionEvent,
  },
  actors: {
    open: unboundActor<SessionWireEvent, OpenInput>('session', 'open'),
    events: unboundActor<SessionWireEvent, EventsInput>('session', 'events'),
    prompt: unboundActor<SessionWireEvent, PromptInput>('session', 'prompt'),
    abort: unboundActor<SessionWireEvent, AbortInput>('session', 'abort'),
    close: unboundActor<SessionWireEvent, CloseInput>('session', 'close'),
  },
  delays: {
    connectBackoff: ({ context }) => sessionBackoffMs(context, context.connectAttempts),
    promptBackoff: ({ context }) => sessionBackoffMs(context, context.promptAttempts),
    abortTimeout: ({ context }) => context.abortTimeoutMs,
  },
  guards: {
    remoteBusy: ({ context }) => context.remoteStatus === 'busy',
    statusIdle: ({ event }) => (event.type === 'session.status' || event.type === 'session.synced') && event.status === 'idle',
    /** The remote went idle after it was seen busy in this turn (a late idle of the turn before does not end this one). */
    idleAfterBusy: ({ context }) => context.sawBusy && context.remoteStatus === 'idle',
    abortRequested: ({ context }) => context.abortRequested,
    /** A part the binding attributes to another prompt than the current one (a late part of an earlier turn). */
    otherTurn: ({ context, event }) => event.type === 'session.part' && event.promptId !== undefined && event.promptId !== context.promptId,
    endedAborted: ({ context, event }) => event.type === 'session.ended' && (event.reason === 'aborted' || context.abortRequested),
    anyReconnecting: ({ context }) => Object.values(context.channels).includes('reconnecting'),
    noneReconnecting: ({ context }) => !Object.values(context.channels).includes('reconnecting'),
    canRetryConnect: ({ context, event }) =>
      errorCode((event as { error?: unknown }).error) === 'TRANSIENT' && context.connectAttempts < context.maxConnectAttempts,
    canRetryPrompt: ({ context, event }) =>
      errorCode((event as { error?: unknown }).error) === 'TRANSIENT' && context.promptAttempts < context.maxPromptAttempts,
  },
  actions: {
    /** Counts a streamed event and keeps the cursor of the channel it came on. */
    track: assign(({ context, event }) => {
      const cursor = wireMeta(event)?.cursor;
      const update: Partial<SessionContext> = { events: context.events + 1 };
      if (cursor !== undefined) {
        if (onPromptChannel(event)) update.promptCursor = cursor;
        else update.cursor = cursor;
      }
      return update;
    }),
    opened: assign(({ event }) => {
      if (event.type !== 'session.opened') return {};
      return { remoteId: event.remoteId, remoteStatus: event.status, title: event.title, lastError: undefined };
    }),
    countConnect: assign({ connectAttempts: ({ context }) => context.connectAttempts + 1 }),
    recordError: assign({ lastError: ({ event }) => describeError((event as { error?: unknown }).error) }),
    recordInvalid: assign(({ context, event }) => {
      if (event.type !== 'session.invalid') return {};
      return { invalid: context.invalid + 1, lastError: { name: 'InvalidPayload', code: 'INVALID_PAYLOAD', message: event.error } };
    }),
    recordStatus: assign(({ context, event }) =>
      event.type === 'session.status' || event.type === 'session.synced'
        ? { remoteStatus: event.status, sawBusy: context.sawBusy || event.status === 'busy' }
        : {},
    ),
    recordPart: assign(({ context, event }) => (event.type === 'session.part' ? { parts: mergePart(context.parts, event.part) } : {})),
    setChannel: assign(({ context, event }) => {
      if (event.type !== 'session.stream') return {};
      const reconnects = context.reconnects + (event.state === 'reconnecting' ? 1 : 0);
      const lastError = event.state === 'reconnecting' && event.error ? event.error : context.lastError;
      return { channels: { ...context.channels, [event.channel]: event.state }, reconnects, lastError };
    }),
    takePrompt: assign(({ context, event }) => {
      if (event.type !== 'session.prompt') return {};
      const prompts = context.prompts + 1;
      return {
        prompts,
        promptId: `${context.sessionKey}:p${prompts}`,
        prompt: event.prompt,
        promptAttempts: 0,
        promptCursor: undefined,
        abortRequested: false,
        sawBusy: false,
        parts: [],
        output: undefined,
        result: undefined,
        lastEnd: undefined,
      };
    }),
    rejectBusyPrompt: assign({ lastError: () => ({ name: 'SessionBusy', message: 'prompt ignored: a turn is running (abort it or wait for idle)' }) }),
    countPromptAttempt: assign({ promptAttempts: ({ context }) => context.promptAttempts + 1 }),
    requestAbort: assign({ abortRequested: true }),
    /**
     * Ends the turn: from `session.ended` (its reason, output, result, error), from the remote going
     * idle (`session.status`, `session.synced`: completed, output from the parts or the re-read), from
     * a failed prompt (`xstate.error.actor.prompt`: failed) or from the abort timeout (aborted). An
     * abort requested during the turn makes any end but a failure `aborted`.
     */
    endTurn: assign(({ context, event }) => {
      const update: Partial<SessionContext> = { remoteStatus: 'idle', turns: context.turns + 1, output: textOutput(context.parts) };
      let reason: TurnEnd = 'completed';
      const error = (event as { error?: unknown }).error;
      if (event.type === 'session.ended') {
        reason = event.reason;
        if (event.output !== undefined) update.output = event.output;
        if (event.result !== undefined) update.result = event.result;
        if (event.error) update.lastError = event.error;
      } else if (event.type === 'session.synced') {
        if (event.output !== undefined) update.output = event.output;
      } else if (event.type.startsWith('xstate.error.actor.') && error !== undefined) {
        reason = 'failed';
        update.lastError = describeError(error);
      } else if (event.type.startsWith('xstate.after.')) {
        reason = 'aborted';
      }
      if (context.abortRequested && reason !== 'failed') reason = 'aborted';
      update.lastEnd = reason;
      return update;
    }),
    leavePromptChannel: assign(({ context }) => {
      const { prompt: _prompt, ...rest } = context.channels;
      return { channels: rest };
    }),
  },
});

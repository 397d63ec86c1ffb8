import { and, assign } from 'xstate';
import { initialSessionContext } from './context.ts';
import { sessionSetup } from './setup.ts';

/** A status re-read over HTTP (no stream cursor to resume from) ends a turn whose prompt was sent when it says idle. */
const syncedEndsTurn = [
  { guard: and(['statusIdle', 'abortRequested']), target: '#session.open.turn.aborted', actions: ['track', 'endTurn'] },
  { guard: 'statusIdle', target: '#session.open.turn.idle', actions: ['track', 'endTurn'] },
  { actions: ['track', 'recordStatus'] },
] as const;

/**
 * The generic session machine: a long-lived remote session (an agent's conversation, an MCP
 * session) driven by an event stream. Protocol bindings provide its actors (inputs and events in
 * ./events.ts), e.g. `sessionMachine.provide({ actors: opencodeSessionActors({ url }) })`:
 * - `open`: create or attach the remote session -> `session.opened { remoteId }`;
 * - `events`: the session's event stream (SSE), every event sent up with `meta { source, cursor }`;
 * - `prompt`: send one prompt with its idempotency key `promptId`; it may stream the turn itself
 *   (MCP tools/call) and resume from `input.cursor` (`''`: sent before, no event id yet, so a
 *   binding re-sends only an idempotent prompt and otherwise fails `OUTCOME_UNKNOWN`);
 * - `abort`, `close`: the protocol's abort and close requests.
 *
 * States: `connecting` (opening <-> backoff) -> `open`, a parallel state of `stream` (live <->
 * reconnecting, as the sources report it) and `turn` (idle <-> busy (sending | retrying | running |
 * aborting | stopping) -> aborted) -> `closing` -> `closed`; `failed` when opening fails permanently
 * or after `maxConnectAttempts`, or when the event stream gives up (its error in `lastError`, code
 * TRANSIENT after bounded retries). A prompt's transient failure is retried `maxPromptAttempts`
 * times with the same key; a permanent one ends the turn `failed`. A payload that fails its schema
 * (`session.invalid`) is counted, kept in `lastError`, and the session goes on (invariant 6).
 *
 * @example
 * ```ts
 * const system = createActorSystem({ store, machines: { session: opencodeSessionMachine({ url }) } });
 * const s = system.spawn('session', { id: 'chat-1', input: { sessionKey: 'chat-1' } });
 * s.send({ type: 'session.prompt', prompt: { kind: 'text', text: 'hello' } });
 * ```
 */
export const sessionMachine = sessionSetup.createMachine({
  id: 'session',
  context: ({ input }) => initialSessionContext(input),
  initial: 'connecting',
  output: ({ context }) => ({ remoteId: context.remoteId, output: context.output, result: context.result, turns: context.turns, error: context.lastError }),
  on: {
    'session.invalid': { actions: ['track', 'recordInvalid'] },
  },
  states: {
    connecting: {
      initial: 'opening',
      on: { 'session.close': '#session.closed' },
      states: {
        opening: {
          entry: 'countConnect',
          on: { 'session.opened': { target: '#session.open', actions: ['track', 'opened'] } },
          invoke: {
            id: 'open',
            src: 'open',
            input: ({ context }) => ({ sessionKey: context.sessionKey, remoteId: context.remoteId, title: context.title, parentId: context.parentId }),
            onDone: {
              target: '#session.failed',
              actions: assign({ lastError: { name: 'NoSession', code: 'PERMANENT', message: 'the binding opened no session' } }),
            },
            onError: [
              { guard: 'canRetryConnect', target: 'backoff', actions: 'recordError' },
              { target: '#session.failed', actions: 'recordError' },
            ],
          },
        },
        backoff: { after: { connectBackoff: 'opening' } },
      },
    },
    open: {
      type: 'parallel',
      invoke: {
        id: 'events',
        src: 'events',
        input: ({ context }) => ({ sessionKey: context.sessionKey, remoteId: context.remoteId!, cursor: context.cursor }),
        onError: { target: '#session.failed', actions: 'recordError' },
      },
      on: {
        'session.close': '#session.closing',
        'session.part': [{ guard: 'otherTurn', actions: 'track' }, { actions: ['track', 'recordPart'] }],
        'session.event': { actions: 'track' },
        'session.opened': { actions: 'track' },
        'session.ended': { actions: 'track' },
        'session.status': { actions: ['track', 'recordStatus'] },
        'session.synced': { actions: ['track', 'recordStatus'] },
        'session.stream': { actions: ['track', 'setChannel'] },
      },
      states: {
        stream: {
          initial: 'live',
          states: {
            live: { always: { guard: 'anyReconnecting', target: 'reconnecting' } },
            reconnecting: { always: { guard: 'noneReconnecting', target: 'live' } },
          },
        },
        turn: {
          initial: 'idle',
          states: {
            idle: {
              always: { guard: 'remoteBusy', target: 'busy.running' },
              on: { 'session.prompt': { target: 'busy', actions: 'takePrompt' } },
            },
            busy: {
              initial: 'sending',
              exit: 'leavePromptChannel',
              on: {
                'session.prompt': { actions: 'rejectBusyPrompt' },
                'session.ended': [
                  { guard: 'endedAborted', target: 'aborted', actions: ['track', 'endTurn'] },
                  { target: 'idle', actions: ['track', 'endTurn'] },
                ],
                'session.abort': { target: '.aborting', actions: 'requestAbort' },
              },
              states: {
                sending: {
                  entry: 'countPromptAttempt',
                  invoke: {
                    id: 'prompt',
                    src: 'prompt',
                    input: ({ context }) => ({
                      sessionKey: context.sessionKey,
                      remoteId: context.remoteId!,
                      promptId: context.promptId!,
                      prompt: context.prompt!,
                      cursor: context.promptCursor,
                    }),
                    onDone: 'running',
                    onError: [
                      { guard: 'canRetryPrompt', target: 'retrying', actions: 'recordError' },
                      { target: '#session.open.turn.idle', actions: 'endTurn' },
                    ],
                  },
                },
                retrying: { after: { promptBackoff: 'sending' } },
                // The prompt was taken: the turn ends when the remote says so (session.ended), or goes idle after busy.
                running: {
                  always: { guard: 'idleAfterBusy', target: '#session.open.turn.idle', actions: 'endTurn' },
                  on: { 'session.synced': syncedEndsTurn },
                },
                aborting: {
                  invoke: {
                    id: 'abort',
                    src: 'abort',
                    input: ({ context }) => ({ sessionKey: context.sessionKey, remoteId: context.remoteId!, promptId: context.promptId }),
                    onDone: 'stopping',
                    onError: { target: 'stopping', actions: 'recordError' },
                  },
                },
                stopping: {
                  always: { guard: 'idleAfterBusy', target: '#session.open.turn.aborted', actions: 'endTurn' },
                  on: { 'session.synced': syncedEndsTurn },
                  after: { abortTimeout: { target: '#session.open.turn.aborted', actions: 'endTurn' } },
                },
              },
            },
            aborted: {
              always: { guard: 'remoteBusy', target: 'busy.running' },
              on: { 'session.prompt': { target: 'busy', actions: 'takePrompt' } },
            },
          },
        },
      },
    },
    closing: {
      invoke: {
        id: 'close',
        src: 'close',
        input: ({ context }) => ({ sessionKey: context.sessionKey, remoteId: context.remoteId! }),
        onDone: 'closed',
        onError: { target: 'closed', actions: 'recordError' },
      },
    },
    closed: { type: 'final' },
    failed: { type: 'final' },
  },
});

/** The session machine's type, with any binding provided. */
export type SessionMachine = typeof sessionMachine;

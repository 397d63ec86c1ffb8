import { assign, setup } from 'xstate';
import { describeError } from '../../src/errors.ts';
import { unboundActor } from '../../src/binding/index.ts';
import { applyUpdate, backoffMs, DEFAULT_POLL_INTERVAL_MS, initialJobContext, NO_TIMEOUT_TIMER_MS, type JobContext, type JobInput } from './context.ts';
import type { CancelInput, FollowInput, JobCommandEvent, JobWireEvent, PollInput, ReplyInput, SubmitInput } from './events.ts';

const errorCode = (error: unknown) => describeError(error).code;
const FINAL_STATES = new Set(['completed', 'failed', 'canceled']);

/**
 * The generic job machine: a remote job submitted once (with an idempotency key), followed by a
 * push source (SSE stream or webhook) with fallback to polling, answered when it asks for input,
 * cancelable, and bounded by an overall timeout when `timeoutMs` is given (none by default).
 * Protocol bindings provide its actors: `submit`, `follow`, `poll`, `reply`, `cancel` (inputs and
 * events in ./events.ts), e.g. `jobMachine.provide({ actors: a2aJobActors({ url }) })`.
 *
 * States: `active.submitted` -> `active.working` (streaming | resubscribing | polling | waiting |
 * replying | canceling) <-> `active.input-required` -> `done` | `failed` | `canceled` | `timed-out`.
 * Polling is at a fixed rate (seed 000's ticker): `polling.get` (one GET) beside `polling.tick` (the
 * interval from that GET's start); the next GET starts when both are over.
 * Transient errors (code TRANSIENT) are retried with capped backoff; permanent ones fail the job
 * (or, for the push source, switch the job to polling at once: `context.follow` becomes `poll`).
 * Invalid payloads (`job.invalid`) are counted and recorded in `lastError`; the job goes on
 * (docs/architecture.md invariant 6). Bindings: A2A (machines/a2a), foreman (machines/foreman).
 *
 * @example
 * ```ts
 * const system = createActorSystem({ store, machines: { job: jobMachine.provide({ actors: a2aJobActors({ url }) }) } });
 * const job = system.spawn('job', { id: 'job-1', input: { jobId: 'job-1', request: { text: 'hi' } } });
 * ```
 */
export const jobMachine = setup({
  types: {
    context: {} as JobContext,
    input: {} as JobInput,
    events: {} as JobWireEvent | JobCommandEvent,
  },
  actors: {
    submit: unboundActor<JobWireEvent, SubmitInput>('job', 'submit'),
    follow: unboundActor<JobWireEvent, FollowInput>('job', 'follow'),
    poll: unboundActor<JobWireEvent, PollInput>('job', 'poll'),
    reply: unboundActor<JobWireEvent, ReplyInput>('job', 'reply'),
    cancel: unboundActor<JobWireEvent, CancelInput>('job', 'cancel'),
  },
  delays: {
    jobTimeout: ({ context }) => context.timeoutMs ?? NO_TIMEOUT_TIMER_MS,
    pollInterval: ({ context }) => context.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    submitBackoff: ({ context }) => backoffMs(context, context.submitAttempts),
    followBackoff: ({ context }) => backoffMs(context, context.followRetries),
    pollBackoff: ({ context }) => backoffMs(context, context.pollFailures),
  },
  guards: {
    hasTimeout: ({ context }) => context.timeoutMs !== undefined,
    remoteCompleted: ({ context }) => context.remoteState === 'completed',
    remoteFailed: ({ context }) => context.remoteState === 'failed',
    remoteCanceled: ({ context }) => context.remoteState === 'canceled',
    inputRequired: ({ context }) => context.remoteState === 'input-required',
    accepted: ({ context }) => context.remoteId !== undefined,
    followsByPush: ({ context }) => context.follow === 'push' && context.followRetries <= context.maxFollowRetries,
    cancelRequested: ({ context }) => context.cancelRequested === true,
    transient: ({ event }) => errorCode((event as { error?: unknown }).error) === 'TRANSIENT',
    permanent: ({ event }) => errorCode((event as { error?: unknown }).error) === 'PERMANENT',
    remoteFinal: ({ context }) => context.remoteState !== undefined && FINAL_STATES.has(context.remoteState),
  },
  actions: {
    accept: assign(({ context, event }) => {
      if (event.type !== 'job.accepted') return {};
      return { remoteId: event.remoteId, ...(event.pushUrl !== undefined ? { pushUrl: event.pushUrl } : {}), ...applyUpdate(context, event.update) };
    }),
    update: assign(({ context, event }) => (event.type === 'job.update' ? applyUpdate(context, event.update, event.meta) : {})),
    recordInvalid: assign(({ context, event }) => {
      if (event.type !== 'job.invalid') return {};
      return { invalid: context.invalid + 1, lastError: { name: 'InvalidPayload', code: 'INVALID_PAYLOAD', message: event.error } };
    }),
    recordError: assign({ lastError: ({ event }) => describeError((event as { error?: unknown }).error) }),
    countSubmit: assign({ submitAttempts: ({ context }) => context.submitAttempts + 1 }),
    countFollow: assign({ followRetries: ({ context }) => context.followRetries + 1 }),
    followByPolling: assign({ follow: 'poll' as const }),
    countPollFailure: assign({ pollFailures: ({ context }) => context.pollFailures + 1 }),
    resetPollFailures: assign({ pollFailures: 0 }),
    takeInput: assign(({ context, event }) => (event.type === 'job.input' ? { pendingInput: event.text, replies: context.replies + 1 } : {})),
    clearInput: assign({ pendingInput: undefined }),
    requestCancel: assign({ cancelRequested: true }),
  },
}).createMachine({
  id: 'job',
  context: ({ input }) => initialJobContext(input),
  initial: 'active',
  output: ({ context }) => ({
    remoteId: context.remoteId,
    state: context.remoteState,
    message: context.statusMessage,
    result: context.result,
    artifacts: context.artifacts,
    error: context.lastError,
  }),
  states: {
    active: {
      // Without `timeoutMs` the timer is armed at NO_TIMEOUT_TIMER_MS and its guard never passes: no overall timeout.
      after: { jobTimeout: { guard: 'hasTimeout', target: 'timed-out' } },
      always: [
        { guard: 'remoteCompleted', target: 'done' },
        { guard: 'remoteFailed', target: 'failed' },
        { guard: 'remoteCanceled', target: 'canceled' },
      ],
      on: {
        'job.update': { actions: 'update' },
        'job.accepted': { actions: 'accept' },
        'job.invalid': { actions: 'recordInvalid' },
        // Before the remote accepted the job, remember the cancel: the submit in flight may still
        // create it there, and it is canceled as soon as its id is known.
        'job.cancel': [{ guard: 'accepted', target: '.working.canceling' }, { actions: 'requestCancel' }],
      },
      initial: 'submitted',
      states: {
        submitted: {
          initial: 'sending',
          states: {
            sending: {
              entry: 'countSubmit',
              // Leave as soon as the acceptance is logged: the submit actor stops, so a recovery
              // never re-sends a message whose task id the log already holds (invariant 5).
              on: {
                'job.accepted': [
                  { guard: 'cancelRequested', target: '#job.active.working.canceling', actions: 'accept' },
                  { target: '#job.active.working', actions: 'accept' },
                ],
              },
              invoke: {
                id: 'submit',
                src: 'submit',
                input: ({ context }) => ({ jobId: context.jobId, messageId: context.messageId, request: context.request, follow: context.follow }),
                onDone: [
                  { guard: 'accepted', target: '#job.active.working' },
                  { guard: 'cancelRequested', target: '#job.canceled' },
                  { target: '#job.failed' },
                ],
                onError: [
                  { guard: 'accepted', target: '#job.active.working' },
                  { guard: 'cancelRequested', target: '#job.canceled', actions: 'recordError' },
                  {
                    guard: ({ event, context }) => errorCode(event.error) === 'TRANSIENT' && context.submitAttempts < context.maxSubmitAttempts,
                    target: 'backoff',
                    actions: 'recordError',
                  },
                  { target: '#job.failed', actions: 'recordError' },
                ],
              },
            },
            backoff: { always: { guard: 'cancelRequested', target: '#job.canceled' }, after: { submitBackoff: 'sending' } },
          },
        },
        working: {
          initial: 'route',
          states: {
            route: {
              always: [
                { guard: 'remoteFinal', target: 'waiting' },
                { guard: 'inputRequired', target: '#job.active.input-required' },
                { guard: 'followsByPush', target: 'streaming' },
                { target: 'polling' },
              ],
            },
            streaming: {
              always: { guard: 'inputRequired', target: '#job.active.input-required' },
              invoke: {
                id: 'follow',
                src: 'follow',
                input: ({ context }) => ({
                  jobId: context.jobId,
                  remoteId: context.remoteId!,
                  cursor: context.cursor,
                  pushUrl: context.pushUrl,
                  details: context.details,
                }),
                onDone: { target: 'resubscribing', actions: 'countFollow' },
                onError: [
                  // The push source cannot serve this job (no receiver, a moved webhook URL, 4xx): poll from now on.
                  { guard: 'permanent', target: 'polling', actions: ['recordError', 'followByPolling'] },
                  { target: 'resubscribing', actions: ['countFollow', 'recordError'] },
                ],
              },
            },
            resubscribing: {
              always: { guard: ({ context }) => context.followRetries > context.maxFollowRetries, target: 'polling' },
              after: { followBackoff: 'route' },
            },
            // Fixed rate, as seed 000's time.Ticker: the interval runs from the start of a GET, beside it,
            // so the next GET starts pollIntervalMs after the last one started, or at once when that one
            // took longer. Both regions final -> the next GET.
            polling: {
              type: 'parallel',
              onDone: { target: 'polling', reenter: true },
              states: {
                get: {
                  initial: 'asking',
                  states: {
                    asking: {
                      invoke: {
                        id: 'poll',
                        src: 'poll',
                        input: ({ context }) => ({ jobId: context.jobId, remoteId: context.remoteId!, details: context.details }),
                        onDone: { target: 'answered', actions: 'resetPollFailures' },
                        onError: [
                          {
                            guard: ({ event, context }) => errorCode(event.error) === 'TRANSIENT' && context.pollFailures + 1 < context.maxPollFailures,
                            target: '#job.active.working.pollBackoff',
                            actions: ['countPollFailure', 'recordError'],
                          },
                          { target: '#job.failed', actions: 'recordError' },
                        ],
                      },
                    },
                    answered: { always: [{ guard: 'inputRequired', target: '#job.active.input-required' }, { target: 'over' }] },
                    over: { type: 'final' },
                  },
                },
                tick: {
                  initial: 'counting',
                  states: {
                    counting: { after: { pollInterval: 'due' } },
                    due: { type: 'final' },
                  },
                },
              },
            },
            pollBackoff: { after: { pollBackoff: 'polling' } },
            waiting: {
              always: { guard: 'inputRequired', target: '#job.active.input-required' },
              after: { pollInterval: 'polling' },
            },
            replying: {
              invoke: {
                id: 'reply',
                src: 'reply',
                input: ({ context }) => ({
                  jobId: context.jobId,
                  remoteId: context.remoteId!,
                  messageId: `${context.jobId}:m${context.replies + 1}`,
                  text: context.pendingInput ?? '',
                }),
                onDone: { target: 'route', actions: 'clearInput' },
                onError: [
                  { guard: 'transient', target: 'polling', actions: 'recordError' },
                  { target: '#job.failed', actions: 'recordError' },
                ],
              },
            },
            canceling: {
              invoke: {
                id: 'cancel',
                src: 'cancel',
                input: ({ context }) => ({ jobId: context.jobId, remoteId: context.remoteId! }),
                onDone: 'polling',
                onError: { target: 'polling', actions: 'recordError' },
              },
            },
          },
        },
        'input-required': {
          on: { 'job.input': { target: 'working.replying', actions: 'takeInput' } },
        },
      },
    },
    done: { type: 'final' },
    failed: { type: 'final' },
    canceled: { type: 'final' },
    'timed-out': { type: 'final' },
  },
});

/** The job machine's type, with any binding provided. */
export type JobMachine = typeof jobMachine;

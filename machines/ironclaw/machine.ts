import { assign, not, or, setup, stateIn } from 'xstate';
import { describeError } from '../../src/errors.ts';
import { unboundActor } from '../../src/binding/index.ts';
import { enqueue, initialWorkerContext, retryDelayMs, statusOf, type WorkerContext, type WorkerInput } from './context.ts';
import { lastAnswer, onCompletion, onJob, onPrompt, onReportDone, onToolResult } from './updates.ts';
import type {
  CredentialsInput,
  FetchJobInput,
  FinishInput,
  LlmInput,
  PromptInput,
  ReportInput,
  ToolInput,
  WorkerCommandEvent,
  WorkerWireEvent,
} from './events.ts';

const errorOf = (event: unknown) => describeError((event as { error?: unknown }).error);

/** Retry a failed request while it is transient and attempts remain, else fail the job. */
const retryOr = (backoff: string) =>
  [
    { guard: 'retryable', target: backoff, actions: ['countAttempt', 'recordError'] },
    { target: '#worker.running.main.failing', actions: 'recordError' },
  ] as const;

/**
 * The ironclaw worker machine: one job as the worker in its container sees it (seed 002,
 * `WorkerHttpClient`). Two regions run in parallel:
 *
 * - `main`: `loading` (GET job) -> `credentials` (GET credentials; 204/404 = none; the log keeps
 *   names and count, never values) -> the loop `thinking` (LLM completion proxied by the
 *   orchestrator, on the endpoint `input.llmEndpoint` names) -> `acting` (each tool call, its result fed
 *   back) -> … -> `awaitingPrompt` (GET prompt every `promptPollMs`; 204 = nothing yet; a prompt
 *   starts another turn, `done` or `promptWaitMs` of silence ends the job) -> `completing` (POST
 *   complete, success; its answer must be JSON, else the job ends failed with no second report) or
 *   `failing` (POST complete, failure; retried as the success report is) -> `finished`. A malformed answer to any call (GET prompt
 *   included) is recorded as `worker.invalid` and fails the job with the seed's error kind.
 * - `reporter`: sends the outbox in order: status updates and job events, fire-and-forget (a
 *   failure is recorded in `reportsFailed` / `lastReportError`, never fatal); `completing` waits
 *   for it to drain so the completion report comes last.
 *
 * Transient failures (network, 5xx, 429) are retried with capped backoff up to `maxAttempts`;
 * permanent ones (the orchestrator rejecting the token: 401/403) fail the job at once. Every I/O is
 * in an invoked actor, so a recovered worker re-runs the one in flight (LLM calls and the completion
 * carry the idempotency key `<jobId>:llm:<n>` / `<jobId>:complete`, logged before the call).
 *
 * @example
 * ```ts
 * const system = createActorSystem({ store, machines: { ironclaw: ironclawWorkerMachine({ orchestratorUrl, jobId, tools }) } });
 * const worker = system.spawn('ironclaw', { id: `ironclaw-${jobId}`, input: { jobId } });
 * await worker.waitFor((s) => s.status === 'done');   // value 'done' | 'failed'
 * ```
 */
export const workerMachine = setup({
  types: {
    context: {} as WorkerContext,
    input: {} as WorkerInput,
    events: {} as WorkerWireEvent | WorkerCommandEvent,
  },
  actors: {
    fetchJob: unboundActor<WorkerWireEvent, FetchJobInput>('ironclaw worker', 'fetchJob'),
    fetchCredentials: unboundActor<WorkerWireEvent, CredentialsInput>('ironclaw worker', 'fetchCredentials'),
    llm: unboundActor<WorkerWireEvent, LlmInput>('ironclaw worker', 'llm'),
    runTool: unboundActor<WorkerWireEvent, ToolInput>('ironclaw worker', 'runTool'),
    pollPrompt: unboundActor<WorkerWireEvent, PromptInput>('ironclaw worker', 'pollPrompt'),
    report: unboundActor<WorkerWireEvent, ReportInput>('ironclaw worker', 'report'),
    finish: unboundActor<WorkerWireEvent, FinishInput>('ironclaw worker', 'finish'),
  },
  delays: {
    retryBackoff: ({ context }) => retryDelayMs(context),
    promptPoll: ({ context }) => context.promptPollMs,
    promptWait: ({ context }) => context.promptWaitMs,
  },
  guards: {
    retryable: ({ context, event }) => errorOf(event).code === 'TRANSIENT' && context.attempts + 1 < context.maxAttempts,
    /** The orchestrator answered 2xx with a body that does not parse (it may have taken the request). */
    invalidAnswer: ({ event }) => errorOf(event).code === 'INVALID_PAYLOAD',
    hasPendingTools: ({ context }) => context.pendingTools.length > 0,
    iterationsLeft: ({ context }) => context.iteration < context.maxIterations,
    hasOutbox: ({ context }) => context.outbox.length > 0,
    outboxEmpty: ({ context }) => context.outbox.length === 0,
    mainFinished: stateIn('#worker.running.main.finished'),
    cancelable: not(or([stateIn('#worker.running.main.finished'), stateIn('#worker.running.main.failing')])),
    succeeded: ({ context }) => context.outcome?.success === true,
    finishPrompt: ({ event }) => event.type === 'prompt.received' && event.done,
  },
  actions: {
    countAttempt: assign({ attempts: ({ context }) => context.attempts + 1 }),
    resetAttempts: assign({ attempts: 0 }),
    recordError: assign({ lastError: ({ event }) => errorOf(event) }),
    recordInvalid: assign(({ context, event }) =>
      event.type !== 'worker.invalid'
        ? {}
        : {
            invalid: context.invalid + 1,
            lastError: { name: 'InvalidPayload', code: 'INVALID_PAYLOAD', message: event.error },
          },
    ),
    takeJob: assign(({ context, event }) => (event.type === 'worker.job' ? onJob(context, event) : {})),
    takeCredentials: assign(({ event }) =>
      event.type === 'worker.credentials' ? { credentials: { names: event.names, count: event.count }, attempts: 0 } : {},
    ),
    takeCompletion: assign(({ context, event }) => (event.type === 'llm.completed' ? onCompletion(context, event) : {})),
    takeToolResult: assign(({ context, event }) => (event.type === 'tool.completed' ? onToolResult(context, event) : {})),
    noPrompt: assign({ emptyPolls: ({ context }) => context.emptyPolls + 1, attempts: 0 }),
    takePrompt: assign(({ context, event }) => (event.type === 'prompt.received' ? onPrompt(context, event) : {})),
    takeFinalPrompt: assign(({ context, event }) => (event.type === 'prompt.received' ? onPrompt(context, event) : {})),
    reportWaiting: assign(({ context }) => enqueue(context, statusOf(context, 'waiting_for_prompt', null))),
    reportWorking: assign(({ context }) => enqueue(context, statusOf(context, 'in_progress', `LLM call ${context.iteration + 1}`))),
    tooManyIterations: assign({
      lastError: ({ context }) => ({
        name: 'ActorlogError',
        code: 'PERMANENT',
        message: `max iterations (${context.maxIterations}) reached with tool calls pending`,
      }),
    }),
    canceled: assign({
      lastError: ({ event }) => ({ name: 'ActorlogError', code: 'ABORTED', message: `canceled: ${(event as { reason?: string }).reason ?? 'by the caller'}` }),
    }),
    reportFailing: assign(({ context }) => enqueue(context, statusOf(context, 'failed', context.lastError?.message ?? 'failed'))),
    reportCompleting: assign(({ context }) => enqueue(context, statusOf(context, 'completed', null))),
    succeed: assign(({ context }) => ({ outcome: { success: true, message: lastAnswer(context) }, attempts: 0 })),
    /** The job failed: its outcome (the report's message) is `lastError`'s, and the attempts of the failure report start afresh. */
    fail: assign(({ context }) => ({ outcome: { success: false, message: context.lastError?.message ?? 'failed' }, attempts: 0 })),
    recordReportError: assign({ lastReportError: ({ event }) => `report complete failed: ${errorOf(event).message}` }),
    reportSent: assign(({ context, event }) => onReportDone(context, event)),
  },
}).createMachine({
  id: 'worker',
  context: ({ input }) => initialWorkerContext(input),
  initial: 'running',
  output: ({ context }) => ({
    outcome: context.outcome,
    iterations: context.iteration,
    toolCalls: context.toolCalls,
    usage: context.usage,
    error: context.lastError,
  }),
  states: {
    running: {
      type: 'parallel',
      onDone: [{ guard: 'succeeded', target: 'done' }, { target: 'failed' }],
      states: {
        main: {
          initial: 'loading',
          on: {
            'worker.invalid': { actions: 'recordInvalid' },
            'worker.cancel': { guard: 'cancelable', target: '.failing', actions: 'canceled' },
          },
          states: {
            loading: {
              invoke: { id: 'fetchJob', src: 'fetchJob', input: ({ context }) => ({ jobId: context.jobId }), onError: retryOr('loadingBackoff') },
              on: { 'worker.job': { target: 'credentials', actions: 'takeJob' } },
            },
            loadingBackoff: { after: { retryBackoff: 'loading' } },
            credentials: {
              invoke: {
                id: 'fetchCredentials',
                src: 'fetchCredentials',
                input: ({ context }) => ({ jobId: context.jobId }),
                onError: retryOr('credentialsBackoff'),
              },
              on: { 'worker.credentials': { target: 'thinking', actions: 'takeCredentials' } },
            },
            credentialsBackoff: { after: { retryBackoff: 'credentials' } },
            thinking: {
              entry: 'reportWorking',
              invoke: {
                id: 'llm',
                src: 'llm',
                input: ({ context }) => ({
                  jobId: context.jobId,
                  key: `${context.jobId}:llm:${context.iteration + 1}`,
                  messages: context.messages,
                  ...context.llm,
                }),
                onError: retryOr('thinkingBackoff'),
              },
              on: { 'llm.completed': { target: 'routing', actions: 'takeCompletion' } },
            },
            thinkingBackoff: { after: { retryBackoff: 'thinking' } },
            routing: {
              always: [{ guard: { type: 'hasPendingTools' }, target: 'acting' }, { target: 'awaitingPrompt' }],
            },
            acting: {
              invoke: {
                id: 'runTool',
                src: 'runTool',
                input: ({ context }) => ({ jobId: context.jobId, call: context.pendingTools[0], key: `${context.jobId}:tool:${context.toolCalls + 1}` }),
                onError: { target: 'failing', actions: 'recordError' },
              },
              on: { 'tool.completed': { target: 'afterTool', actions: 'takeToolResult' } },
            },
            afterTool: {
              always: [
                { guard: 'hasPendingTools', target: 'acting' },
                { guard: 'iterationsLeft', target: 'thinking' },
                { target: 'failing', actions: 'tooManyIterations' },
              ],
            },
            awaitingPrompt: {
              entry: 'reportWaiting',
              after: { promptWait: 'completing' },
              initial: 'polling',
              states: {
                polling: {
                  invoke: { id: 'pollPrompt', src: 'pollPrompt', input: ({ context }) => ({ jobId: context.jobId }), onError: retryOr('pollBackoff') },
                  on: {
                    'prompt.none': { target: 'idle', actions: 'noPrompt' },
                    'prompt.received': [
                      { guard: 'finishPrompt', target: '#worker.running.main.completing', actions: 'takeFinalPrompt' },
                      { guard: 'iterationsLeft', target: '#worker.running.main.thinking', actions: 'takePrompt' },
                      { target: '#worker.running.main.failing', actions: ['takePrompt', 'tooManyIterations'] },
                    ],
                  },
                },
                idle: { after: { promptPoll: 'polling' } },
                pollBackoff: { after: { retryBackoff: 'polling' } },
              },
            },
            completing: {
              entry: ['resetAttempts', 'reportCompleting'],
              initial: 'draining',
              states: {
                draining: { always: { guard: 'outboxEmpty', target: 'reporting' } },
                reporting: {
                  invoke: {
                    id: 'finish',
                    src: 'finish',
                    input: ({ context }) => ({
                      jobId: context.jobId,
                      key: `${context.jobId}:complete`,
                      report: { success: true, message: lastAnswer(context), iterations: context.iteration },
                    }),
                    // A 2xx answer that is not JSON fails the report (seed 002 `report_complete`); the
                    // orchestrator may have taken it, so no contradicting failure report follows.
                    onError: [{ guard: 'invalidAnswer', target: '#worker.running.main.finished', actions: ['recordError', 'fail'] }, ...retryOr('backoff')],
                  },
                  on: { 'worker.completed': { target: '#worker.running.main.finished', actions: 'succeed' } },
                },
                backoff: { after: { retryBackoff: 'reporting' } },
              },
            },
            failing: {
              // the outcome is decided on entry, so a retried failure report says the same thing
              entry: ['fail', 'reportFailing'],
              initial: 'draining',
              states: {
                draining: { always: { guard: 'outboxEmpty', target: 'reporting' } },
                reporting: {
                  invoke: {
                    id: 'finish',
                    src: 'finish',
                    input: ({ context }) => ({
                      jobId: context.jobId,
                      key: `${context.jobId}:complete`,
                      report: { success: false, message: context.outcome?.message ?? 'failed', iterations: context.iteration },
                    }),
                    // Retried like the success report (a 503 must not hide a failed job from the
                    // orchestrator); a report error never replaces the job's own in `lastError`.
                    onError: [
                      { guard: 'invalidAnswer', target: '#worker.running.main.finished', actions: 'recordReportError' },
                      { guard: 'retryable', target: 'backoff', actions: ['countAttempt', 'recordReportError'] },
                      { target: '#worker.running.main.finished', actions: 'recordReportError' },
                    ],
                  },
                  on: { 'worker.completed': { target: '#worker.running.main.finished' } },
                },
                backoff: { after: { retryBackoff: 'reporting' } },
              },
            },
            finished: { type: 'final' },
          },
        },
        reporter: {
          initial: 'idle',
          states: {
            idle: {
              always: [
                { guard: 'hasOutbox', target: 'sending' },
                { guard: 'mainFinished', target: 'drained' },
              ],
            },
            sending: {
              invoke: {
                id: 'report',
                src: 'report',
                input: ({ context }) => ({ jobId: context.jobId, item: context.outbox[0] }),
                onError: { target: 'idle', actions: 'reportSent' },
              },
              on: { 'report.done': { target: 'idle', actions: 'reportSent' } },
            },
            drained: { type: 'final' },
          },
        },
      },
    },
    done: { type: 'final' },
    failed: { type: 'final' },
  },
});

/** The worker machine's type, with any binding provided. */
export type WorkerMachine = typeof workerMachine;

import { DEFAULT_RETRY, seededBackoffDelay } from '../../src/transport/backoff.ts';
import { retryAfterMsOf } from '../../src/transport/retryAfter.ts';
import type { ErrorInfo } from '../../src/errors.ts';
import type { LlmEndpoint, LlmSettings, WorkerReport } from './events.ts';
import type { ChatMessage, JobDescription, JobEventPayload, StatusUpdate, ToolCall, Usage } from './schemas.ts';

/** Input of the worker machine. Durations in ms. No secrets: the token and credentials live in the binding. */
export interface WorkerInput extends LlmSettings {
  /** The job this worker runs (and its token is scoped to). */
  jobId: string;
  /** The first message of the conversation. @default a short instruction to do the job */
  systemPrompt?: string;
  /**
   * The LLM endpoint every completion uses, chosen by the caller as seed 002's caller picks
   * `llm_complete` or `llm_complete_with_tools`: `complete_with_tools` sends the binding's tools
   * (`[]` when it has none) and `toolChoice`; `complete` sends neither.
   * @default 'complete_with_tools'
   */
  llmEndpoint?: LlmEndpoint;
  /** LLM completions before the worker gives up with an error. @default 20 */
  maxIterations?: number;
  /** Pause between prompt polls that answered 204. @default 1000 */
  promptPollMs?: number;
  /** How long the worker waits for a follow-up prompt after a turn before it reports completion. @default 30000 */
  promptWaitMs?: number;
  /** First retry delay after a transient failure; doubles per attempt, capped at 60 s. @default 500 */
  retryDelayMs?: number;
  /** Attempts of one request (transient failures) before the job fails. @default 3 */
  maxAttempts?: number;
  /** Reports (status, events) waiting to be sent; past it the oldest waiting event is dropped. @default 100 */
  maxOutbox?: number;
}

/** The worker machine's context: JSON-safe, replayed from the log. */
export interface WorkerContext extends Required<Omit<WorkerInput, keyof LlmSettings>> {
  llm: LlmSettings & { llmEndpoint: LlmEndpoint };
  job?: JobDescription;
  /** What was delivered: names and count, never values. */
  credentials?: { names: string[]; count: number };
  messages: ChatMessage[];
  /** LLM completions done. */
  iteration: number;
  /** Tool calls of the last completion not run yet. */
  pendingTools: ToolCall[];
  toolCalls: number;
  usage: Usage;
  lastFinishReason?: string;
  prompts: number;
  emptyPolls: number;
  /** Consecutive transient failures of the current request. */
  attempts: number;
  outbox: WorkerReport[];
  reportSeq: number;
  reportsSent: number;
  reportsFailed: number;
  reportsDropped: number;
  lastReportError?: string;
  invalid: number;
  lastError?: ErrorInfo;
  outcome?: { success: boolean; message: string };
}

/** The context for an input, with defaults applied. */
export function initialWorkerContext(input: WorkerInput): WorkerContext {
  const llm: WorkerContext['llm'] = { llmEndpoint: input.llmEndpoint ?? 'complete_with_tools' };
  for (const k of ['model', 'maxTokens', 'temperature', 'stopSequences', 'toolChoice'] as const)
    if (input[k] !== undefined) (llm as Record<string, unknown>)[k] = input[k];
  return {
    jobId: input.jobId,
    systemPrompt: input.systemPrompt ?? 'You are an ironclaw worker running one job in a container. Use the tools you are given, then answer.',
    maxIterations: input.maxIterations ?? 20,
    promptPollMs: input.promptPollMs ?? 1_000,
    promptWaitMs: input.promptWaitMs ?? 30_000,
    retryDelayMs: input.retryDelayMs ?? DEFAULT_RETRY.baseMs,
    maxAttempts: input.maxAttempts ?? 3,
    maxOutbox: input.maxOutbox ?? 100,
    llm,
    messages: [],
    iteration: 0,
    pendingTools: [],
    toolCalls: 0,
    usage: { inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
    prompts: 0,
    emptyPolls: 0,
    attempts: 0,
    outbox: [],
    reportSeq: 0,
    reportsSent: 0,
    reportsFailed: 0,
    reportsDropped: 0,
    invalid: 0,
  };
}

/** The first messages of a job: the system prompt, then the job's title and description as the user's request. */
export function firstMessages(context: Pick<WorkerContext, 'systemPrompt'>, job: JobDescription): ChatMessage[] {
  const where = job.projectDir ? `\n\nProject directory: ${job.projectDir}` : '';
  return [
    { role: 'system', content: context.systemPrompt },
    { role: 'user', content: `${job.title}\n\n${job.description}${where}` },
  ];
}

/** Adds a report to the outbox (pure): past `maxOutbox`, the oldest waiting event (not the one in flight) is dropped. */
export function enqueue(
  context: WorkerContext,
  report: { kind: 'status'; body: StatusUpdate } | { kind: 'event'; body: JobEventPayload },
): Partial<WorkerContext> {
  const seq = context.reportSeq + 1;
  let outbox = [...context.outbox, { ...report, seq } as WorkerReport];
  let dropped = context.reportsDropped;
  while (outbox.length > context.maxOutbox) {
    const i = outbox.findIndex((r, n) => n > 0 && r.kind === 'event');
    outbox = outbox.filter((_, n) => n !== (i > 0 ? i : 1));
    dropped++;
  }
  return { outbox, reportSeq: seq, reportsDropped: dropped };
}

/** A status report body (seed 002 `StatusUpdate`). */
export const statusOf = (context: WorkerContext, state: string, message: string | null) => ({
  kind: 'status' as const,
  body: { state, message, iteration: context.iteration },
});

/** A job event body (seed 002 `JobEventPayload`). */
export const eventOf = (eventType: string, data: unknown) => ({ kind: 'event' as const, body: { event_type: eventType, data } });

/**
 * Retry delay for the current request: the shared seeded backoff (`seededBackoffDelay`:
 * `retryDelayMs` doubled per attempt, capped at 60 s, a jitter derived from the job id and attempt,
 * so replay re-arms the same delay), and at least the `Retry-After` of the last failure (a 429 or
 * 503, logged with it as `lastError.retryAfterMs`), capped at 60 s too.
 */
export function retryDelayMs(context: Pick<WorkerContext, 'retryDelayMs' | 'jobId' | 'attempts' | 'lastError'>): number {
  return seededBackoffDelay(context.jobId, context.attempts, { baseMs: context.retryDelayMs, capMs: DEFAULT_RETRY.capMs }, retryAfterMsOf(context.lastError));
}

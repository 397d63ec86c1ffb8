import { enqueue, eventOf, firstMessages, statusOf, type WorkerContext } from './context.ts';
import type { WorkerWireEvent } from './events.ts';

/**
 * The worker machine's context updates, as pure functions of (context, event): what each answer
 * from the orchestrator or a tool changes, and which reports (status, job events) it queues.
 * They never write `undefined` values, so a context restored from the log keeps its keys in the
 * order of a replayed one.
 */

type Of<T extends WorkerWireEvent['type']> = Extract<WorkerWireEvent, { type: T }>;

/** The completion report's message: the last assistant text, at most 2000 characters. */
export function lastAnswer(context: Pick<WorkerContext, 'messages'>): string {
  const last = [...context.messages].reverse().find((m) => m.role === 'assistant' && m.content.length > 0);
  return (last?.content ?? '').slice(0, 2_000);
}

/** GET job answered: the first messages, a `started` status. */
export function onJob(context: WorkerContext, event: Of<'worker.job'>): Partial<WorkerContext> {
  const next = { ...context, job: event.job, messages: firstMessages(context, event.job), attempts: 0 };
  return { ...next, ...enqueue(next, statusOf(next, 'started', event.job.title)) };
}

/** An LLM completion: the assistant message, token usage, the tool calls to run; `message` and `tool_use` events. */
export function onCompletion(context: WorkerContext, event: Of<'llm.completed'>): Partial<WorkerContext> {
  const u = context.usage;
  const next: WorkerContext = {
    ...context,
    iteration: context.iteration + 1,
    attempts: 0,
    lastFinishReason: event.finishReason,
    pendingTools: event.toolCalls,
    messages: [...context.messages, { role: 'assistant', content: event.content, ...(event.toolCalls.length ? { tool_calls: event.toolCalls } : {}) }],
    usage: {
      inputTokens: u.inputTokens + event.usage.inputTokens,
      outputTokens: u.outputTokens + event.usage.outputTokens,
      cacheReadInputTokens: u.cacheReadInputTokens + event.usage.cacheReadInputTokens,
      cacheCreationInputTokens: u.cacheCreationInputTokens + event.usage.cacheCreationInputTokens,
    },
  };
  let patch = enqueue(next, eventOf('message', { role: 'assistant', content: event.content, finish_reason: event.finishReason }));
  for (const call of event.toolCalls)
    patch = { ...patch, ...enqueue({ ...next, ...patch }, eventOf('tool_use', { id: call.id, name: call.name, input: call.arguments })) };
  return { ...next, ...patch };
}

/** A tool ran: its result as a `tool` message for the next completion; a `tool_result` event. */
export function onToolResult(context: WorkerContext, event: Of<'tool.completed'>): Partial<WorkerContext> {
  const next: WorkerContext = {
    ...context,
    pendingTools: context.pendingTools.slice(1),
    toolCalls: context.toolCalls + 1,
    messages: [...context.messages, { role: 'tool', content: event.output, tool_call_id: event.callId, name: event.name }],
  };
  return { ...next, ...enqueue(next, eventOf('tool_result', { id: event.callId, name: event.name, output: event.output, is_error: event.isError })) };
}

/** A follow-up prompt: a user message (none for an empty final one); a `prompt` event. */
export function onPrompt(context: WorkerContext, event: Of<'prompt.received'>): Partial<WorkerContext> {
  const messages = event.content || !event.done ? [...context.messages, { role: 'user' as const, content: event.content }] : context.messages;
  const next: WorkerContext = { ...context, prompts: context.prompts + 1, emptyPolls: 0, attempts: 0, messages };
  return { ...next, ...enqueue(next, eventOf('prompt', { content: event.content, ...(event.done ? { done: true } : {}) })) };
}

/** A report left the outbox: counted as sent or failed (fire-and-forget: never more than that). */
export function onReportDone(context: WorkerContext, event: { type: string; seq?: number; ok?: boolean; error?: string }): Partial<WorkerContext> {
  if (event.type !== 'report.done') return { outbox: context.outbox.slice(1), reportsFailed: context.reportsFailed + 1 };
  const outbox = context.outbox[0]?.seq === event.seq ? context.outbox.slice(1) : context.outbox.filter((r) => r.seq !== event.seq);
  return event.ok
    ? { outbox, reportsSent: context.reportsSent + 1 }
    : { outbox, reportsFailed: context.reportsFailed + 1, lastReportError: event.error ?? 'failed' };
}

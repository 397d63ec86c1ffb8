import type { ChatMessage, CompletionReport, FinishReason, JobDescription, JobEventPayload, StatusUpdate, ToolCall, Usage } from './schemas.ts';

/** A report waiting in the worker's outbox: a status update or a job event, sent in order, fire-and-forget. */
export type WorkerReport = { seq: number; kind: 'status'; body: StatusUpdate } | { seq: number; kind: 'event'; body: JobEventPayload };

/** Events the worker's actors send to the worker machine. JSON-safe; credential values never appear. */
export type WorkerWireEvent =
  /** GET job answered. */
  | { type: 'worker.job'; job: JobDescription }
  /** Credentials were delivered: their names and count only (values stay in the binding's vault). */
  | { type: 'worker.credentials'; names: string[]; count: number }
  /** An LLM completion came back through the orchestrator (tool calls empty for llm/complete). */
  | { type: 'llm.completed'; content: string; toolCalls: ToolCall[]; finishReason: FinishReason; usage: Usage }
  /** A tool ran (or failed: `isError`, its message as output). Output scrubbed of credential values, bounded. */
  | { type: 'tool.completed'; callId: string; name: string; output: string; isError: boolean }
  /** GET prompt answered 204: nothing yet. */
  | { type: 'prompt.none' }
  /** GET prompt answered a follow-up prompt; `done` asks the worker to finish. */
  | { type: 'prompt.received'; content: string; done: boolean }
  /** A report left the outbox: sent, or failed (recorded, never fatal). */
  | { type: 'report.done'; seq: number; ok: boolean; error?: string }
  /** POST complete accepted. */
  | { type: 'worker.completed' }
  /** A response that failed its schema (docs/architecture.md invariant 6): raw text (<= 4 KiB) and the error. */
  | { type: 'worker.invalid'; raw: string; error: string };

/** Events the application sends to a worker actor. */
export type WorkerCommandEvent =
  /** Stop the job: report it failed with `reason` and end. */
  { type: 'worker.cancel'; reason?: string };

/** Inputs of the binding's actors. */
export interface FetchJobInput {
  jobId: string;
}
export interface CredentialsInput {
  jobId: string;
}
/** The settings of every LLM completion a worker asks for (seed 002 `llm_complete*`); an absent one is the orchestrator's default. */
export type LlmSettings = {
  model?: string;
  maxTokens?: number;
  temperature?: number;
  stopSequences?: string[];
  toolChoice?: string;
  /** Which seed 002 call: `complete` (`llm_complete`) or `complete_with_tools` (`llm_complete_with_tools`). */
  llmEndpoint?: LlmEndpoint;
};
export interface LlmInput extends LlmSettings {
  jobId: string;
  /** Idempotency key, `<jobId>:llm:<n>`, logged before the call. */
  key: string;
  messages: ChatMessage[];
}
/** The orchestrator's two LLM endpoints (seed 002 `llm_complete`, `llm_complete_with_tools`). */
export type LlmEndpoint = 'complete' | 'complete_with_tools';
export interface ToolInput {
  jobId: string;
  call: ToolCall;
  key: string;
}
export interface PromptInput {
  jobId: string;
}
export interface ReportInput {
  jobId: string;
  item: WorkerReport;
}
export interface FinishInput {
  jobId: string;
  key: string;
  report: CompletionReport;
}

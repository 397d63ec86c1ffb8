import { z } from 'zod';

/**
 * The wire format between an ironclaw container worker and its orchestrator, as zod schemas.
 * SOURCE: seed 002 (ironclaw 0.24.0 `worker/api.rs`, `WorkerHttpClient`): `JobDescription`,
 * `ProxyCompletionRequest/Response`, `ProxyToolCompletionRequest/Response`, `StatusUpdate`,
 * `JobEventPayload`, `PromptResponse`, `CredentialResponse`, `CompletionReport`. The seed imports
 * `ChatMessage`, `ToolCall` and `ToolDefinition` from `crate::llm` without showing them; the
 * shapes below are the OpenAI-style ones that crate uses (role/content, id/name/arguments).
 */

export const ToolCallSchema = z.object({ id: z.string(), name: z.string(), arguments: z.unknown() });
export type ToolCall = z.infer<typeof ToolCallSchema>;

export interface ToolDefinition {
  name: string;
  description: string;
  parameters: unknown;
}

export const ChatMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string(),
  tool_call_id: z.string().optional(),
  name: z.string().optional(),
  tool_calls: z.array(ToolCallSchema).optional(),
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

/** GET /worker/{job}/job (seed 002 `JobDescription`). */
export const JobDescriptionSchema = z.object({ title: z.string(), description: z.string(), project_dir: z.string().nullish() });
export type JobDescription = { title: string; description: string; projectDir?: string };

const usage = {
  input_tokens: z.number().int().nonnegative(),
  output_tokens: z.number().int().nonnegative(),
  finish_reason: z.string(),
  cache_read_input_tokens: z.number().int().nonnegative().default(0),
  cache_creation_input_tokens: z.number().int().nonnegative().default(0),
};
/** POST llm/complete answer (seed 002 `ProxyCompletionResponse`; cache counters default to 0, `#[serde(default)]`). */
export const ProxyCompletionResponseSchema = z.object({ content: z.string(), ...usage });
/** POST llm/complete_with_tools answer (seed 002 `ProxyToolCompletionResponse`). */
export const ProxyToolCompletionResponseSchema = z.object({ content: z.string().nullish(), tool_calls: z.array(ToolCallSchema), ...usage });

/** GET prompt answer when one is waiting (seed 002 `PromptResponse`; `done` defaults to false). */
export const PromptResponseSchema = z.object({ content: z.string(), done: z.boolean().default(false) });

/** GET credentials answer (seed 002 `Vec<CredentialResponse>`). Values are secrets: never logged, never printed. */
export const CredentialsSchema = z.array(z.object({ env_var: z.string().min(1), value: z.string() }));
export type Credential = z.infer<typeof CredentialsSchema>[number];

/** POST status body (seed 002 `StatusUpdate`). */
export interface StatusUpdate {
  state: string;
  message: string | null;
  iteration: number;
}
/** POST event body (seed 002 `JobEventPayload`). */
export interface JobEventPayload {
  event_type: string;
  data: unknown;
}
/** POST complete body (seed 002 `CompletionReport`). */
export interface CompletionReport {
  success: boolean;
  message: string | null;
  iterations: number;
}

/** Why a completion stopped (seed 002 `parse_finish_reason`). */
export type FinishReason = 'stop' | 'length' | 'tool_use' | 'content_filter' | 'unknown';

/** The orchestrator's finish reason text as a {@link FinishReason}: `tool_use` and `tool_calls` are both tool use (seed 002 `parse_finish_reason`). */
export function parseFinishReason(s: string): FinishReason {
  switch (s) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'tool_use':
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'content_filter';
    default:
      return 'unknown';
  }
}

/** Token counts of one or many completions. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
}

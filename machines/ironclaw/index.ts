import { ironclawWorkerActors, type IronclawWorkerOptions } from './actors.ts';
import { workerMachine } from './machine.ts';

/**
 * The ironclaw worker machine bound to its orchestrator (seed 002): one job, one job-scoped bearer
 * token (option `token`, else `IRONCLAW_WORKER_TOKEN`), the application's tools. Same states
 * and transitions as {@link workerMachine}; its actors count in `machineHash` (`actorlog replay` knows it as `ironclaw`).
 *
 * @throws ActorlogError `INVALID_OPTIONS` (MissingToken) before any I/O when no token is found, or it is empty
 * @example
 * ```ts
 * const machine = ironclawWorkerMachine({ orchestratorUrl: process.env.IRONCLAW_ORCHESTRATOR_URL!, jobId, tools });
 * const system = createActorSystem({ store, machines: { ironclaw: machine } });
 * system.recover();
 * const worker = system.get(`ironclaw-${jobId}`) ?? system.spawn('ironclaw', { id: `ironclaw-${jobId}`, input: { jobId } });
 * ```
 */
export function ironclawWorkerMachine(options: IronclawWorkerOptions) {
  return workerMachine.provide({ actors: ironclawWorkerActors(options) });
}

export { workerMachine, type WorkerMachine } from './machine.ts';
export { ironclawWorkerActors, type IronclawWorkerActors, type IronclawWorkerOptions, type WorkerTool, type ToolContext } from './actors.ts';
export {
  createWorkerClient,
  workerTokenFromEnv,
  type WorkerClient,
  type WorkerClientOptions,
  type WorkerErrorKind,
  type LlmRequest,
  type LlmResponse,
} from './client.ts';
export { CredentialVault, SCRUBBED } from './credentials.ts';
export { initialWorkerContext, type WorkerContext, type WorkerInput } from './context.ts';
export type {
  CredentialsInput,
  FetchJobInput,
  FinishInput,
  LlmEndpoint,
  LlmInput,
  LlmSettings,
  PromptInput,
  ReportInput,
  ToolInput,
  WorkerCommandEvent,
  WorkerReport,
  WorkerWireEvent,
} from './events.ts';
// The wire types, by name; the zod schemas that check them stay internal (machines/ironclaw/schemas.ts).
export type {
  ChatMessage,
  CompletionReport,
  Credential,
  FinishReason,
  JobDescription,
  JobEventPayload,
  StatusUpdate,
  ToolCall,
  ToolDefinition,
  Usage,
} from './schemas.ts';

import { catchError, defer, map, type Observable } from 'rxjs';
import { fromEventObservable, type ObservableActorLogic } from 'xstate';
import { ActorlogError } from '../../src/errors.ts';
import { fromCall } from '../../src/transport/fromCall.ts';
import { createWorkerClient, type WorkerClient, type WorkerClientOptions } from './client.ts';
import { CredentialVault } from './credentials.ts';
import type { CredentialsInput, FetchJobInput, FinishInput, LlmInput, PromptInput, ReportInput, ToolInput, WorkerWireEvent } from './events.ts';
import { parseFinishReason, type ToolDefinition } from './schemas.ts';
import { recordInvalidThenFail } from '../../src/binding/index.ts';

/** What a tool gets besides its arguments. */
export interface ToolContext {
  /** The job's credentials as environment variables (values: secrets; never return them). */
  env: Readonly<Record<string, string>>;
  jobId: string;
  /** The call's id from the LLM, and the idempotency key `<jobId>:tool:<n>` (the same when a recovery re-runs it). */
  callId: string;
  key: string;
  /** Aborted when the worker stops the call (state left, system closed). */
  signal: AbortSignal;
}

/** A tool the worker can run in its container, offered to the LLM by its definition. */
export interface WorkerTool {
  description: string;
  /** JSON schema of the arguments. */
  parameters: unknown;
  /** Runs the tool; the result is sent back as text (JSON when not a string). A thrown error is a tool result too (`isError`). */
  run(args: unknown, context: ToolContext): Promise<unknown>;
}

/** Options of {@link ironclawWorkerActors}: the client's (orchestrator URL, job id, token), tools, limits. */
export interface IronclawWorkerOptions extends WorkerClientOptions {
  /** The tools, by name, offered to the LLM on llm/complete_with_tools (`[]` without any); which endpoint is the worker input's `llmEndpoint`. */
  tools?: Record<string, WorkerTool>;
  /** Also set each credential on `process.env` (seed 002: "set each credential as an environment variable"). @default false */
  credentialsToProcessEnv?: boolean;
  /** A tool's output is cut to this many bytes before it reaches the log and the LLM. @default 16384 */
  maxToolOutputBytes?: number;
}

/** The seven actor logics the worker machine invokes. */
export interface IronclawWorkerActors {
  fetchJob: ObservableActorLogic<WorkerWireEvent, FetchJobInput>;
  fetchCredentials: ObservableActorLogic<WorkerWireEvent, CredentialsInput>;
  llm: ObservableActorLogic<WorkerWireEvent, LlmInput>;
  runTool: ObservableActorLogic<WorkerWireEvent, ToolInput>;
  pollPrompt: ObservableActorLogic<WorkerWireEvent, PromptInput>;
  report: ObservableActorLogic<WorkerWireEvent, ReportInput>;
  finish: ObservableActorLogic<WorkerWireEvent, FinishInput>;
}

const call = <T>(run: (signal: AbortSignal) => Promise<T>): Observable<T> => fromCall(({ signal }) => run(signal));

/** `text` cut to at most `max` bytes of UTF-8. */
function cutBytes(text: string, max: number): string {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= max ? text : `${bytes.subarray(0, max).toString('utf8')}…[cut]`;
}

/** INVALID_PAYLOAD -> a `worker.invalid` event (raw <= 4 KiB), then the same error; others pass through (binding kit). */
const invalidThenFail = recordInvalidThenFail<WorkerWireEvent>('worker.invalid');

/**
 * The ironclaw binding's actors for {@link workerMachine}, each an XState `fromEventObservable`
 * sending JSON-safe {@link WorkerWireEvent}s. The token, the tools and the delivered credentials
 * live in this closure; credential values are scrubbed from everything the actors emit (tool
 * output, LLM text), so they never reach the log (docs/architecture.md invariant 7).
 *
 * - `fetchJob`: GET job -> `worker.job`. `fetchCredentials`: GET credentials (204/404: none) -> `worker.credentials { names, count }`.
 * - `llm`: POST llm/complete_with_tools (with the tools, `[]` when none) or, when the input's `llmEndpoint` is `complete`, llm/complete, with `Idempotency-Key` -> `llm.completed`.
 * - `runTool`: runs a tool (credentials re-fetched first after a restart) -> `tool.completed` (errors are results).
 * - `pollPrompt`: GET prompt -> `prompt.none` (204) or `prompt.received`; a malformed answer -> `worker.invalid`, then the error (LlmProxyFailed, `INVALID_PAYLOAD`).
 * - `report`: POST status / POST event -> `report.done { ok }` (never fails: fire-and-forget).
 * - `finish`: POST complete with `Idempotency-Key` -> `worker.completed` (an answer that is not JSON: `worker.invalid`, then the error).
 *
 * @throws ActorlogError `INVALID_OPTIONS` (MissingToken) when neither `token` nor IRONCLAW_WORKER_TOKEN is set, or the one given is empty
 * @example
 * ```ts
 * const actors = ironclawWorkerActors({ orchestratorUrl, jobId, tools: { echo: { description: 'echo', parameters: {}, run: async (a) => a } } });
 * const machine = workerMachine.provide({ actors });
 * ```
 */
export function ironclawWorkerActors(options: IronclawWorkerOptions): IronclawWorkerActors {
  const client: WorkerClient = createWorkerClient(options);
  const vault = new CredentialVault(() => client.fetchCredentials(), options.credentialsToProcessEnv);
  const tools = options.tools ?? {};
  const definitions: ToolDefinition[] = Object.entries(tools).map(([name, t]) => ({ name, description: t.description, parameters: t.parameters }));
  const maxOutput = options.maxToolOutputBytes ?? 16_384;
  const scoped = <I extends { jobId: string }>(input: I) => {
    if (input.jobId !== client.jobId)
      throw new ActorlogError('PERMANENT', `OrchestratorRejected: this worker's token is scoped to job ${client.jobId}, not ${input.jobId}`, {
        details: { kind: 'OrchestratorRejected' },
      });
    return input;
  };
  const logic = <I extends { jobId: string }>(run: (input: I) => Observable<WorkerWireEvent>) =>
    fromEventObservable<WorkerWireEvent, I>(({ input }) =>
      defer(() => run(scoped(input))).pipe(
        map((e) => vault.scrubDeep(e)),
        catchError(invalidThenFail),
      ),
    );

  return {
    fetchJob: logic<FetchJobInput>(() => call((s) => client.getJob(s)).pipe(map((job): WorkerWireEvent => ({ type: 'worker.job', job })))),
    fetchCredentials: logic<CredentialsInput>(() =>
      call(() => vault.load()).pipe(map((names): WorkerWireEvent => ({ type: 'worker.credentials', names, count: names.length }))),
    ),
    llm: logic<LlmInput>((input) =>
      call(async (signal) => {
        await vault.ensure();
        const request = {
          messages: input.messages,
          model: input.model,
          max_tokens: input.maxTokens,
          temperature: input.temperature,
          stop_sequences: input.stopSequences,
        };
        // The caller's choice of endpoint (seed 002: `llm_complete` or `llm_complete_with_tools`), not whether tools exist.
        return input.llmEndpoint === 'complete'
          ? client.complete(request, { key: input.key, signal })
          : client.completeWithTools({ ...request, tools: definitions, tool_choice: input.toolChoice }, { key: input.key, signal });
      }).pipe(
        map((r): WorkerWireEvent => ({
          type: 'llm.completed',
          content: r.content ?? '',
          toolCalls: r.tool_calls,
          finishReason: parseFinishReason(r.finish_reason),
          usage: {
            inputTokens: r.input_tokens,
            outputTokens: r.output_tokens,
            cacheReadInputTokens: r.cache_read_input_tokens,
            cacheCreationInputTokens: r.cache_creation_input_tokens,
          },
        })),
      ),
    ),
    runTool: logic<ToolInput>((input) =>
      call(async (signal): Promise<WorkerWireEvent> => {
        const { call: c } = input;
        const done = (output: string, isError: boolean): WorkerWireEvent => ({
          type: 'tool.completed',
          callId: c.id,
          name: c.name,
          output: cutBytes(vault.scrub(output), maxOutput),
          isError,
        });
        const tool = Object.hasOwn(tools, c.name) ? tools[c.name] : undefined;
        if (!tool) return done(`unknown tool "${c.name}"`, true);
        await vault.ensure();
        try {
          const out = await tool.run(c.arguments, { env: vault.env(), jobId: input.jobId, callId: c.id, key: input.key, signal });
          return done(typeof out === 'string' ? out : JSON.stringify(out ?? null), false);
        } catch (err) {
          return done(`tool error: ${(err as Error)?.message ?? String(err)}`, true);
        }
      }),
    ),
    // A prompt answer that does not parse is recorded (`worker.invalid`) and fails the call with the
    // seed's LlmProxyFailed ("failed to parse prompt response"), as every other answer does.
    pollPrompt: logic<PromptInput>(() =>
      call((s) => client.pollPrompt(s)).pipe(
        map((p): WorkerWireEvent => (p === null ? { type: 'prompt.none' } : { type: 'prompt.received', content: p.content, done: p.done })),
      ),
    ),
    report: logic<ReportInput>(({ item }) =>
      call(async (signal): Promise<WorkerWireEvent> => {
        if (item.kind === 'event') {
          const r = await client.postEvent(item.body, signal);
          return r.ok ? { type: 'report.done', seq: item.seq, ok: true } : { type: 'report.done', seq: item.seq, ok: false, error: r.error ?? 'failed' };
        }
        try {
          const r = await client.reportStatus(item.body, signal);
          return r.ok
            ? { type: 'report.done', seq: item.seq, ok: true }
            : { type: 'report.done', seq: item.seq, ok: false, error: `status report failed with ${r.status}` };
        } catch (err) {
          return { type: 'report.done', seq: item.seq, ok: false, error: (err as Error).message };
        }
      }),
    ),
    finish: logic<FinishInput>((input) =>
      call((signal) => client.reportComplete(input.report, { key: input.key, signal })).pipe(map((): WorkerWireEvent => ({ type: 'worker.completed' }))),
    ),
  };
}

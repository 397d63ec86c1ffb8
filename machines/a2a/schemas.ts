import { z } from 'zod';
import type { JobArtifact, JobPart, JobUpdate, RemoteJobState } from '../job/events.ts';

/**
 * zod schemas of the A2A v0.3 JSON-RPC payloads actorlog reads, and the pure mapping from them to the
 * generic {@link JobUpdate}. Section numbers refer to the A2A v0.3.0 specification
 * (https://a2a-protocol.org/v0.3.0/specification). Unknown keys are stripped; a payload that fails a
 * schema is recorded as `job.invalid` (docs/architecture.md invariant 6), never thrown into a machine.
 */

const metadata = z.record(z.string(), z.unknown()).optional();

/** §6.5.1 TextPart. */
export const TextPartSchema = z.object({ kind: z.literal('text'), text: z.string(), metadata });
/** §6.5.2 FilePart: a file given inline (`bytes`, base64) or by `uri`. */
export const FilePartSchema = z.object({
  kind: z.literal('file'),
  file: z
    .object({ name: z.string().optional(), mimeType: z.string().optional(), bytes: z.string().optional(), uri: z.string().optional() })
    .refine((f) => f.bytes !== undefined || f.uri !== undefined, 'file part needs `bytes` or `uri`'),
  metadata,
});
/** §6.5.3 DataPart: a JSON object. */
export const DataPartSchema = z.object({ kind: z.literal('data'), data: z.record(z.string(), z.unknown()), metadata });
/** §6.5 Part union, discriminated by `kind`. */
export const PartSchema = z.discriminatedUnion('kind', [TextPartSchema, FilePartSchema, DataPartSchema]);

/** §6.4 Message. */
export const MessageSchema = z.object({
  kind: z.literal('message'),
  messageId: z.string(),
  role: z.enum(['user', 'agent']),
  parts: z.array(PartSchema),
  taskId: z.string().optional(),
  contextId: z.string().optional(),
  metadata,
});
/** §6.2 TaskStatus. `state` is any string so a state newer than v0.3 is kept, not rejected (§6.3). */
export const TaskStatusSchema = z.object({ state: z.string(), message: MessageSchema.optional(), timestamp: z.string().optional() });
/** §6.7 Artifact. */
export const ArtifactSchema = z.object({
  artifactId: z.string(),
  name: z.string().optional(),
  description: z.string().optional(),
  parts: z.array(PartSchema),
  metadata,
});
/** §6.1 Task. */
export const TaskSchema = z.object({
  kind: z.literal('task'),
  id: z.string(),
  contextId: z.string(),
  status: TaskStatusSchema,
  artifacts: z.array(ArtifactSchema).optional(),
  history: z.array(MessageSchema).optional(),
  metadata,
});
/** §7.2.2 TaskStatusUpdateEvent; `final: true` ends the stream. */
export const TaskStatusUpdateEventSchema = z.object({
  kind: z.literal('status-update'),
  taskId: z.string(),
  contextId: z.string(),
  status: TaskStatusSchema,
  final: z.boolean().optional(),
  metadata,
});
/** §7.2.3 TaskArtifactUpdateEvent; `append: true` continues the artifact with the same id. */
export const TaskArtifactUpdateEventSchema = z.object({
  kind: z.literal('artifact-update'),
  taskId: z.string(),
  contextId: z.string(),
  artifact: ArtifactSchema,
  append: z.boolean().optional(),
  lastChunk: z.boolean().optional(),
  metadata,
});
/** §7.1 message/send result: a Task or, for a direct answer, a Message. */
export const SendMessageResultSchema = z.discriminatedUnion('kind', [TaskSchema, MessageSchema]);
/** §7.2.1 the `result` of one SSE frame of message/stream or tasks/resubscribe. */
export const StreamResultSchema = z.discriminatedUnion('kind', [TaskSchema, MessageSchema, TaskStatusUpdateEventSchema, TaskArtifactUpdateEventSchema]);

/** JSON-RPC 2.0 error object (§8). */
export const JsonRpcErrorSchema = z.object({ code: z.number().int(), message: z.string(), data: z.unknown().optional() });
const rpcId = z.union([z.string(), z.number(), z.null()]).optional();
/** JSON-RPC 2.0 response envelope: `error` or `result` (§3.2.1, §6.11). `result` is checked by the caller. */
export const JsonRpcResponseSchema = z.union([
  z.object({ jsonrpc: z.literal('2.0'), id: rpcId, error: JsonRpcErrorSchema }),
  z.object({ jsonrpc: z.literal('2.0'), id: rpcId, result: z.unknown() }),
]);

/** A parsed §6.5 Part. */
export type A2APart = z.infer<typeof PartSchema>;
/** A parsed §6.4 Message. */
export type A2AMessage = z.infer<typeof MessageSchema>;
/** A parsed §6.7 Artifact. */
export type A2AArtifact = z.infer<typeof ArtifactSchema>;
/** A parsed §6.1 Task. */
export type A2ATask = z.infer<typeof TaskSchema>;
/** A parsed §7.2.2 TaskStatusUpdateEvent. */
export type A2AStatusUpdate = z.infer<typeof TaskStatusUpdateEventSchema>;
/** A parsed §7.2.3 TaskArtifactUpdateEvent. */
export type A2AArtifactUpdate = z.infer<typeof TaskArtifactUpdateEventSchema>;
/** A parsed §7.1 message/send result. */
export type A2ASendResult = z.infer<typeof SendMessageResultSchema>;
/** A parsed §7.2.1 stream frame result. */
export type A2AStreamResult = z.infer<typeof StreamResultSchema>;
/** A parsed JSON-RPC error object (§8). */
export type JsonRpcError = z.infer<typeof JsonRpcErrorSchema>;

const STATES: Record<string, RemoteJobState> = {
  submitted: 'submitted',
  working: 'working',
  'input-required': 'input-required',
  'auth-required': 'input-required',
  completed: 'completed',
  failed: 'failed',
  rejected: 'failed',
  canceled: 'canceled',
};

/** The generic states a job does not leave. */
export const TERMINAL_JOB_STATES: ReadonlySet<RemoteJobState> = new Set(['completed', 'failed', 'canceled']);

/**
 * Maps an A2A task state (§6.3) to the generic job state: rejected -> failed, auth-required ->
 * input-required; `unknown` or a state this build does not know -> `fallback` (the last known state).
 * @example mapTaskState('rejected') // 'failed'
 */
export function mapTaskState(state: string, fallback: RemoteJobState = 'working'): RemoteJobState {
  return Object.hasOwn(STATES, state) ? STATES[state]! : fallback;
}

/** Drops keys whose value is undefined, so events compare equal after a JSON round trip (replay). */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Maps one A2A part (§6.5) to a {@link JobPart}.
 * @example mapPart({ kind: 'file', file: { uri: 'https://x/y.pdf' } }) // { kind: 'file', uri: 'https://x/y.pdf' }
 */
export function mapPart(part: A2APart): JobPart {
  if (part.kind === 'text') return { kind: 'text', text: part.text };
  if (part.kind === 'data') return { kind: 'data', data: part.data };
  const { uri, bytes, mimeType, name } = part.file;
  return compact({ kind: 'file' as const, uri, bytes, mimeType, name });
}

/**
 * Maps an A2A artifact (§6.7), with the chunk flags of an artifact-update (§7.2.3), to a {@link JobArtifact}.
 * @example mapArtifact(event.artifact, event) // { artifactId, parts, append: true, lastChunk: true }
 */
export function mapArtifact(artifact: A2AArtifact, chunk: { append?: boolean; lastChunk?: boolean } = {}): JobArtifact {
  return compact({
    artifactId: artifact.artifactId,
    name: artifact.name,
    parts: artifact.parts.map(mapPart),
    append: chunk.append || undefined,
    lastChunk: chunk.lastChunk || undefined,
  });
}

/**
 * The text parts of a message (§6.4) joined by newlines, or undefined when it has none.
 * @example messageText(task.status.message) // 'Which colour should it be?'
 */
export function messageText(message: A2AMessage | undefined): string | undefined {
  const texts = (message?.parts ?? []).flatMap((p) => (p.kind === 'text' ? [p.text] : []));
  return texts.length > 0 ? texts.join('\n') : undefined;
}

/**
 * A full Task snapshot (§6.1, tasks/get, first frame of tasks/resubscribe) as a {@link JobUpdate}.
 * Its artifacts are complete (no `append`): the machine replaces artifacts with the same id.
 * @example taskToJobUpdate(await client.getTask(id)) // { state: 'completed', remoteState: 'completed', artifacts }
 */
export function taskToJobUpdate(task: A2ATask, previous?: RemoteJobState): JobUpdate {
  return compact({
    state: mapTaskState(task.status.state, previous),
    remoteState: task.status.state,
    message: messageText(task.status.message),
    artifacts: task.artifacts?.length ? task.artifacts.map((a) => mapArtifact(a)) : undefined,
  });
}

/**
 * A direct Message answer (§7.1: message/send may return a Message): the job is completed with it.
 * @example messageToJobUpdate(msg) // { state: 'completed', remoteState: 'message', message: 'hi', final: true }
 */
export function messageToJobUpdate(message: A2AMessage): JobUpdate {
  return compact({ state: 'completed' as const, remoteState: 'message', message: messageText(message), final: true });
}

/**
 * Maps any stream result (§7.2.1) to a {@link JobUpdate}. An artifact-update carries no state, so it
 * reports `previous` (the last update of the same stream; `working` when none).
 * @example streamResultToJobUpdate(frame.value, lastUpdate)
 */
export function streamResultToJobUpdate(result: A2AStreamResult, previous?: JobUpdate): JobUpdate {
  switch (result.kind) {
    case 'task':
      return taskToJobUpdate(result, previous?.state);
    case 'message':
      return messageToJobUpdate(result);
    case 'status-update':
      return compact({
        state: mapTaskState(result.status.state, previous?.state),
        remoteState: result.status.state,
        message: messageText(result.status.message),
        final: result.final || undefined,
      });
    case 'artifact-update':
      return compact({
        state: previous?.state ?? 'working',
        remoteState: previous?.remoteState ?? 'working',
        artifacts: [mapArtifact(result.artifact, result)],
      });
  }
}

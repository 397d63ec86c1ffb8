/**
 * actorlog: an event-sourced actor system on XState v5 machines. Every event an actor receives is
 * appended to a log before the actor acts on it; a crashed service recovers every actor from the
 * log, and any actor replays offline. See README.md and docs/architecture.md.
 */
export { ActorlogError, ErrorCodes, describeError, isActorlogError, type ErrorCode, type ErrorInfo } from './errors.ts';
export { systemClock, type Clock } from './clock.ts';
export type {
  AppendRequest,
  AppendResult,
  EventMeta,
  EventRecord,
  EventSource,
  LogStore,
  NewEvent,
  SnapshotRecord,
  StreamRecord,
  StreamStatus,
  SubscribeOptions,
} from './log/types.ts';
export { createActorSystem, type ActorSystem, type ActorSystemOptions, type MachineOf, type MachineRegistry, type RecoveryReport, type SpawnOptions } from './runtime/actorSystem.ts';
export { JournaledActor } from './runtime/journaledActor.ts';
export type { CommitMode } from './runtime/committer.ts';
export type { StoredSnapshot } from './runtime/journal.ts';
export type { Bookkeeping, PendingTimer } from './runtime/bookkeeping.ts';
export { Folder, type FoldState } from './runtime/fold.ts';
export { machineHash } from './runtime/machineInfo.ts';
export { decodeEvent, journalEventData, journalInput } from './runtime/eventCodec.ts';
export { replay, verifyReplay, initialSnapshot, comparable, type ReplayStep, type ReplayOptions, type VerifyResult } from './replay/replay.ts';
export { webSocket, connectOnce, decideReconnect, classifyClose, decodeFrame, parseJsonFrame, type WebSocketEvent, type WebSocketSourceOptions } from './sources/webSocket/index.ts';
export { poll, requestText, type PollOptions, type PollRetry } from './sources/poll/index.ts';
export { fromCall } from './transport/fromCall.ts';
export { backoffDelay, type BackoffOptions } from './transport/backoff.ts';
export { httpStatusError, networkError, invalidPayload, isTransientStatus, keepRaw, truncateRaw, MAX_RAW_BYTES } from './transport/classify.ts';
export { redactHeaders, CREDENTIAL_HEADERS, REDACTED } from './transport/credentialHeaders.ts';
export { scrubCredentials } from './transport/scrubCredentials.ts';
export { createWebhookReceiver, signBody, verifySignature, KeyedBuffer, DEFAULT_SIGNATURE_SCHEME, type WebhookReceiver, type WebhookReceiverOptions, type WebhookDelivery, type WebhookReceiverStats, type SignatureCheck, type SignatureScheme } from './sources/webhook/index.ts';
export { sse, validateSseOptions, openSseConnection, createSseDecoder, decideRetry, type SseItem, type SseOptions, type SseResumePoint, type SseMessage } from './sources/sse/index.ts';

/**
 * actorlog: an event-sourced actor system on XState v5 machines. Every event an actor receives is
 * appended to a log before the actor acts on it; a crashed service recovers every actor from the
 * log, and any actor replays offline. See README.md and docs/architecture.md.
 *
 * This root export holds the contracts (log, errors, clock) and the runtime (actor system, replay).
 * Stream sources are subpaths (`actorlog/sources/sse`, `/webSocket`, `/poll`, `/webhook`), the
 * transport kit for your own actors is `actorlog/transport`, stores are `actorlog/stores/*` and each
 * machine and binding is `actorlog/machines/*`.
 */
export { ActorlogError, ErrorCodes, describeError, isActorlogError, type ErrorCode, type ErrorInfo } from './errors.ts';
export { systemClock, type Clock } from './clock.ts';
export type {
  AppendRequest,
  AppendResult,
  DefinitionRecord,
  EventMeta,
  EventRecord,
  EventSource,
  LogStore,
  NewEvent,
  SnapshotRecord,
  StreamRecord,
  StreamStatus,
  SubscribeOptions,
  EmbeddedLogStore,
  Awaitable,
  LogCursor,
  NewStream,
  InboxMessage,
  StoredInboxMessage,
  WriteBatch,
  StreamOwnership,
  StreamFilter,
  Passivation,
  StreamTail,
} from './log/types.ts';
export {
  createActorSystem,
  type ActorSystem,
  type ActorSystemOptions,
  type MachineOf,
  type MachineRegistry,
  type RecoveryReport,
  type SpawnOptions,
} from './runtime/actorSystem.ts';
export { JournaledActor } from './runtime/journaledActor.ts';
export type { CommitMode } from './runtime/groupCommit.ts';
export type { PassivationOptions } from './runtime/passivation.ts';
export type { StoredSnapshot } from './runtime/journal.ts';
export type { Bookkeeping, PendingTimer } from './runtime/bookkeeping.ts';
export { FAILED_EVENT, type FailureData } from './runtime/failure.ts';
export { machineHash } from './runtime/machineHash.ts';
export type { MachineChangePolicy } from './runtime/machineChange.ts';
export { UPGRADED_EVENT, type UpgradeData } from './runtime/upgradeEvent.ts';
export { machineDefinition } from './runtime/definition.ts';
export { replay, replaySteps, verifyReplay, comparable, type ReplayStep, type ReplayOptions, type VerifyResult } from './replay/replay.ts';

import type { ErrorInfo } from '../../src/errors.ts';
import type { WireMeta } from '../../src/binding/wireLogic.ts';

/** Per-event origin (src/binding/wireLogic.ts). */
export type { WireMeta };

/**
 * One unit of work or one observed event a connection received, JSON-safe. Bindings map their
 * wire format to it (molecule: an activity row; yoi: an event envelope).
 */
export interface ConnectionMessage {
  /** Unique within the connection; the dispatch idempotency key is `<connectionId>:<id>`. */
  id: string;
  /** The resume point after this message (molecule `since_id`, yoi cursor). Absent: the message does not move the cursor. */
  cursor?: string;
  /**
   * A sequence number that only grows: a message at or below the last one is a duplicate (yoi).
   * A number, or hex digits compared exactly at any size (yoi: the cursor's 16 hex digits, a u64).
   */
  seq?: number | string;
  /** A second identity for duplicate detection (molecule: MessageID + IdempotencyKey): a new row carrying a message already received is dropped. */
  dedupeKey?: string;
  /** The binding's kind of message (`a2a_receive`, `snapshot`, `text_delta`…). */
  kind?: string;
  /** Where a reply goes (molecule: the source workspace id). Absent: the message is not replied to. */
  replyTo?: string;
  /** Set when the message failed its schema: it is skipped in order (its cursor passes), never dispatched. */
  invalid?: string;
  /** Set on a skip marker for a duplicate (batch mode): the cursor passes it, nothing is dispatched. */
  duplicate?: true;
  /**
   * Set when the message has no identity of its own (yoi: an event whose cursor is malformed): it
   * is never a duplicate, and the machine makes its id `<id>#<n>` (n: its receipt number).
   */
  unkeyed?: true;
  /** Set on a diagnostic delivered as a message (`deliverDiagnostics`): its code; body `{ code, message }`. */
  diagnostic?: string;
  /** The payload. */
  body: unknown;
}

/** A diagnostic: something the operator should see, not an error of the machine (seed 004 diagnostics). */
export interface Diagnostic {
  code: string;
  message: string;
}

/** What the register actor learned, JSON-safe; kept in context as `registration`. */
export interface Registration {
  /** Skip (do not deliver) the first message of this kind (seed 004: the snapshot after a loaded transcript). */
  skipKind?: string;
  /** Start the receive source from this cursor (yoi: the transcript's position), when none was logged yet. */
  resumeCursor?: string;
  /** The sequence of `resumeCursor`: messages at or below it are duplicates. */
  resumeSeq?: number | string;
  [key: string]: unknown;
}

/** Registration (or attachment) succeeded. */
export interface ConnectionRegisteredEvent {
  type: 'connection.registered';
  registration?: Registration;
  meta?: WireMeta;
}
/** The receive source connected (a WebSocket opened; a poll answered after a reconnect): the reconnect count resets. */
export interface ConnectionOpenedEvent {
  type: 'connection.opened';
  meta?: WireMeta;
}
/** A message (work item or observed event). */
export interface ConnectionMessageEvent {
  type: 'connection.message';
  message: ConnectionMessage;
  meta?: WireMeta;
}
/**
 * A payload that failed its schema (docs/architecture.md invariant 6): raw text (<= 4 KiB) and the error. With
 * `messageId`, the item it stood for is skipped in order, so the cursor can pass it.
 */
export interface ConnectionInvalidEvent {
  type: 'connection.invalid';
  raw: string;
  error: string;
  messageId?: string;
  cursor?: string;
  meta?: WireMeta;
}
/** A diagnostic from the remote or the binding. */
export interface ConnectionDiagnosticEvent {
  type: 'connection.diagnostic';
  code: string;
  message: string;
  meta?: WireMeta;
}
/** The remote no longer knows the cursor (molecule HTTP 410, yoi `backend.cursor_unknown_or_expired`): start again without one. */
export interface ConnectionCursorResetEvent {
  type: 'connection.cursorReset';
  reason: string;
  meta?: WireMeta;
}
/** The receive connection closed, with its close code (1006 for a drop or stall). */
export interface ConnectionClosedEvent {
  type: 'connection.closed';
  code: number;
  reason: string;
  meta?: WireMeta;
}
/** The receive source is retrying after a transient failure (attempt n, after delayMs). */
export interface ConnectionRetryEvent {
  type: 'connection.retry';
  error: ErrorInfo;
  attempt: number;
  delayMs: number;
  meta?: WireMeta;
}
/**
 * A message was handed to the backend: the event that moves the cursor (`meta.cursor`), logged
 * before the machine acts on it; `reply` (JSON) is what to send back to `message.replyTo`.
 */
export interface MessageDispatchedEvent {
  type: 'message.dispatched';
  messageId: string;
  reply?: unknown;
  meta?: WireMeta;
}

/**
 * The opt-in poison-message policy (`parkAfterAttempts`) set a message aside after that many
 * failed dispatches: raised by the machine itself, so it is logged (`meta.source: 'self'`); the
 * cursor passes the message. Never sent without the policy.
 */
export interface MessageParkedEvent {
  type: 'message.parked';
  messageId: string;
  attempts: number;
  error: ErrorInfo;
  meta?: WireMeta;
}

/** Events the binding's actors send to the connection machine. */
export type ConnectionWireEvent =
  | ConnectionRegisteredEvent
  | ConnectionOpenedEvent
  | ConnectionMessageEvent
  | ConnectionInvalidEvent
  | ConnectionDiagnosticEvent
  | ConnectionCursorResetEvent
  | ConnectionClosedEvent
  | ConnectionRetryEvent
  | MessageDispatchedEvent
  | MessageParkedEvent;

/** Events the application sends to a connection actor. */
export type ConnectionCommandEvent =
  /** A request for the remote (yoi: input or lifecycle methods); sent in order by the `command` actor. */
  | { type: 'connection.command'; command: unknown }
  /** Disconnect: the connection ends `offline` (a clean shutdown, as on SIGTERM). */
  | { type: 'connection.close'; reason?: string };

/** The binding-specific identity of the remote end (JSON): molecule `{ workspaceId }`, yoi `{ baseUrl, runtimeId, workerId }`. */
export type ConnectionTarget = Record<string, unknown>;

/** Inputs of the binding's actors (see `connectionMachine`). */
export interface RegisterInput {
  connectionId: string;
  target: ConnectionTarget;
  attempt: number;
}
export interface HeartbeatInput {
  connectionId: string;
  target: ConnectionTarget;
  beat: number;
}
export interface ReceiveInput {
  connectionId: string;
  target: ConnectionTarget;
  cursor?: string;
  registration?: Registration;
  reconnects: number;
}
export interface DispatchInput {
  connectionId: string;
  target: ConnectionTarget;
  message: ConnectionMessage;
  idempotencyKey: string;
  attempt: number;
}
export interface ReplyInput {
  connectionId: string;
  target: ConnectionTarget;
  messageId: string;
  to: string;
  body: unknown;
  idempotencyKey: string;
  attempt: number;
}
/** `attempt` counts from 1; `lastAttempt` is true when a transient failure will not be retried (report it instead of throwing). */
export interface CommandInput {
  connectionId: string;
  target: ConnectionTarget;
  command: unknown;
  idempotencyKey: string;
  attempt: number;
  lastAttempt: boolean;
}

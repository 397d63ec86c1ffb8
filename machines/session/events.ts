import type { WireMeta } from '../../src/binding/wireLogic.ts';
import type { ErrorInfo } from '../../src/errors.ts';

// Per-event origin (src/binding/wireLogic.ts; invariant 3). Every wire event may also say
// `channel: 'prompt'` when the prompt actor's own stream delivered it (its cursor is then the
// prompt's resume point, not the session stream's).
export type { WireMeta };

/** Whether the remote is working on a turn. */
export type RemoteStatus = 'idle' | 'busy';

/** How a turn ended: the answer is complete, it was aborted, or it failed. */
export type TurnEnd = 'completed' | 'aborted' | 'failed';

/** The channels a session's events arrive on: its long-lived stream, or the stream of one prompt (MCP tools/call). */
export type SessionChannel = 'events' | 'prompt';

/**
 * The model of a prompt: seed 001's `Model` string (`"<providerID>/<modelID>"`, e.g. `"anthropic/claude-sonnet-4"`)
 * or the OpenCode server's own form `{ providerID, modelID }`.
 */
export type SessionModel = string | { providerID: string; modelID: string };

/** What the application asks a session to do (a binding may support only some kinds). */
export type SessionPrompt =
  /**
   * A text prompt (OpenCode `prompt_async` / `message`, v2 `prompt`). `model`, `agent`, `system` and
   * `tools` are seed 001's `SendMessageRequest` fields (OpenCode v1 only): `tools` is the seed's list
   * of tool names to enable, or the server's map of tool name to enabled.
   */
  | { kind: 'text'; text: string; model?: SessionModel; agent?: string; system?: string; tools?: string[] | Record<string, boolean> }
  /**
   * A shell command run in the session (OpenCode `POST /session/:id/shell`). OpenCode runs a re-sent
   * command again: after a lost answer (a timeout, a kill -9) the binding looks its message up and
   * follows it; it sends it again only when it is absent and `idempotent` is true, otherwise the
   * turn fails `OUTCOME_UNKNOWN`. @default idempotent false
   */
  | { kind: 'shell'; command: string; idempotent?: boolean }
  /**
   * A tool call (MCP `tools/call`), with progress streamed back. MCP has no idempotency for
   * tools/call: when the call's answer is lost before any SSE event id is logged (a kill -9, a
   * dropped connection), it is sent again only when `idempotent` is true (the tool may then run
   * twice); otherwise the turn fails `OUTCOME_UNKNOWN`. @default idempotent false
   */
  | { kind: 'tool'; name: string; arguments?: Record<string, unknown>; idempotent?: boolean };

/** One streamed piece of a turn: text (whole or a delta), reasoning, a tool call's state, progress. */
export interface SessionPart {
  /** The part's id in the protocol (OpenCode part id, `<messageId>:<textId>`, the MCP request id for progress). */
  id: string;
  /** Absent on a delta for a part already known (its type is kept). */
  type?: 'text' | 'reasoning' | 'tool' | 'progress' | 'step' | 'other';
  /** The whole text so far (replaces), for text and reasoning parts. */
  text?: string;
  /** Text to append to the part (a streamed delta). */
  delta?: string;
  /** Tool name and state (`running`, `completed`, `error`). */
  tool?: string;
  status?: string;
  /** Progress so far and total (MCP `notifications/progress`), in the server's units. */
  progress?: number;
  total?: number;
}

/** The session exists remotely: its id there (OpenCode `ses_…`, MCP `mcp-session-id`) and its state. */
export interface SessionOpenedEvent {
  type: 'session.opened';
  remoteId: string;
  status?: RemoteStatus;
  title?: string;
  meta?: WireMeta;
  channel?: SessionChannel;
}
/** A channel's connection changed: `reconnecting` (with the attempt and why) or `connected`. */
export interface SessionStreamEvent {
  type: 'session.stream';
  channel: SessionChannel;
  state: 'connected' | 'reconnecting';
  attempt?: number;
  error?: ErrorInfo;
  meta?: WireMeta;
}
/** The remote says it is busy or idle (`kind`: the protocol's event type). */
export interface SessionStatusEvent {
  type: 'session.status';
  status: RemoteStatus;
  kind: string;
  meta?: WireMeta;
  channel?: SessionChannel;
}
/** The session's state re-read over HTTP after a (re)connection of a stream that has no cursor. */
export interface SessionSyncedEvent {
  type: 'session.synced';
  status: RemoteStatus;
  output?: string;
  meta?: WireMeta;
  channel?: SessionChannel;
}
/** A streamed part of the current turn. */
export interface SessionPartEvent {
  type: 'session.part';
  kind: string;
  part: SessionPart;
  meta?: WireMeta;
  channel?: SessionChannel;
  /** The prompt (our `promptId`) this part answers, when the protocol tells: a part of another turn is recorded, not merged. */
  promptId?: string;
}
/** The current turn ended; `output` is its text answer, `result` a structured one (MCP CallToolResult). */
export interface SessionEndedEvent {
  type: 'session.ended';
  kind: string;
  reason: TurnEnd;
  output?: string;
  result?: unknown;
  error?: ErrorInfo;
  meta?: WireMeta;
  channel?: SessionChannel;
}
/** Any other event of this session, recorded as the protocol sent it (`data`); the machine only counts it. */
export interface SessionOtherEvent {
  type: 'session.event';
  kind: string;
  data?: unknown;
  meta?: WireMeta;
  channel?: SessionChannel;
}
/** A payload that failed its schema (docs/architecture.md invariant 6): raw text (<= 4 KiB) and the error. */
export interface SessionInvalidEvent {
  type: 'session.invalid';
  raw: string;
  error: string;
  meta?: WireMeta;
  channel?: SessionChannel;
}

/** Events the binding's actors send to the session machine. */
export type SessionWireEvent =
  | SessionOpenedEvent
  | SessionStreamEvent
  | SessionStatusEvent
  | SessionSyncedEvent
  | SessionPartEvent
  | SessionEndedEvent
  | SessionOtherEvent
  | SessionInvalidEvent;

/** Events the application sends to a session actor. */
export type SessionCommandEvent =
  /** Start a turn; ignored (with `lastError`) while one runs. */
  | { type: 'session.prompt'; prompt: SessionPrompt }
  /** Abort the running turn. */
  | { type: 'session.abort' }
  /** Stop following the session (MCP: DELETE the session); the actor ends `closed`. */
  | { type: 'session.close' };

/** Inputs of the binding's actors (see the session machine). */
export interface OpenInput {
  sessionKey: string;
  remoteId?: string;
  title?: string;
  /** Create the session as a child of this remote session (OpenCode `parentID`, seed 001 `CreateSessionRequest`). */
  parentId?: string;
}
export interface EventsInput {
  sessionKey: string;
  remoteId: string;
  cursor?: string;
}
export interface PromptInput {
  sessionKey: string;
  remoteId: string;
  /** The prompt's idempotency key, `<sessionKey>:p<n>`, fixed before the request is sent (invariant 5). */
  promptId: string;
  prompt: SessionPrompt;
  /**
   * The last cursor this prompt's own stream delivered (resume instead of re-sending). `''` (an SSE
   * id that is no resume point, WHATWG HTML §9.2.6) means the request was sent and no event id
   * arrived yet: the binding must not send it again unless the prompt says it is idempotent.
   */
  cursor?: string;
}
export interface AbortInput {
  sessionKey: string;
  remoteId: string;
  promptId?: string;
}
export interface CloseInput {
  sessionKey: string;
  remoteId: string;
}

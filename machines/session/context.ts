import { DEFAULT_RETRY, seededBackoffDelay } from '../../src/transport/backoff.ts';
import { retryAfterMsOf } from '../../src/transport/retryAfter.ts';
import type { ErrorInfo } from '../../src/errors.ts';
import type { RemoteStatus, SessionChannel, SessionPart, SessionPrompt, TurnEnd } from './events.ts';

/** Input of the session machine. All durations in ms. */
export interface SessionInput {
  /** Our id of the session: its stream id, and the root of its prompts' idempotency keys (`<sessionKey>:p1`…). */
  sessionKey: string;
  /** Attach to this remote session instead of creating one. */
  remoteId?: string;
  title?: string;
  /** Create the remote session as a child of this remote session (OpenCode `parentID`; seed 001 `CreateSessionRequest.ParentID`). Not used when attaching with `remoteId`. */
  parentId?: string;
  /** Transient failures to open the session tolerated before it fails. @default 5 */
  maxConnectAttempts?: number;
  /** Transient failures to send one prompt tolerated before the turn fails. @default 3 */
  maxPromptAttempts?: number;
  /** First retry delay; doubles per attempt, capped at 60 s. @default 500 */
  retryDelayMs?: number;
  /** How long an abort waits for the remote to end the turn before the session calls it aborted. @default 10000 */
  abortTimeoutMs?: number;
}

/** The most parts kept in context for one turn (the log keeps them all). */
export const MAX_PARTS = 200;

/** The session machine's context: JSON-safe, replayed from the log. */
export interface SessionContext {
  sessionKey: string;
  remoteId?: string;
  title?: string;
  parentId?: string;
  maxConnectAttempts: number;
  maxPromptAttempts: number;
  retryDelayMs: number;
  abortTimeoutMs: number;
  connectAttempts: number;
  promptAttempts: number;
  /** Prompts started; the current one's idempotency key is `<sessionKey>:p<prompts>`. */
  prompts: number;
  promptId?: string;
  prompt?: SessionPrompt;
  /** The last cursor of the session's stream (its resume point). */
  cursor?: string;
  /** The last cursor of the current prompt's own stream (MCP). */
  promptCursor?: string;
  remoteStatus?: RemoteStatus;
  abortRequested: boolean;
  /** The remote reported busy since the current prompt started. */
  sawBusy: boolean;
  /** Parts of the current (or last) turn, merged by id. */
  parts: SessionPart[];
  /** Text answer of the last turn that ended. */
  output?: string;
  /** Structured answer of the last turn (MCP CallToolResult). */
  result?: unknown;
  lastEnd?: TurnEnd;
  turns: number;
  /** Streamed events received (all kinds). */
  events: number;
  invalid: number;
  reconnects: number;
  channels: Partial<Record<SessionChannel, 'connected' | 'reconnecting'>>;
  lastError?: ErrorInfo;
}

/** The context for an input, with defaults applied. */
export function initialSessionContext(input: SessionInput): SessionContext {
  return {
    sessionKey: input.sessionKey,
    remoteId: input.remoteId,
    title: input.title,
    ...(input.parentId === undefined ? {} : { parentId: input.parentId }),
    maxConnectAttempts: input.maxConnectAttempts ?? 5,
    maxPromptAttempts: input.maxPromptAttempts ?? 3,
    retryDelayMs: input.retryDelayMs ?? DEFAULT_RETRY.baseMs,
    abortTimeoutMs: input.abortTimeoutMs ?? 10_000,
    connectAttempts: 0,
    promptAttempts: 0,
    prompts: 0,
    abortRequested: false,
    sawBusy: false,
    parts: [],
    turns: 0,
    events: 0,
    invalid: 0,
    reconnects: 0,
    channels: {},
  };
}

/** Merges a part into the turn's parts (pure): `text` replaces, `delta` appends, other fields overwrite. */
export function mergePart(parts: SessionPart[], part: SessionPart): SessionPart[] {
  const i = parts.findIndex((p) => p.id === part.id);
  const { delta, ...rest } = part;
  if (i < 0) {
    const added: SessionPart = { ...rest, type: rest.type ?? 'other' };
    if (delta !== undefined) added.text = (rest.text ?? '') + delta;
    const out = [...parts, added];
    return out.length > MAX_PARTS ? out.slice(out.length - MAX_PARTS) : out;
  }
  const merged: SessionPart = { ...parts[i], ...rest };
  if (delta !== undefined) merged.text = (rest.text ?? parts[i].text ?? '') + delta;
  return parts.map((p, j) => (j === i ? merged : p));
}

/** The text answer of a turn: its text parts, in order. */
export function textOutput(parts: SessionPart[]): string {
  return parts
    .filter((p) => p.type === 'text')
    .map((p) => p.text ?? '')
    .join('');
}

/**
 * The retry delay of attempt n (1-based): the shared seeded backoff (`seededBackoffDelay`, jitter
 * derived from the session key and attempt, so replay re-arms the same delay; capped at 60 s), and
 * at least the `Retry-After` of the last failure (a 429 or 503), capped at 60 s too.
 */
export function sessionBackoffMs(context: Pick<SessionContext, 'retryDelayMs' | 'sessionKey' | 'lastError'>, attempt: number): number {
  return seededBackoffDelay(context.sessionKey, attempt, { baseMs: context.retryDelayMs, capMs: DEFAULT_RETRY.capMs }, retryAfterMsOf(context.lastError));
}

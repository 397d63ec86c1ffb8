/**
 * Every error actorlog throws or records carries one of these codes. Callers branch on `code`,
 * never on message text. The README lists them with their meaning.
 */
export const ErrorCodes = {
  /** Append stated an expected stream version that differs from the stream's current version. */
  VERSION_CONFLICT: 'VERSION_CONFLICT',
  /** A stream with this id already exists (createStream, spawn). */
  STREAM_EXISTS: 'STREAM_EXISTS',
  /** No stream with this id is in the log. */
  STREAM_NOT_FOUND: 'STREAM_NOT_FOUND',
  /** The store could not write; the actor that needed the write is stopped with this error. */
  APPEND_FAILED: 'APPEND_FAILED',
  /**
   * This process no longer owns the stream (a shared PostgreSQL log: its node's lease expired and
   * another node claimed the stream, or a newer incarnation replaced it): nothing was written; the
   * actor is stopped here and goes on at its new owner.
   */
  LEASE_LOST: 'LEASE_LOST',
  /** The store is closed or read-only, or its file cannot be opened or is not an actorlog log. */
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  /** The file's schema version is newer than this build understands. */
  SCHEMA_VERSION: 'SCHEMA_VERSION',
  /** A stream names a machine the actor system has not registered. */
  MACHINE_NOT_REGISTERED: 'MACHINE_NOT_REGISTERED',
  /** A stream was written by a machine definition whose hash differs from the registered (or, for `replay()`, the given) one. */
  MACHINE_MISMATCH: 'MACHINE_MISMATCH',
  /** An actor with this id is already running in the system. */
  ACTOR_EXISTS: 'ACTOR_EXISTS',
  /** The machine threw (an action, guard or assign): the actor is in error and its stream marked `error`. */
  ACTOR_FAILED: 'ACTOR_FAILED',
  /** A machine does something the journal cannot record faithfully (e.g. a delayed `sendTo` to another journaled actor); the actor is stopped. */
  UNSUPPORTED_MACHINE: 'UNSUPPORTED_MACHINE',
  /** A child declared a `meta.cursor` that is neither a string nor a finite number; the actor is stopped. */
  INVALID_CURSOR: 'INVALID_CURSOR',
  /**
   * An event or a `spawn` input holds a value the log cannot keep exactly (a `Date`, `Map`, `Set`,
   * `NaN`, `Infinity`, a BigInt, a function, a class instance, a cycle); `details.path` names where.
   * A `send` or `spawn` of the application is refused (nothing appended, the actor keeps running); an
   * event a machine or child produced that the log cannot hold at all (a BigInt, a cycle) stops the actor.
   */
  INVALID_EVENT: 'INVALID_EVENT',
  /** The actor is stopped, done or failed and takes no more events. */
  ACTOR_STOPPED: 'ACTOR_STOPPED',
  /**
   * The actor was passivated (idle, written to the log and dropped from memory): this handle no longer
   * runs it. `system.send(id, event)` delivers to it (waking it), `system.wake(id)` gives a new handle.
   */
  ACTOR_PASSIVATED: 'ACTOR_PASSIVATED',
  /** A replayed snapshot differs from a live snapshot the log recorded (reported by `verifyReplay` / `replay --verify`, exit 1). */
  REPLAY_MISMATCH: 'REPLAY_MISMATCH',
  /** Options given to a function are invalid; nothing was done. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** A wire payload failed its schema (recorded as an `*.invalid` event). */
  INVALID_PAYLOAD: 'INVALID_PAYLOAD',
  /** A transient transport failure (network, 5xx, 429, 408): retried with backoff. */
  TRANSIENT: 'TRANSIENT',
  /** A permanent transport failure (4xx other than 408/429): not retried. */
  PERMANENT: 'PERMANENT',
  /**
   * A request may have taken effect remotely, but its answer was lost or unreadable and the protocol
   * offers no safe way to find it again or re-send it (an MCP tools/call not marked idempotent, an A2A
   * message/send whose answers could not be read): not re-sent, so it never runs twice silently.
   */
  OUTCOME_UNKNOWN: 'OUTCOME_UNKNOWN',
  /** A wait ended by its timeout. */
  TIMEOUT: 'TIMEOUT',
  /** A wait ended by an AbortSignal. */
  ABORTED: 'ABORTED',
} as const;

/** The literal union of {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

const brand = Symbol.for('actorlog.error');

/**
 * The one error class of actorlog: a `code` from {@link ErrorCodes}, a message for people, an
 * optional native `cause` and optional structured `details` (JSON-safe).
 *
 * `instanceof` holds across two installed copies of the package through a `Symbol.for` brand.
 *
 * @example
 * ```ts
 * try { store.append('job-1', 3, events); }
 * catch (err) { if (isActorlogError(err, 'VERSION_CONFLICT')) reload(); else throw err; }
 * ```
 */
export class ActorlogError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  readonly [brand] = true;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ActorlogError';
    this.code = code;
    if (options?.details) this.details = options.details;
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}

/** True when `err` is an {@link ActorlogError}, and, when `code` is given, has that code. */
export function isActorlogError(err: unknown, code?: ErrorCode): err is ActorlogError {
  return err instanceof ActorlogError && (code === undefined || err.code === code);
}

/** A JSON-safe description of any thrown value, as recorded in the log and in machine context. */
export interface ErrorInfo {
  name: string;
  message: string;
  code?: string;
  status?: number;
  /** The wait a 429 or 503 asked for with `Retry-After`, ms (`details.retryAfterMs`): retry timers honour it. */
  retryAfterMs?: number;
}

/**
 * A value as text for an error message or an invalid record: a string as it is, anything else as
 * JSON, never `[object Object]` (what JSON cannot write, a cycle or a BigInt say, as its type).
 * @example textOf({ code: 7 }) // '{"code":7}'
 * @internal
 */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || value === undefined || value === null) return `${value}`;
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // a cycle: named by its type below
  }
  return `[${typeof value}]`;
}

/**
 * Turns any thrown value (an Error, an ActorlogError, a string, a plain object already described)
 * into a JSON-safe {@link ErrorInfo}. Machines assign this, never the Error itself, so the live
 * context and the replayed context (which sees the logged JSON) are equal.
 */
export function describeError(err: unknown): ErrorInfo {
  if (typeof err === 'object' && err !== null) {
    const e = err as {
      name?: unknown;
      message?: unknown;
      code?: unknown;
      status?: unknown;
      retryAfterMs?: unknown;
      details?: { status?: unknown; retryAfterMs?: unknown };
    };
    const info: ErrorInfo = {
      name: typeof e.name === 'string' ? e.name : 'Error',
      message: typeof e.message === 'string' ? e.message : textOf(err),
    };
    if (typeof e.code === 'string') info.code = e.code;
    if (typeof e.status === 'number') info.status = e.status;
    else if (typeof e.details?.status === 'number') info.status = e.details.status;
    // a live error carries it in details; a logged description (replay) at the top
    const retryAfterMs = typeof e.retryAfterMs === 'number' ? e.retryAfterMs : e.details?.retryAfterMs;
    if (typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) info.retryAfterMs = retryAfterMs;
    return info;
  }
  return { name: 'Error', message: String(err) };
}

import type { SchedulerLike } from 'rxjs';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { ActorlogError } from '../../src/errors.ts';
import type { Backend } from '../connection/actors.ts';
import type { ConnectionInput } from '../connection/context.ts';
import type { MoleculeMessage, MoleculeReply } from './schemas.ts';

/** A molecule backend: an async function `(message, { idempotencyKey, signal }) => reply`, or an XState actor logic with input `{ message, idempotencyKey }` whose output is the reply. */
export type MoleculeBackend = Backend<MoleculeMessage, MoleculeReply>;

/** What the actors of a molecule binding need (secrets and functions: kept in a closure, never logged). */
export interface MoleculeBindingOptions {
  /** The platform's base URL (http:// or https://). */
  apiUrl: string;
  /** The workspace's bearer token (a secret). */
  token: string;
  /** Where each message is dispatched. */
  backend: MoleculeBackend;
  dispatcher?: Dispatcher;
  /** Per-request timeout. @default 30000 (seed 003) */
  timeoutMs?: number;
  /** The most bytes of an answer read; an activity answer over it is recorded as `connection.invalid`. @default 1048576 (seed 003) */
  maxBodyBytes?: number;
  /** Timers of the activity poll and of the request deadlines. @default asyncScheduler */
  scheduler?: SchedulerLike;
}

/** One workspace connection: what goes into the connection's input (logged). Durations in ms. */
export interface MoleculeConnectionOptions {
  workspaceId: string;
  /**
   * The delivery mode registered with the platform (seed 003 `--mode`). Only `poll` exists: `push`
   * is refused before any I/O with the seed's "M4" error (push mode is a later milestone there).
   * @default 'poll'
   */
  mode?: 'poll' | 'push';
  /** The stream id. @default `molecule-<workspaceId>` */
  connectionId?: string;
  /** The agent card name sent at register. @default 'actorlog-connect' */
  agentName?: string;
  /** Activity poll interval. @default 1000 */
  pollIntervalMs?: number;
  /** Rows per activity request. @default 100 */
  limit?: number;
  /** Consecutive transient poll failures before the poll gives up and the connection reconnects. @default unbounded (seed 003 retries network errors and 5xx for ever) */
  maxPollFailures?: number;
  /** @default 30000 (seed 003: the platform's TTL is ~60 s, beat every 30 s) */
  heartbeatIntervalMs?: number;
  /** First retry delay of every backoff. @default 500 */
  retryDelayMs?: number;
  /** The cap of every backoff (poll, heartbeat, dispatch, reply). @default 60000 (seed 003: "exponential backoff (cap 60s)") */
  maxRetryDelayMs?: number;
  maxRegisterAttempts?: number;
  maxReconnects?: number;
  /** Opt-in poison-message policy: park a message after this many failed dispatches (`message.parked`). @default never: retried for ever, never dropped (seed 003) */
  parkAfterAttempts?: number;
  /**
   * Opt-in bound on the attempts of one reply (transient failures), after which it is given up and
   * recorded (`reply.failed`). @default never: a reply is retried with capped backoff for as long as
   * the connection lives, and survives a crash (seed 003: network errors and 5xx are transient;
   * only a 4xx ends a reply, recorded as a permanent failure)
   */
  maxReplyAttempts?: number;
}

/** The molecule part of the connection's `target`. */
export interface MoleculeTarget {
  workspaceId: string;
  agentName: string;
  pollIntervalMs: number;
  limit: number;
  /** null: unbounded. */
  maxPollFailures: number | null;
  /** First delay of the poll's own backoff on transient failures (the connection's `retryDelayMs`). */
  retryDelayMs: number;
  /** Cap of the poll's backoff (the connection's `maxRetryDelayMs`). */
  maxRetryDelayMs: number;
}

const httpUrl = z.string().refine((u) => /^https?:\/\/[^/]/.test(u), 'must be an http:// or https:// URL');
const isBackend = (b: unknown) =>
  typeof b === 'function' || (typeof b === 'object' && b !== null && typeof (b as { transition?: unknown }).transition === 'function');
const BindingSchema = z.object({
  apiUrl: httpUrl,
  token: z.string().min(1, 'is required'),
  backend: z.custom<MoleculeBackend>(isBackend, 'is required: an async function or an XState actor logic'),
  timeoutMs: z.number().int().positive().optional(),
  maxBodyBytes: z.number().int().positive().optional(),
});
const ms = z.number().int().nonnegative().optional();
const ConnectionSchema = z.object({
  workspaceId: z.string().trim().min(1, 'is required'),
  mode: z.enum(['poll', 'push']).optional(),
  connectionId: z.string().min(1).optional(),
  agentName: z.string().min(1).optional(),
  pollIntervalMs: ms,
  limit: ms,
  maxPollFailures: ms,
  heartbeatIntervalMs: ms,
  retryDelayMs: ms,
  maxRetryDelayMs: ms,
  maxRegisterAttempts: ms,
  maxReconnects: ms,
  parkAfterAttempts: z.number().int().positive().optional(),
  maxReplyAttempts: z.number().int().positive().optional(),
});

function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${i.path.join('.') || what}: ${i.message}`);
  throw new ActorlogError('INVALID_OPTIONS', `molecule ${what}: ${issues.join('; ')}`, {
    details: { invalid: result.error.issues.map((i) => i.path.join('.')) },
  });
}

/**
 * Checks the binding options before any I/O (seed 003 `TestRun_OptionsValidation`: a missing
 * backend or workspace surfaces before a request is sent).
 * @throws ActorlogError `INVALID_OPTIONS` naming each bad option (never echoing the token)
 */
export function validateMoleculeBinding(options: MoleculeBindingOptions): MoleculeBindingOptions {
  check(BindingSchema, options, 'options');
  return options;
}

/**
 * The connection machine's input for one workspace, checked before any I/O: batch receive (the
 * activity poll), dispatch delivery, and the molecule target.
 * @throws ActorlogError `INVALID_OPTIONS` (e.g. no `workspaceId`; `mode: 'push'`, seed 003's "M4" error)
 * @example
 * ```ts
 * system.spawn('molecule', { id: 'molecule-ws-1', input: moleculeConnectionInput({ workspaceId: 'ws-1' }) });
 * ```
 */
export function moleculeConnectionInput(options: MoleculeConnectionOptions): ConnectionInput {
  const o = check(ConnectionSchema, options, 'connection');
  if (o.mode === 'push') {
    throw new ActorlogError(
      'INVALID_OPTIONS',
      'molecule connection: mode "push" is not implemented yet (M4): use mode "poll" (seed 003: --mode push surfaces this M4 error)',
      { details: { invalid: ['mode'], milestone: 'M4' } },
    );
  }
  const target: MoleculeTarget = {
    workspaceId: o.workspaceId,
    agentName: o.agentName ?? 'actorlog-connect',
    pollIntervalMs: o.pollIntervalMs ?? 1_000,
    limit: o.limit ?? 100,
    maxPollFailures: o.maxPollFailures ?? null,
    retryDelayMs: o.retryDelayMs ?? 500,
    maxRetryDelayMs: o.maxRetryDelayMs ?? 60_000,
  };
  const input: ConnectionInput = {
    connectionId: o.connectionId ?? `molecule-${o.workspaceId}`,
    target: target as unknown as Record<string, unknown>,
    receiveMode: 'batch',
    deliver: 'dispatch',
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? 30_000,
    // after a 410 the platform answers the latest `limit` rows: remember at least that many dispatched ids
    dedupeWindow: Math.max(500, 2 * target.limit),
  };
  for (const key of ['retryDelayMs', 'maxRetryDelayMs', 'maxRegisterAttempts', 'maxReconnects', 'parkAfterAttempts', 'maxReplyAttempts'] as const) {
    if (o[key] !== undefined) input[key] = o[key];
  }
  return input;
}

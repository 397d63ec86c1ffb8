import { z } from 'zod';
import { invalidPayload, keepRaw } from '../../src/transport/classify.ts';
import { bodyExcerpt, MAX_BODY_BYTES } from './http.ts';
import type { ConnectionMessage } from '../connection/events.ts';
import { parseJson } from '../../src/transport/boundedJson.ts';

/** A Go `string` field: missing or null decodes to the zero value `""` (encoding/json leaves it unset). */
const goString = z
  .string()
  .nullish()
  .transform((v) => v ?? '');
/** A Go `*string` field: missing or null is nil. */
const goStringPtr = z
  .string()
  .nullish()
  .transform((v) => v ?? null);

/**
 * One row of GET /workspaces/:id/activity (seed 003 `client.go` `ActivityRow`, the platform's
 * activity_logs shape), decoded as Go's encoding/json decodes it: a missing or null `string` field
 * (`workspace_id`, `activity_type`, `status`, `created_at`) is `""` and a `*string` one
 * (`source_id`, `target_id`, `method`, `summary`) is null, and the row is dispatched. Unknown
 * fields pass through unread. Two differences, both safer: `id` must be a non-empty string (it is
 * the cursor; Go would dispatch a row with ID ""), and a field of the wrong type makes only that
 * row invalid (Go fails the whole answer).
 */
export const ActivityRowSchema = z.object({
  id: z.string().min(1),
  workspace_id: goString,
  activity_type: goString,
  source_id: goStringPtr,
  target_id: goStringPtr,
  method: goStringPtr,
  summary: goStringPtr,
  request_body: z.unknown().optional(),
  status: goString,
  created_at: goString,
});
/** A checked activity row. */
export type ActivityRow = z.infer<typeof ActivityRowSchema>;

/** One row of an activity answer: checked, or kept raw with the reason (and its id when it has one). */
export type ActivityItem = { ok: true; row: ActivityRow } | { ok: false; raw: string; error: string; id?: string };

/** The message a molecule backend receives for each `a2a_receive` row. */
export interface MoleculeMessage {
  /** The activity row id (the cursor, `since_id`). */
  id: string;
  /** The workspace that sent it; null for a message from the canvas (no reply is sent, seed 003). */
  sourceId: string | null;
  method: string | null;
  summary: string | null;
  /** The text parts of the A2A message in `request_body`, joined with newlines. */
  text: string;
  /** The JSON-RPC request as the platform stored it. */
  requestBody: unknown;
  createdAt: string;
}

/** What a backend returns: a text, A2A parts, or a whole JSON-RPC envelope passed through as is. */
export type MoleculeReply = string | { text: string } | { parts: unknown[] } | { envelope: unknown };

/**
 * Parses an activity answer (a JSON array): one item per row. An empty body or `null` is zero rows,
 * as seed 003 sees them (`if out != nil && len(respBody) > 0`; Go decodes `null` into a nil slice).
 * A row that fails the schema is kept raw with its error (and its `id` when it has a string one,
 * so the cursor can pass it).
 * @param answer.cut the answer was longer than `maxBytes` and only its first bytes were read
 * @throws ActorlogError `INVALID_PAYLOAD` when the body is not JSON, not an array, or was cut at
 *   `maxBytes` (default 1 MiB, seed 003's LimitReader); its message quotes the body, credential
 *   forms scrubbed, cut to 200 bytes plus `...` (seed 003 "decode …: … (body: …)")
 */
export function parseActivityAnswer(text: string, answer: { cut?: boolean; maxBytes?: number } = {}): ActivityItem[] {
  const maxBytes = answer.maxBytes ?? MAX_BODY_BYTES;
  const excerpt = () => bodyExcerpt(text);
  if (answer.cut)
    throw invalidPayload(
      'molecule activity',
      text,
      `answer over maxBodyBytes (${maxBytes} bytes): only that much is read, as seed 003 reads through a 1 MiB LimitReader (body: ${excerpt()})`,
    );
  if (text.length === 0) return [];
  const parsed = parseJson(text, { maxBytes }); // bounded: depth and size (binding kit)
  if (!parsed.ok) throw invalidPayload('molecule activity', text, `${parsed.error} (body: ${excerpt()})`);
  const json = parsed.value;
  if (json === null) return [];
  if (!Array.isArray(json)) throw invalidPayload('molecule activity', text, `expected an array of activity rows (body: ${excerpt()})`);
  return json.map((item): ActivityItem => {
    const row = ActivityRowSchema.safeParse(item);
    if (row.success) return { ok: true, row: row.data };
    const id = typeof (item as { id?: unknown })?.id === 'string' ? (item as { id: string }).id : undefined;
    return { ok: false, raw: keepRaw(JSON.stringify(item) ?? String(item)), error: z.prettifyError(row.error), id };
  });
}

/** The text of the A2A message in a row's `request_body` (JSON-RPC `params.message.parts[].text`). */
export function requestText(requestBody: unknown): string {
  const parts = (requestBody as { params?: { message?: { parts?: unknown } } })?.params?.message?.parts;
  if (!Array.isArray(parts)) return '';
  return parts.flatMap((p) => (typeof (p as { text?: unknown })?.text === 'string' ? [(p as { text: string }).text] : [])).join('\n');
}

/**
 * The identity seed 003 dispatches idempotently against: the A2A `MessageID` of the request
 * (`params.message.messageId`) and its `IdempotencyKey` (`params.message.metadata.idempotency_key`,
 * or `params.idempotency_key`; empty when absent), scoped to the sender (`source_id`; `""` for the
 * canvas). A MessageID is the sender's choice, unique only among its own messages: two workspaces
 * that both send messageId "1" send two messages. Undefined without a MessageID (the row id is then
 * the only identity). Seed 003 names the pair but not where connect.go reads it: this is our reading
 * of the A2A request the platform stores. Pure.
 * @example
 * ```ts
 * messageDedupeKey({ params: { message: { messageId: 'm-1', metadata: { idempotency_key: 'k' } } } }, 'ws-a'); // '["ws-a","m-1","k"]'
 * ```
 */
export function messageDedupeKey(requestBody: unknown, sourceId: string | null): string | undefined {
  const params = (requestBody as { params?: { idempotency_key?: unknown; message?: { messageId?: unknown; metadata?: { idempotency_key?: unknown } } } } | null)
    ?.params;
  const messageId = params?.message?.messageId;
  if (typeof messageId !== 'string' || messageId === '') return undefined;
  const key = params?.message?.metadata?.idempotency_key ?? params?.idempotency_key;
  return JSON.stringify([sourceId ?? '', messageId, typeof key === 'string' ? key : '']);
}

/** A row as a connection message: id and cursor = row id, dedupe key = sender + MessageID + IdempotencyKey, reply to `source_id` (none from the canvas). */
export function rowToConnectionMessage(row: ActivityRow): ConnectionMessage {
  const message: ConnectionMessage = { id: row.id, cursor: row.id, kind: row.activity_type, body: row };
  const dedupeKey = messageDedupeKey(row.request_body, row.source_id);
  if (dedupeKey !== undefined) message.dedupeKey = dedupeKey;
  return row.source_id ? { ...message, replyTo: row.source_id } : message;
}

/** The backend's view of a connection message's row. */
export function rowToMoleculeMessage(message: ConnectionMessage): MoleculeMessage {
  const row = message.body as ActivityRow;
  return {
    id: row.id,
    sourceId: row.source_id ?? null,
    method: row.method ?? null,
    summary: row.summary ?? null,
    text: requestText(row.request_body),
    requestBody: row.request_body ?? null,
    createdAt: row.created_at,
  };
}

/**
 * The JSON-RPC envelope POSTed to `/workspaces/<source>/a2a` (seed 003 `ReplyA2A`): A2A v0.3
 * `message/send` with an agent message. Its JSON-RPC `id` and `messageId` derive from the
 * idempotency key, so a re-sent reply is recognisable. `{ envelope }` replies pass through unchanged.
 */
export function replyEnvelope(reply: MoleculeReply, context: { idempotencyKey: string; inReplyTo: string; fromWorkspaceId: string }): unknown {
  if (typeof reply === 'object' && reply !== null && 'envelope' in reply) return reply.envelope;
  const parts = typeof reply === 'string' ? [{ kind: 'text', text: reply }] : 'parts' in reply ? reply.parts : [{ kind: 'text', text: reply.text }];
  return {
    jsonrpc: '2.0',
    id: context.idempotencyKey,
    method: 'message/send',
    params: {
      message: {
        kind: 'message',
        role: 'agent',
        messageId: `${context.idempotencyKey}:reply`,
        parts,
        metadata: { in_reply_to: context.inReplyTo, from_workspace_id: context.fromWorkspaceId },
      },
    },
  };
}

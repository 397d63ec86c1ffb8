import { z } from 'zod';
import { invalidPayload, keepRaw } from '../../src/transport/classify.ts';
import type { ConnectionMessage } from '../connection/events.ts';

/**
 * One row of GET /workspaces/:id/activity (seed 003 `client.go` `ActivityRow`, the platform's
 * activity_logs shape). Only the fields the connection uses are checked; the rest pass through.
 */
export const ActivityRowSchema = z.object({
  id: z.string().min(1),
  workspace_id: z.string(),
  activity_type: z.string(),
  source_id: z.string().nullable().optional(),
  target_id: z.string().nullable().optional(),
  method: z.string().nullable().optional(),
  summary: z.string().nullable().optional(),
  request_body: z.unknown().optional(),
  status: z.string(),
  created_at: z.string(),
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
 * Parses an activity answer (a JSON array): one item per row. A row that fails the schema is kept
 * raw with its error (and its `id` when it has a string one, so the cursor can pass it).
 * @throws ActorlogError `INVALID_PAYLOAD` when the body is not JSON or not an array
 */
export function parseActivityAnswer(text: string): ActivityItem[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw invalidPayload('molecule activity', text, `not JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(json)) throw invalidPayload('molecule activity', text, 'expected an array of activity rows');
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

/** A row as a connection message: id and cursor = row id, reply to `source_id` (none from the canvas). */
export function rowToConnectionMessage(row: ActivityRow): ConnectionMessage {
  const message: ConnectionMessage = { id: row.id, cursor: row.id, kind: row.activity_type, body: row };
  return row.source_id ? { ...message, replyTo: row.source_id } : message;
}

/** The backend's view of a connection message's row. */
export function rowToMoleculeMessage(message: ConnectionMessage): MoleculeMessage {
  const row = message.body as ActivityRow;
  return {
    id: row.id, sourceId: row.source_id ?? null, method: row.method ?? null, summary: row.summary ?? null,
    text: requestText(row.request_body), requestBody: row.request_body ?? null, createdAt: row.created_at,
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
        kind: 'message', role: 'agent', messageId: `${context.idempotencyKey}:reply`, parts,
        metadata: { in_reply_to: context.inReplyTo, from_workspace_id: context.fromWorkspaceId },
      },
    },
  };
}

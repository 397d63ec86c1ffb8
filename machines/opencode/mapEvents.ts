import { z } from 'zod';
import type { SessionPart, SessionPartEvent, SessionWireEvent, WireMeta } from '../session/events.ts';
import { keepRaw } from '../../src/transport/classify.ts';
import { scrubCredentials } from '../../src/transport/scrubCredentials.ts';
import { promptIdOf } from './client.ts';
import {
  DurableEventSchema,
  ErrorPropsSchema,
  GlobalEventSchema,
  MessageUpdatedPropsSchema,
  PartDeltaPropsSchema,
  PartUpdatedPropsSchema,
  StatusPropsSchema,
  type OpencodeMessage,
  type OpencodePart,
} from './schemas.ts';
import { decodeJson, parseJson, type JsonLimits } from '../../src/transport/boundedJson.ts';

/** The decode bound of one stream event: above the SSE parser's own (4 MiB of characters), so that one is the bound that applies. */
const EVENT_LIMITS: JsonLimits = { maxBytes: 16 * 1024 * 1024 };

/**
 * What the global stream said about each message (`message.updated`): its role, so the user's own
 * prompt parts are not taken for the answer, and for an answer the prompt it answers.
 */
export type MessageMemo = Map<string, { role: 'user' | 'assistant'; promptId?: string }>;

const invalid = (raw: string, error: string, meta: WireMeta): SessionWireEvent => ({
  type: 'session.invalid',
  raw: keepRaw(raw),
  error: scrubCredentials(error.slice(0, 1000)),
  meta,
});

function withPrompt(event: SessionPartEvent, promptId: string | undefined): SessionPartEvent {
  return promptId === undefined ? event : { ...event, promptId };
}

/** An OpenCode part as a generic {@link SessionPart}. */
export function toSessionPart(part: OpencodePart): SessionPart {
  switch (part.type) {
    case 'text':
      return { id: part.id, type: 'text', text: part.text ?? '' };
    case 'reasoning':
      return { id: part.id, type: 'reasoning', text: part.text ?? '' };
    case 'tool': {
      const p: SessionPart = { id: part.id, type: 'tool', tool: part.tool ?? 'tool', status: part.state?.status ?? 'pending' };
      if (part.state?.output !== undefined) p.text = part.state.output;
      return p;
    }
    case 'step-start':
      return { id: part.id, type: 'step', status: 'started' };
    case 'step-finish':
      return { id: part.id, type: 'step', status: part.reason ?? 'finished' };
    default:
      return { id: part.id, type: 'other', status: part.type };
  }
}

/** The text answer of a message: its text parts joined. */
export function messageText(message: Pick<OpencodeMessage, 'parts'>): string {
  return message.parts
    .filter((p) => p.type === 'text')
    .map((p) => p.text ?? '')
    .join('');
}

/**
 * Maps one `data:` payload of the global stream `GET /event` (OpenAPI `Event`) to the session
 * machine's events, or `[]` when it belongs to another session or to the server (`server.*`,
 * `plugin.*`…). The stream has no `id:` and no cursor (PEERS.md), so nothing carries one.
 *
 * - `session.status` busy/idle and `session.idle` -> `session.status`; `retry` -> `session.event`
 * - `session.error` -> `session.ended` (`aborted` for `MessageAbortedError`, else `failed`)
 * - `message.part.updated` / `message.part.delta` of an assistant message -> `session.part`, with the
 *   `promptId` of the prompt it answers when the prompt was ours (so a late part of an earlier turn
 *   is not merged into the current one)
 * - anything else of this session -> `session.event` with the event's `properties` as `data`
 * - not JSON, or failing its schema -> `session.invalid` (docs/architecture.md invariant 6)
 */
export function mapGlobalEvent(raw: string, sessionId: string, messages: MessageMemo): SessionWireEvent[] {
  const meta: WireMeta = { source: 'sse' };
  const env = decodeJson(raw, GlobalEventSchema, EVENT_LIMITS); // the one decoder: bounded JSON, then the schema
  if (!env.ok) return [invalid(raw, env.error, meta)];
  const { type: kind, properties } = env.value;
  if (properties.sessionID !== sessionId) return [];
  const check = <T>(schema: z.ZodType<T>): { value: T; bad?: undefined } | { bad: SessionWireEvent } => {
    const r = schema.safeParse(properties);
    return r.success ? { value: r.data } : { bad: invalid(raw, `${kind}: ${z.prettifyError(r.error)}`, meta) };
  };
  switch (kind) {
    case 'session.status': {
      const c = check(StatusPropsSchema);
      if (c.bad) return [c.bad];
      const p = c.value;
      if (p.status.type === 'retry') return [{ type: 'session.event', kind, data: properties, meta }];
      return [{ type: 'session.status', status: p.status.type, kind, meta }];
    }
    case 'session.idle':
      return [{ type: 'session.status', status: 'idle', kind, meta }];
    case 'session.error': {
      const c = check(ErrorPropsSchema);
      if (c.bad) return [c.bad];
      const p = c.value;
      const name = p.error?.name ?? 'UnknownError';
      const message = p.error?.data?.message ?? name;
      if (name === 'MessageAbortedError') return [{ type: 'session.ended', kind, reason: 'aborted', meta }];
      return [{ type: 'session.ended', kind, reason: 'failed', error: { name, message }, meta }];
    }
    case 'message.updated': {
      const c = check(MessageUpdatedPropsSchema);
      if (c.bad) return [c.bad];
      const p = c.value;
      messages.set(p.info.id, { role: p.info.role, promptId: p.info.role === 'assistant' ? promptIdOf(p.info.parentID, sessionId) : undefined });
      if (messages.size > 1000) messages.delete(messages.keys().next().value!);
      return [{ type: 'session.event', kind, data: properties, meta }];
    }
    case 'message.part.updated': {
      const c = check(PartUpdatedPropsSchema);
      if (c.bad) return [c.bad];
      const p = c.value;
      const message = p.part.messageID ? messages.get(p.part.messageID) : undefined;
      if (message?.role === 'user') return [{ type: 'session.event', kind, data: properties, meta }];
      return [withPrompt({ type: 'session.part', kind, part: toSessionPart(p.part), meta }, message?.promptId)];
    }
    case 'message.part.delta': {
      const c = check(PartDeltaPropsSchema);
      if (c.bad) return [c.bad];
      const p = c.value;
      const message = messages.get(p.messageID);
      if (message?.role === 'user' || p.field !== 'text') return [{ type: 'session.event', kind, data: properties, meta }];
      return [withPrompt({ type: 'session.part', kind, part: { id: p.partID, delta: p.delta }, meta }, message?.promptId)];
    }
    default:
      return [{ type: 'session.event', kind, data: properties, meta }];
  }
}

/** The cursor of a durable event (`durable.seq` as a string), or undefined when the payload has none. */
export function durableCursor(raw: string): string | undefined {
  const json = parseJson(raw, EVENT_LIMITS);
  if (!json.ok) return undefined;
  const seq = (json.value as { durable?: { seq?: unknown } } | null)?.durable?.seq;
  return typeof seq === 'number' && Number.isInteger(seq) ? String(seq) : undefined;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/**
 * Maps one event of the durable v2 stream `GET /api/session/:id/event?after=SEQ` (OpenAPI
 * `SessionDurableEvent`) to the session machine's events, each with `meta.cursor` = `durable.seq`
 * (docs/architecture.md invariant 3). The durable stream carries no text deltas and no idle event:
 * - `session.next.prompted` -> `session.status` busy
 * - `text.*`, `reasoning.*` -> `session.part` (`<assistantMessageID>:<textID>`, whole text at `.ended`)
 * - `tool.called` / `tool.success` / `tool.failed`, `shell.started` / `shell.ended` -> tool parts
 * - `step.ended` with a finish other than `tool-calls` -> `session.ended` completed
 * - `step.failed` -> `session.ended` (`aborted` when the error says the turn was interrupted)
 * - anything else -> `session.event` with the event's `data`
 */
export function mapDurableEvent(raw: string): SessionWireEvent {
  const r = decodeJson(raw, DurableEventSchema, EVENT_LIMITS); // the one decoder: bounded JSON, then the schema
  if (!r.ok) return invalid(raw, r.error, { source: 'sse' });
  const { type: kind, durable, data } = r.value;
  const meta: WireMeta = { source: 'sse', cursor: String(durable.seq) };
  const msg = str(data.assistantMessageID) ?? '';
  const part = (p: SessionPart): SessionWireEvent => ({ type: 'session.part', kind, part: p, meta });
  switch (kind) {
    case 'session.next.prompted':
      return { type: 'session.status', status: 'busy', kind, meta };
    case 'session.next.text.started':
    case 'session.next.text.ended':
      return part({ id: `${msg}:${str(data.textID)}`, type: 'text', text: str(data.text) ?? '' });
    case 'session.next.reasoning.started':
    case 'session.next.reasoning.ended':
      return part({ id: `${msg}:${str(data.reasoningID)}`, type: 'reasoning', text: str(data.text) ?? '' });
    case 'session.next.tool.called':
      return part({ id: str(data.callID) ?? kind, type: 'tool', tool: str(data.tool) ?? 'tool', status: 'running' });
    case 'session.next.tool.success':
      return part({ id: str(data.callID) ?? kind, type: 'tool', status: 'completed' });
    case 'session.next.tool.failed':
      return part({ id: str(data.callID) ?? kind, type: 'tool', status: 'error' });
    case 'session.next.shell.started':
      return part({ id: str(data.callID) ?? kind, type: 'tool', tool: 'shell', status: 'running' });
    case 'session.next.shell.ended':
      return part({ id: str(data.callID) ?? kind, type: 'tool', tool: 'shell', status: 'completed', text: str(data.output) ?? '' });
    case 'session.next.step.ended':
      if (data.finish === 'tool-calls') return { type: 'session.event', kind, data, meta };
      return { type: 'session.ended', kind, reason: 'completed', meta };
    case 'session.next.step.failed': {
      const message = str((data.error as { message?: unknown } | undefined)?.message) ?? 'step failed';
      const reason = /interrupt|abort/i.test(message) ? 'aborted' : 'failed';
      return { type: 'session.ended', kind, reason, error: { name: 'StepFailed', message }, meta };
    }
    default:
      return { type: 'session.event', kind, data, meta };
  }
}

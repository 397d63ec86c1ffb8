import { describeError } from '../../src/errors.ts';
import type { SseItem } from '../../src/sources/sse/index.ts';
import type { SessionChannel, SessionWireEvent } from './events.ts';

/**
 * The SSE source's lifecycle notices as `session.stream` events, for every SSE-fed session binding
 * (OpenCode, MCP): `open` -> `connected`, `retry` -> `reconnecting` with the attempt and the error.
 * They carry no cursor: they do not move the stream's resume point.
 */
export function streamNotice(item: Extract<SseItem, { kind: 'open' | 'retry' }>, channel: SessionChannel): SessionWireEvent {
  if (item.kind === 'open') return { type: 'session.stream', channel, state: 'connected', meta: { source: 'sse' } };
  return { type: 'session.stream', channel, state: 'reconnecting', attempt: item.attempt, error: describeError(item.error), meta: { source: 'sse' } };
}

/**
 * The Server-Sent Events source (`actorlog/sources/sse`; docs/architecture.md, "Stream source"):
 * `sse(options)` is an RxJS Observable over undici and eventsource-parser that reconnects with
 * backoff and `retry:`, resumes with `Last-Event-ID` or a protocol cursor, handles keep-alives with a
 * stall timeout, and classifies transient and permanent errors once. Its parser, connection and
 * retry policy (parser.ts, connection.ts, retryPolicy.ts) are internal.
 */
export { sse, type SseItem } from './sse.ts';
export type { SseOptions, SseResumePoint } from './options.ts';
export type { SseRequest } from './connection.ts';
export { DEFAULT_MAX_EVENT_CHARS, type SseMessage } from './parser.ts';
export type { SseRetryOptions } from './retryPolicy.ts';

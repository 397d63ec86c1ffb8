/**
 * The Server-Sent Events source (docs/architecture.md, "Stream source"): `sse(options)` is an RxJS Observable
 * over undici and eventsource-parser that reconnects with backoff and `retry:`, resumes with
 * `Last-Event-ID` or a protocol cursor, handles keep-alives with a stall timeout, and classifies
 * transient and permanent errors once.
 */
export { sse, type SseItem } from './sse.ts';
export { validateSseOptions, type SseOptions, type SseResumePoint } from './options.ts';
export { openSseConnection, type SseConnectionItem, type SseConnectionOptions, type SseRequest } from './connection.ts';
export { createSseDecoder, DEFAULT_MAX_EVENT_CHARS, type SseDecoder, type SseDecoderHandlers, type SseMessage } from './parser.ts';
export { decideRetry, type RetryDecision, type SseRetryOptions } from './retryPolicy.ts';

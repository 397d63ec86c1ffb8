/**
 * The poll source (`actorlog/sources/poll`; docs/architecture.md, "Stream source"): {@link poll}
 * (interval, `until`, backoff on transient failures, scheduler-injected) and {@link requestText}
 * (one undici request, failures classified as the shared transport classification says).
 */
export { poll } from './poll.ts';
export { requestText, type HttpRequestSpec, type HttpTextResponse, type RequestTextOptions } from './http.ts';
export type { PollContext, PollOptions, PollRetry } from './options.ts';

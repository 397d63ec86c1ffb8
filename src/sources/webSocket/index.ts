/**
 * The WebSocket stream source (`actorlog/sources/webSocket`; docs/architecture.md, "Stream
 * source"): {@link webSocket} composes one connection's lifecycle, the reconnect policy and the
 * frame parser (connection.ts, retry.ts, parser.ts; internal).
 */
export { webSocket, type WebSocketEvent } from './webSocket.ts';
export type { CloseKind } from './retry.ts';
export type { ReconnectOptions, WebSocketOutgoing, WebSocketResumePoint, WebSocketSourceOptions } from './options.ts';

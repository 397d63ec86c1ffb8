/**
 * The WebSocket stream source (docs/architecture.md, "Stream source"): {@link webSocket} composes one
 * connection's lifecycle ({@link connectOnce}), the reconnect policy ({@link decideReconnect}) and
 * the frame parser ({@link decodeFrame}, {@link parseJsonFrame}).
 */
export { webSocket, type WebSocketEvent } from './webSocket.ts';
export { connectOnce, STALLED, type ConnectionEvent } from './connection.ts';
export { classifyClose, decideReconnect, type CloseKind, type ConnectionEnd, type ReconnectDecision } from './retry.ts';
export { decodeFrame, frameBytes, parseJsonFrame, type DecodedFrame, type ParsedFrame } from './parser.ts';
export { resolveWebSocketOptions, type ReconnectOptions, type ResolvedWebSocketOptions, type WebSocketSourceOptions } from './options.ts';

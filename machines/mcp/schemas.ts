import { z } from 'zod';

/**
 * zod schemas of the Model Context Protocol messages actorlog reads (MCP specification 2025-11-25:
 * "Base Protocol" JSON-RPC messages, "Lifecycle" initialize, "Utilities" progress and cancellation,
 * "Server Features / Tools" tools/call). Unknown keys are kept (`looseObject`). A message that
 * fails its schema is recorded as `session.invalid` (docs/architecture.md invariant 6), never thrown into a machine.
 */

/** The protocol version this binding speaks (the SDK's LATEST_PROTOCOL_VERSION; priming events need >= 2025-11-25). */
export const MCP_PROTOCOL_VERSION = '2025-11-25';

const id = z.union([z.string(), z.number()]);
const params = z.record(z.string(), z.unknown()).optional();

/** A JSON-RPC error object. */
export const RpcErrorSchema = z.looseObject({ code: z.number(), message: z.string(), data: z.unknown().optional() });
/** Base Protocol: a response (`result` or `error`), a request (`id` + `method`) or a notification (`method` only). */
export const JsonRpcMessageSchema = z.union([
  z.looseObject({ jsonrpc: z.literal('2.0'), id, result: z.record(z.string(), z.unknown()) }),
  z.looseObject({ jsonrpc: z.literal('2.0'), id: id.nullable(), error: RpcErrorSchema }),
  z.looseObject({ jsonrpc: z.literal('2.0'), id, method: z.string(), params }),
  z.looseObject({ jsonrpc: z.literal('2.0'), method: z.string(), params }),
]);
export type JsonRpcMessage = z.infer<typeof JsonRpcMessageSchema>;

/** Lifecycle: InitializeResult. */
export const InitializeResultSchema = z.looseObject({
  protocolVersion: z.string(),
  capabilities: z.record(z.string(), z.unknown()),
  serverInfo: z.looseObject({ name: z.string(), version: z.string() }),
  instructions: z.string().optional(),
});
export type InitializeResult = z.infer<typeof InitializeResultSchema>;

/** Utilities / Progress: `notifications/progress` params. */
export const ProgressParamsSchema = z.looseObject({
  progressToken: z.union([z.string(), z.number()]),
  progress: z.number(),
  total: z.number().optional(),
  message: z.string().optional(),
});

/** Tools: CallToolResult (`isError: true` is a tool failure reported as a result). */
export const CallToolResultSchema = z.looseObject({
  content: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
  structuredContent: z.record(z.string(), z.unknown()).optional(),
  isError: z.boolean().optional(),
});
export type CallToolResult = z.infer<typeof CallToolResultSchema>;

/** A JSON-RPC message told apart by its shape. */
export type RpcMessageKind =
  | { kind: 'result'; id: string | number; result: Record<string, unknown> }
  | { kind: 'error'; id: string | number | null; error: z.infer<typeof RpcErrorSchema> }
  | { kind: 'request'; id: string | number; method: string; params?: Record<string, unknown> }
  | { kind: 'notification'; method: string; params?: Record<string, unknown> };

/** Tells a parsed {@link JsonRpcMessage} apart: response (result or error), request or notification. */
export function rpcKind(message: JsonRpcMessage): RpcMessageKind {
  const m = message as Record<string, unknown>;
  const params = m.params as Record<string, unknown> | undefined;
  if (m.result !== undefined) return { kind: 'result', id: m.id as string | number, result: m.result as Record<string, unknown> };
  if (m.error !== undefined) return { kind: 'error', id: (m.id ?? null) as string | number | null, error: m.error as z.infer<typeof RpcErrorSchema> };
  if (m.id !== undefined) return { kind: 'request', id: m.id as string | number, method: m.method as string, params };
  return { kind: 'notification', method: m.method as string, params };
}

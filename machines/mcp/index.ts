import { sessionMachine } from '../session/machine.ts';
import { mcpSessionActors, type McpBindingOptions } from './actors.ts';

/**
 * The session machine bound to a Model Context Protocol server over Streamable HTTP (MCP
 * 2025-11-25): a session is an MCP session (`mcp-session-id`), a prompt a `tools/call` whose
 * progress and result stream back, resumable with `Last-Event-ID`. Same states and transitions as
 * {@link sessionMachine} (its actors count in `machineHash`): register it under the name `session`.
 *
 * @example
 * ```ts
 * const system = createActorSystem({ store, machines: { session: mcpSessionMachine({ url: 'http://127.0.0.1:3000/mcp' }) } });
 * const s = system.spawn('session', { id: 'tools-1', input: { sessionKey: 'tools-1' } });
 * s.send({ type: 'session.prompt', prompt: { kind: 'tool', name: 'count', arguments: { n: 5 } } });
 * ```
 */
export function mcpSessionMachine(options: McpBindingOptions) {
  return sessionMachine.provide({ actors: mcpSessionActors(options) });
}

export { mcpSessionActors, type McpBindingOptions, type McpSessionActors } from './actors.ts';
export { createMcpClient, type McpClient, type McpClientOptions } from './client.ts';
export { MCP_PROTOCOL_VERSION, type CallToolResult, type InitializeResult, type JsonRpcMessage } from './schemas.ts';

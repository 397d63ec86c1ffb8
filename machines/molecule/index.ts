import { connectionMachine } from '../connection/machine.ts';
import type { ConnectionInput } from '../connection/context.ts';
import { moleculeConnectionActors } from './actors.ts';
import { moleculeConnectionInput, validateMoleculeBinding, type MoleculeBindingOptions, type MoleculeConnectionOptions } from './options.ts';

/**
 * The connection machine bound to a molecule platform (seed 003, `molecule connect <id>`):
 * register, heartbeat, activity poll with `since_id`, sequential dispatch to `backend`, replies to
 * the source workspace. Same states and transitions as `connectionMachine`: only the actors differ
 * (they count in `machineHash`).
 *
 * @throws ActorlogError `INVALID_OPTIONS` before any I/O
 * @example
 * ```ts
 * const system = createActorSystem({ store, machines: { molecule: moleculeConnectionMachine({ apiUrl, token, backend }) } });
 * system.spawn('molecule', { id: 'molecule-ws-1', input: moleculeConnectionInput({ workspaceId: 'ws-1' }) });
 * ```
 */
export function moleculeConnectionMachine(options: MoleculeBindingOptions) {
  return connectionMachine.provide({ actors: moleculeConnectionActors(options) });
}

/** One workspace connection, ready to register and spawn. */
export interface MoleculeConnection {
  /** The stream id (`molecule-<workspaceId>` unless given). */
  id: string;
  input: ConnectionInput;
  machine: ReturnType<typeof moleculeConnectionMachine>;
}

/**
 * Checks every option (binding and workspace) before any I/O and returns the machine, the stream
 * id and the input: the seed's `Run(ctx, opts)` split into "validate" and "run as an actor".
 *
 * @throws ActorlogError `INVALID_OPTIONS` (no backend, no workspace id, a bad URL…)
 * @example
 * ```ts
 * const conn = createMoleculeConnection({ apiUrl, token, workspaceId: 'ws-1', backend: async (m) => `pong: ${m.text}` });
 * const system = createActorSystem({ store, machines: { molecule: conn.machine } });
 * system.recover();
 * const actor = system.get(conn.id) ?? system.spawn('molecule', { id: conn.id, input: conn.input });
 * ```
 */
export function createMoleculeConnection(options: MoleculeBindingOptions & MoleculeConnectionOptions): MoleculeConnection {
  validateMoleculeBinding(options);
  const input = moleculeConnectionInput(options);
  return { id: input.connectionId, input, machine: moleculeConnectionMachine(options) };
}

export { moleculeConnectionActors } from './actors.ts';
export { createMoleculeClient, type MoleculeClient, type MoleculeClientOptions } from './client.ts';
export {
  moleculeConnectionInput,
  validateMoleculeBinding,
  type MoleculeBackend,
  type MoleculeBindingOptions,
  type MoleculeConnectionOptions,
  type MoleculeTarget,
} from './options.ts';
export { ActivityRowSchema, type ActivityItem, type ActivityRow, type MoleculeMessage, type MoleculeReply } from './schemas.ts';

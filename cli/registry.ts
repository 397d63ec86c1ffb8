import type { AnyStateMachine } from 'xstate';
import { jobMachine } from '../machines/job/machine.ts';
import { connectionMachine } from '../machines/connection/machine.ts';
import { workerMachine } from '../machines/ironclaw/machine.ts';
import { sessionMachine } from '../machines/session/machine.ts';
import { ActorlogError } from '../src/errors.ts';
import type { StreamRecord } from '../src/log/types.ts';
import { machineHash } from '../src/runtime/machineHash.ts';

/** The machines the CLI knows by the names streams record. Made per invocation, never global. */
export interface MachineRegistry {
  /** The registered names, sorted. */
  names(): string[];
  /**
   * The machine a stream was written by, checked against the definition hash the stream recorded
   * ({@link machineHash}). A built-in name also matches the shipped protocol bindings of its machine
   * (those that provide guards, actions or delays hash differently), loaded only when the generic machine's hash differs.
   * @throws ActorlogError `MACHINE_NOT_REGISTERED` (no such name); `MACHINE_MISMATCH` when no
   *   candidate's hash matches, unless `ignoreHash` (then `mismatch` says so and the caller warns)
   */
  resolve(
    stream: StreamRecord,
    options?: {
      ignoreHash?: boolean;
      /** Every hash the stream ran (its record's, then each `actorlog.upgraded` event's `to`): any matches. Default: the record's. */
      hashes?: readonly string[];
    },
  ): Promise<{ machine: AnyStateMachine; mismatch?: { logged: string; registered: string } }>;
  /** Every registered machine (built-in and the user's), for a replay to find the definitions a stream ran before or after an upgrade by hash. */
  all(): AnyStateMachine[];
}

/**
 * The machines built in, by the names the examples and bindings register them under: `job` and
 * `foreman` (machines/job: A2A and foreman only provide actors), `connection`, `molecule`, `yoi`
 * (machines/connection), `ironclaw` (machines/ironclaw, the worker's side), `session`
 * (machines/session: OpenCode and MCP only provide actors).
 */
export function builtInMachines(): Record<string, AnyStateMachine> {
  return {
    job: jobMachine,
    foreman: jobMachine,
    connection: connectionMachine,
    molecule: connectionMachine,
    yoi: connectionMachine,
    ironclaw: workerMachine,
    session: sessionMachine,
  };
}

const placeholder = 'http://127.0.0.1:9';

/**
 * The shipped bindings of each built-in name, made on demand with inert options (replay never runs
 * an actor, and the options a binding captures do not change its hash): `job`/`foreman` -> A2A and
 * foreman, `session` -> OpenCode and MCP, `connection`/`molecule`/`yoi` -> molecule and yoi,
 * `ironclaw` -> the ironclaw worker.
 */
const bindings: Record<string, () => Promise<AnyStateMachine[]>> = {
  job: async () => [
    (await import('../machines/a2a/index.ts')).a2aJobMachine({ url: placeholder }),
    (await import('../machines/foreman/index.ts')).foremanJobMachine({ url: placeholder }),
  ],
  session: async () => [
    (await import('../machines/opencode/index.ts')).opencodeSessionMachine({ url: placeholder }),
    (await import('../machines/mcp/index.ts')).mcpSessionMachine({ url: placeholder }),
  ],
  connection: async () => [
    (await import('../machines/molecule/index.ts')).moleculeConnectionMachine({
      apiUrl: placeholder,
      token: 'unused',
      backend: async () => undefined as never,
    }),
    (await import('../machines/yoi/index.ts')).yoiConnectionMachine(),
    (await import('../machines/yoi/index.ts')).yoiConnectionMachine({ onEvent: async () => undefined }), // `dispatch` is another actor with onEvent
  ],
  ironclaw: async () => [
    (await import('../machines/ironclaw/index.ts')).ironclawWorkerMachine({ orchestratorUrl: placeholder, jobId: 'unused', token: 'unused' }),
  ],
};
const bindingsOf: Record<string, keyof typeof bindings> = {
  job: 'job',
  foreman: 'job',
  session: 'session',
  connection: 'connection',
  molecule: 'connection',
  yoi: 'connection',
  ironclaw: 'ironclaw',
};

/**
 * A registry of the built-in machines plus `extra` (which wins on a name clash, so a module may
 * register its own `job`; such a name is then matched against that machine only).
 */
export function createRegistry(extra: Record<string, AnyStateMachine> = {}): MachineRegistry {
  const machines: Record<string, AnyStateMachine> = { ...builtInMachines(), ...extra };
  return {
    names: () => Object.keys(machines).sort(),
    all: () => Object.values(machines),
    async resolve(stream, options = {}) {
      const name = stream.machine.name;
      const machine = Object.hasOwn(machines, name) ? machines[name] : undefined;
      if (!machine) {
        throw new ActorlogError(
          'MACHINE_NOT_REGISTERED',
          `stream ${stream.streamId} was written by machine "${name}", which is not registered (known: ${Object.keys(machines).sort().join(', ')}); pass --machines <module>`,
          { details: { streamId: stream.streamId, machine: name } },
        );
      }
      const registered = machineHash(machine);
      const hashes = options.hashes ?? [stream.machine.hash];
      if (hashes.includes(registered)) return { machine };
      const family = Object.hasOwn(extra, name) || !Object.hasOwn(bindingsOf, name) ? undefined : bindings[bindingsOf[name]!];
      const bound = family ? (await family()).find((m) => hashes.includes(machineHash(m))) : undefined;
      if (bound) return { machine: bound };
      const mismatch = { logged: hashes.join(', then '), registered };
      if (options.ignoreHash) return { machine, mismatch };
      throw new ActorlogError(
        'MACHINE_MISMATCH',
        `stream ${stream.streamId} was written by another definition of "${name}" (${mismatch.logged}, registered ${registered}); pass --ignore-hash to replay anyway`,
        { details: { streamId: stream.streamId, ...mismatch } },
      );
    },
  };
}

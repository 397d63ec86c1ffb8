/**
 * Every machine and binding shipped in machines/, built with placeholder options, for the hash tests
 * (test/unit/machine-hash.test.ts). Run as a program (`node --import tsx test/support/shippedMachines.ts`)
 * it prints `{ name: machineHash }` as JSON, so a test can compare the hashes tsx computes with
 * vitest's: the two load the same files with different transforms.
 */
import { fileURLToPath } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import { machineHash } from '../../src/runtime/machineHash.ts';

const url = 'http://127.0.0.1:9';

/** Imports each shipped machine module afresh (after `vi.resetModules()`, new function objects). */
export async function loadShippedMachines(): Promise<Record<string, AnyStateMachine>> {
  return {
    job: (await import('../../machines/job/machine.ts')).jobMachine,
    session: (await import('../../machines/session/machine.ts')).sessionMachine,
    connection: (await import('../../machines/connection/machine.ts')).connectionMachine,
    worker: (await import('../../machines/ironclaw/machine.ts')).workerMachine,
    a2a: (await import('../../machines/a2a/index.ts')).a2aJobMachine({ url }),
    foreman: (await import('../../machines/foreman/index.ts')).foremanJobMachine({ url }),
    opencode: (await import('../../machines/opencode/index.ts')).opencodeSessionMachine({ url }),
    mcp: (await import('../../machines/mcp/index.ts')).mcpSessionMachine({ url }),
    molecule: (await import('../../machines/molecule/index.ts')).moleculeConnectionMachine({
      apiUrl: url,
      token: 't',
      backend: async () => undefined as never,
    }),
    yoi: (await import('../../machines/yoi/index.ts')).yoiConnectionMachine(),
    yoiOnEvent: (await import('../../machines/yoi/index.ts')).yoiConnectionMachine({ onEvent: async () => undefined }),
    ironclaw: (await import('../../machines/ironclaw/index.ts')).ironclawWorkerMachine({ orchestratorUrl: url, jobId: 'j', token: 't' }),
  };
}

/** `{ name: machineHash }` for every shipped machine. */
export async function shippedMachineHashes(): Promise<Record<string, string>> {
  return Object.fromEntries(Object.entries(await loadShippedMachines()).map(([name, machine]) => [name, machineHash(machine)]));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.stdout.write(JSON.stringify(await shippedMachineHashes()) + '\n');

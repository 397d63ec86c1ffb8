import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';

/** The machine a bench ran on: printed above its table and kept in its JSON. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  node: string;
  xstate: string;
  pg: string;
  /** 1-minute load average when the bench started (other processes compete for the same cores). */
  loadAverage: number;
}

/** Cores, CPU model, Node and library versions, and the load average now. */
export function machineInfo(): MachineInfo {
  const require = createRequire(import.meta.url);
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    xstate: (require('xstate/package.json') as { version: string }).version,
    pg: (require('pg/package.json') as { version: string }).version,
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
  };
}

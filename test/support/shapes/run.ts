/**
 * Runs an issue 15 crash scenario from a test: each phase in a fresh process on one SQLite file,
 * every phase but the last killed with SIGKILL after it reported (test/support/shapes/app.ts).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { scenarios } from './index.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const TSX = import.meta.resolve('tsx');

export interface PhaseReport<T = unknown> {
  result: T;
  errors: Array<{ id: string; code: string }>;
}

/** Runs phase `index` of `scenario` on `db`; resolves with its report once it has exited or been killed. */
async function runPhase(scenario: string, index: number, db: string, last: boolean): Promise<PhaseReport> {
  const child = spawn(process.execPath, ['--import', TSX, 'test/support/shapes/app.ts', scenario, String(index), db], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let report: PhaseReport | undefined;
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  child.stderr!.on('data', (d) => (out += d));
  child.stdout!.on('data', (d) => {
    out += d;
    const line = out.split('\n').find((l) => l.startsWith('RESULT '));
    if (line && !report) {
      report = JSON.parse(line.slice('RESULT '.length)) as PhaseReport;
      if (!last) child.kill('SIGKILL');
    }
  });
  const code = await exited;
  if (!report) throw new Error(`phase ${index} of ${scenario} ended (${code}) without a result:\n${out}`);
  if (code !== (last ? 0 : 'SIGKILL')) throw new Error(`phase ${index} of ${scenario} ended with ${code}, expected ${last ? 0 : 'SIGKILL'}:\n${out}`);
  return report;
}

/** Runs every phase of `scenario` in turn on `db`; returns their reports. */
export async function runScenario(scenario: string, db: string): Promise<PhaseReport[]> {
  const phases = scenarios[scenario]!.phases.length;
  const reports: PhaseReport[] = [];
  for (let i = 0; i < phases; i++) reports.push(await runPhase(scenario, i, db, i === phases - 1));
  return reports;
}

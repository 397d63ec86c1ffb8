/**
 * Runs an issue 15 crash scenario from a test: each phase in a fresh process on one SQLite file,
 * every phase but the last killed with SIGKILL after it reported (test/support/shapes/app.ts).
 */
import { runTsx } from '../kit/index.ts';
import { scenarios } from './index.ts';

export interface PhaseReport<T = unknown> {
  result: T;
  errors: Array<{ id: string; code: string }>;
}

/** Runs phase `index` of `scenario` on `db`; resolves with its report once it has exited or been killed. */
async function runPhase(scenario: string, index: number, db: string, last: boolean): Promise<PhaseReport> {
  const run = runTsx('test/support/shapes/app.ts', [scenario, String(index), db]);
  const line = await run.waitFor(/^RESULT (.*)\n/m).catch(() => undefined);
  const report = line ? (JSON.parse(line[1]!) as PhaseReport) : undefined;
  if (report && !last) run.kill('SIGKILL');
  const code = await run.exited;
  if (!report) throw new Error(`phase ${index} of ${scenario} ended (${code}) without a result:\n${run.output()}`);
  if (code !== (last ? 0 : 'SIGKILL')) throw new Error(`phase ${index} of ${scenario} ended with ${code}, expected ${last ? 0 : 'SIGKILL'}:\n${run.output()}`);
  return report;
}

/** Runs every phase of `scenario` in turn on `db`; returns their reports. */
export async function runScenario(scenario: string, db: string): Promise<PhaseReport[]> {
  const phases = scenarios[scenario]!.phases.length;
  const reports: PhaseReport[] = [];
  for (let i = 0; i < phases; i++) reports.push(await runPhase(scenario, i, db, i === phases - 1));
  return reports;
}

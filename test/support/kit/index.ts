/**
 * The tests' support kit, one import for what many tests need: child processes (started under tsx,
 * output collected, killed by PID), the actorlog CLI run as a child, waiting for a condition, virtual time, temporary logs that
 * close and delete themselves, a read-only look at a log another process writes, and a count of the events a reader reads.
 */
export { ROOT, runNode, runTsx, TSX, type ChildRun, type RunOptions } from './childProcess.ts';
export { CLI, runCli, startCli, type CliOptions, type CliResult } from './cli.ts';
export { until } from './until.ts';
export { advance, virtualTime } from './virtualTime.ts';
export { suiteLog, tempLog, tempStore, type TempLog } from './tempLog.ts';
export { readLog } from './readLog.ts';
export { countReads } from './countReads.ts';
export { tempDb } from '../tempDb.ts';

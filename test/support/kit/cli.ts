import { execFile, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './childProcess.ts';

/** The `actorlog` command of this checkout (bin/actorlog.js: runs cli/main.ts through tsx). */
export const CLI = join(ROOT, 'bin/actorlog.js');

/** How a CLI run ended: its exit code (`null` when a signal or the timeout ended it), and stdout and stderr apart. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Default: the repository root. */
  cwd?: string;
  /** Added to the test process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Killed after this long, ms. Default 30000. */
  timeoutMs?: number;
}

/**
 * Starts `node bin/actorlog.js …args` as a child process: `child` to watch it while it runs (a
 * `tail`, a `view`), `done` for how it ended.
 * @example
 * ```ts
 * const { code, stdout } = await startCli(['streams', db.path, '--json']).done;
 * ```
 */
export function startCli(args: string[], options: CliOptions = {}): { child: ChildProcess; done: Promise<CliResult> } {
  let child!: ChildProcess;
  const done = new Promise<CliResult>((resolve) => {
    const env = { ...process.env, ...options.env };
    child = execFile(process.execPath, [CLI, ...args], { cwd: options.cwd ?? ROOT, timeout: options.timeoutMs ?? 30_000, env }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
  return { child, done };
}

/** Runs `node bin/actorlog.js …args` to its end (see {@link startCli}). */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

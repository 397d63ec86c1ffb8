import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root: the working directory of every child process the tests start. */
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** tsx's loader, so a child runs a .ts file as the tests do (`node --import <TSX> file.ts`). */
export const TSX = import.meta.resolve('tsx');

/** A child process started by a test: its output (stdout and stderr, as they came), its end, and a kill by its PID. */
export interface ChildRun {
  child: ChildProcess;
  pid: number;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output: () => string;
  /** Resolves with the exit code, or the signal name that ended it. */
  exited: Promise<number | string>;
  /** True once it has exited. */
  done: () => boolean;
  /** Sends `signal` (default SIGKILL) to its PID, when it still runs. */
  kill: (signal?: NodeJS.Signals) => void;
  /** Resolves with the first match of `pattern` in its output; rejects when it exits without one, or after `timeoutMs` when given. */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>;
}

export interface RunOptions {
  /** Added to the test process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Default: the repository root. */
  cwd?: string;
}

/** Starts `node <argv…>` with its output collected (cwd: the repository root). */
export function runNode(argv: string[], options: RunOptions = {}): ChildRun {
  const child = spawn(process.execPath, argv, { cwd: options.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  let out = '';
  let done = false;
  const listeners = new Set<() => void>();
  const collect = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      done = true;
      for (const l of listeners) l();
      resolve(code ?? signal ?? -1);
    }),
  );
  return {
    child,
    pid: child.pid!,
    output: () => out,
    exited,
    done: () => done,
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (!done) process.kill(child.pid!, signal);
    },
    waitFor(pattern: RegExp, timeoutMs?: number) {
      return new Promise((resolve, reject) => {
        const timer =
          timeoutMs === undefined ? undefined : setTimeout(() => finish(new Error(`printed no ${pattern} within ${timeoutMs} ms:\n${out}`)), timeoutMs);
        const finish = (result: RegExpExecArray | Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (result instanceof Error) reject(result);
          else resolve(result);
        };
        const check = () => {
          const m = pattern.exec(out);
          if (m) finish(m);
          else if (done) finish(new Error(`exited before printing ${pattern}:\n${out}`));
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** Starts a TypeScript file under tsx (`node --import tsx <file> <args…>`) with its output collected. */
export function runTsx(file: string, args: string[] = [], options: RunOptions = {}): ChildRun {
  return runNode(['--import', TSX, file, ...args], options);
}

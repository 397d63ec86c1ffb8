import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A bench process run in a mode of its own file: its stdout so far, and a SIGKILL for it. */
export interface BenchChild {
  /** Resolves with stdout once `until` appears in it, or at a clean exit or a SIGKILL; rejects on another exit. */
  done: Promise<string>;
  pid: number | undefined;
  kill(): void;
}

/**
 * Runs the bench file `fileUrl` (its `import.meta.url`) again as a child process, as the parent runs:
 * its .ts source through tsx's loader, or the tsc build `npm run bench` makes (.bench-build/) with
 * plain Node. The child reads its mode and arguments from argv; stderr is the parent's.
 * @param nodeArgs Node flags first (e.g. `--expose-gc`)
 * @example
 * ```ts
 * const builder = benchChild(import.meta.url, 'build', [path], { until: 'built' });
 * await builder.done;
 * builder.kill();
 * ```
 */
export function benchChild(fileUrl: string, mode: string, args: string[], options: { until?: string; nodeArgs?: string[] } = {}): BenchChild {
  const loader = fileUrl.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), ...loader, fileURLToPath(fileUrl), mode, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const done = new Promise<string>((resolve, reject) => {
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (options.until !== undefined && out.includes(options.until)) resolve(out);
    });
    proc.on('exit', (code, signal) => (code === 0 || signal === 'SIGKILL' ? resolve(out) : reject(new Error(`bench ${mode} exited ${code ?? signal}`))));
  });
  return { done, pid: proc.pid, kill: () => proc.kill('SIGKILL') };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** A running `actorlog view`. */
export interface ViewProcess {
  url: string;
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM by its PID, resolved once it exited. */
  stop(): Promise<void>;
}

/**
 * `node bin/actorlog.js view <db> --port 0 …` of the checkout at `root` (default: this one), resolved
 * once it printed its URL.
 */
export function startView(db: string, args: string[] = [], root = ROOT): Promise<ViewProcess> {
  const child = spawn(process.execPath, [join(root, 'bin/actorlog.js'), 'view', db, '--port', '0', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`actorlog view printed no URL: ${out}`)), 30_000);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const onData = (d: Buffer) => {
      const before = out;
      out += d;
      if (/actorlog view: http/.test(before)) return;
      const m = /actorlog view: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({ url: m[1]!, child, output: () => out, stop: async () => (child.kill('SIGTERM'), await exited) });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`actorlog view exited ${code}: ${out}`)));
  });
}

/**
 * Appends counter events to `streamId` from another process: `batches` appends of `perBatch` events,
 * one every `everyMs` (0: back to back), starting at stream version `from`. Resolves when that
 * process has committed the last one, with the time it did so (ms since the epoch, its clock).
 */
export function appendFromAnotherProcess(
  db: string,
  streamId: string,
  from: number,
  options: { batches?: number; perBatch?: number; everyMs?: number; type?: string } = {},
): Promise<{ doneAt: number }> {
  const { batches = 1, perBatch = 1, everyMs = 0, type } = options;
  const script = `
    import { openSqliteStore } from './stores/sqlite/index.ts';
    import { counterEvents } from './test/support/generatedLog.ts';
    const store = openSqliteStore(${JSON.stringify(db)});
    let v = ${from};
    for (let b = 0; b < ${batches}; b++) {
      const events = ${type ? `Array.from({ length: ${perBatch} }, () => ({ type: ${JSON.stringify(type)}, data: { note: 'appended by another process' }, meta: { source: 'external', recordedAt: Date.now() } }))` : `counterEvents(${perBatch}, Date.now(), v)`};
      await store.append(${JSON.stringify(streamId)}, v, events);
      v += events.length;
      if (${everyMs} > 0 && b < ${batches} - 1) await new Promise((r) => setTimeout(r, ${everyMs}));
    }
    const doneAt = Date.now();
    await store.close();
    console.log('appended ' + doneAt);`;
  const child = spawn(process.execPath, ['--import', TSX, '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const m = /appended (\d+)/.exec(String(d));
      if (m) resolve({ doneAt: Number(m[1]) });
    });
    child.once('exit', (code) => code !== 0 && reject(new Error(`append process exited ${code}`)));
  });
}

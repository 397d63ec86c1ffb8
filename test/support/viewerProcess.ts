import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, runNode, TSX } from './kit/childProcess.ts';

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
export async function startView(db: string, args: string[] = [], root = ROOT): Promise<ViewProcess> {
  const run = runNode([join(root, 'bin/actorlog.js'), 'view', db, '--port', '0', ...args], { cwd: root });
  const m = await run.waitFor(/actorlog view: (http:\/\/127\.0\.0\.1:\d+\/)/, 30_000);
  return {
    url: m[1]!,
    child: run.child,
    output: run.output,
    stop: async () => {
      run.kill('SIGTERM');
      await run.exited;
    },
  };
}

/**
 * Appends counter events to `streamId` from another process: `batches` appends of `perBatch` events,
 * one every `everyMs` (0: back to back), starting at stream version `from`. Resolves when that
 * process has committed the last one, with the time it did so (ms since the epoch, its clock).
 */
export async function appendFromAnotherProcess(
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
  const m = await runNode(['--import', TSX, '--input-type=module', '-e', script]).waitFor(/appended (\d+)/);
  return { doneAt: Number(m[1]) };
}

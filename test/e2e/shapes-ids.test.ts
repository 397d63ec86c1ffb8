/**
 * Issue 15 item 11 (test/support/shapes/ids.ts): spawn options are checked before anything is
 * written (INVALID_OPTIONS); the stores refuse a NULL or empty stream id; a NULL-id row an older
 * version wrote is reported by recover() instead of resumed, close() still works after a SIGKILL, and
 * `actorlog streams` shows the row instead of crashing.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogStore } from 'actorlog';
import { createMemoryStore } from 'actorlog/stores/memory';
import { openSqliteStore } from 'actorlog/stores/sqlite';
import { runScenario } from '../support/shapes/run.ts';
import { tempDb } from '../support/tempDb.ts';

const BIN = join(fileURLToPath(new URL('../..', import.meta.url)), 'bin/actorlog.js');
let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

/** `actorlog …args`: its exit code and output. */
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

const stream = (streamId: unknown) => ({ streamId: streamId as string, machine: { name: 'tally', hash: 'h' }, input: null, createdAt: 1 });

describe('issue 15 item 11: stream ids', () => {
  it('refuses a spawn without a usable id; recover() reports an old NULL-id row; the CLI lists it', async () => {
    const t = tempDb();
    cleanups.push(t.cleanup);
    const [first, second] = await runScenario('ids', t.path);
    expect(first!.result).toEqual({ refused: Array(6).fill('INVALID_OPTIONS'), streams: [] });
    // a fresh process after the SIGKILL: the NULL row is reported, not resumed; close() works (the phase exits 0)
    expect(second!.result).toEqual({ recovered: ['t-1'], failed: [[null, 'INVALID_OPTIONS']], n: 2 });
    expect(second!.errors).toEqual([{ id: null, code: 'INVALID_OPTIONS' }]);

    const listed = await cli('streams', t.path);
    expect(listed.code, listed.stderr).toBe(0);
    expect(
      listed.stdout
        .split('\n')
        .filter((l) => l.includes('tally'))
        .map((l) => l.split(/\s{2,}/)[0]),
    ).toEqual(['t-1', '(no id)']);
  }, 60_000);

  for (const [name, open] of [
    [
      'SQLite',
      () => {
        const t = tempDb();
        cleanups.push(t.cleanup);
        return openSqliteStore(t.path);
      },
    ],
    ['memory', () => createMemoryStore()],
  ] as const) {
    it(`the ${name} store refuses a NULL or empty stream id with INVALID_OPTIONS, writing nothing`, async () => {
      const store: LogStore = open();
      cleanups.push(() => void store.close());
      for (const id of [null, undefined, '']) {
        expect(() => store.createStream(stream(id))).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
        expect(() => store.write({ streams: [stream('ok-1'), stream(id)] })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
      }
      expect(await store.listStreams()).toEqual([]);
    });
  }
});

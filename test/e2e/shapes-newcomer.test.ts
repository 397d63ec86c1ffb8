/**
 * Issue 15 item 16: errors a newcomer meets. A log opened where better-sqlite3's native addon cannot
 * load (never built, or built for another Node.js) says so and what to run, with a code, instead of
 * "Could not locate the bindings file"; `spawn` after `close()` throws a coded error. The native
 * failures are made real in a child process whose `process.dlopen` refuses the addon
 * (test/support/newcomer/no-native-build.cjs), as a machine without the build does.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { createActorSystem } from 'actorlog';
import { openSqliteStore } from 'actorlog/stores/sqlite';
import { tempDb } from '../support/tempDb.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = import.meta.resolve('tsx');
let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

/** Opens `db` in a process where the addon fails to load as `mode` says; its one line of output. */
function openWithout(mode: 'missing' | 'abi', db: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const args = ['--require', './test/support/newcomer/no-native-build.cjs', '--import', TSX, 'test/support/newcomer/open-log.ts', db];
    execFile(process.execPath, args, { cwd: ROOT, env: { ...process.env, NATIVE_BUILD: mode }, timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim()),
    );
  });
}

describe('issue 15 item 16: errors a newcomer meets', () => {
  it('says that better-sqlite3 has no native build, and what to run', async () => {
    const t = tempDb();
    cleanups.push(t.cleanup);
    const line = await openWithout('missing', t.path);
    expect(line).toMatch(/^STORE_UNAVAILABLE native-build cannot open log file .*: better-sqlite3 has no native build here\. Run `npm rebuild better-sqlite3`/);
    expect(line).not.toMatch(/bindings file/);
  }, 60_000);

  it('says that better-sqlite3 was built for another Node.js version', async () => {
    const t = tempDb();
    cleanups.push(t.cleanup);
    const line = await openWithout('abi', t.path);
    expect(line).toContain(
      `STORE_UNAVAILABLE native-build cannot open log file ${t.path}: better-sqlite3 was built for another Node.js version than this one (${process.version}). Run \`npm rebuild better-sqlite3\``,
    );
  }, 60_000);

  it('refuses spawn after close() with STORE_UNAVAILABLE', async () => {
    const t = tempDb();
    cleanups.push(t.cleanup);
    const store = openSqliteStore(t.path);
    cleanups.push(() => store.close());
    const idle = setup({}).createMachine({ id: 'idle' });
    const system = createActorSystem({ store, machines: { idle } });
    await system.close();
    expect(() => system.spawn('idle', { id: 'i-1' })).toThrow(expect.objectContaining({ code: 'STORE_UNAVAILABLE' }));
    expect(store.getStream('i-1')).toBeUndefined();
  });
});

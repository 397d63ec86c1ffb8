/** The tests' support kit (test/support/kit): temporary logs, waiting, child processes. */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../stores/sqlite/index.ts';
import { readLog, runCli, runTsx, suiteLog, tempLog, until } from '../support/kit/index.ts';

describe('the test support kit', () => {
  let left: { dir: string; store: SqliteStore } | undefined;
  it('tempLog gives connections to a fresh log file', () => {
    const log = tempLog();
    const store = log.open();
    store.createStream({ streamId: 's', machine: { name: 'm', hash: 'h' }, input: {}, createdAt: 1 });
    expect(log.open({ readonly: true }).getStream('s')).toMatchObject({ streamId: 's' });
    left = { dir: log.dir, store };
  });

  it('and closes them and deletes the file once that test has ended', () => {
    expect(left).toBeDefined();
    expect(existsSync(left!.dir)).toBe(false);
    expect(() => left!.store.getStream('s')).toThrow();
  });

  it('readLog reads through a read-only connection, closed once the read has settled, also when it throws', async () => {
    const log = tempLog();
    log.open().createStream({ streamId: 's', machine: { name: 'm', hash: 'h' }, input: {}, createdAt: 1 });
    let seen: SqliteStore | undefined;
    const read = async (store: SqliteStore) => {
      seen = store;
      await Promise.resolve(); // still open across an await
      return store.getStream('s')?.streamId;
    };
    expect(await readLog(log.path, read)).toBe('s');
    expect(seen!.readonly).toBe(true);
    expect(() => seen!.getStream('s')).toThrow(expect.objectContaining({ code: 'STORE_UNAVAILABLE' }));
    await expect(
      readLog(log.path, (store) => {
        seen = store;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(() => seen!.getStream('s')).toThrow(expect.objectContaining({ code: 'STORE_UNAVAILABLE' }));
  });

  it('runCli runs the actorlog CLI to its end: the exit code, stdout and stderr apart', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await runCli(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const wrong = await runCli(['no-such-command']);
    expect(wrong).toMatchObject({ code: 2, stdout: '' });
    expect(wrong.stderr).toMatch(/unknown command 'no-such-command' \(INVALID_OPTIONS\)/);
  });

  it('until waits for a condition turn by turn, and names what it waited for when it never comes', async () => {
    let turns = 0;
    await until(() => ++turns >= 5, 'five turns');
    expect(turns).toBe(5);
    await expect(until(() => false, 'a condition that never holds', { timeoutMs: 0 })).rejects.toThrow(/waiting for a condition that never holds/);
  });

  it('runTsx runs a TypeScript file with its output collected, and kills it by its PID', async () => {
    const run = runTsx('test/support/kit/fixtures/printAndWait.ts', ['hello']);
    expect((await run.waitFor(/ready: (\w+)/))[1]).toBe('hello');
    expect(run.done()).toBe(false);
    run.kill('SIGKILL');
    expect(await run.exited).toBe('SIGKILL');
    expect(run.output()).toContain('ready: hello');
  });
});

let suiteDir: string | undefined;
describe('a suite log', () => {
  const log = suiteLog();
  it('serves every test of its suite', () => {
    log.open().createStream({ streamId: 's', machine: { name: 'm', hash: 'h' }, input: {}, createdAt: 1 });
  });
  it('with what the earlier tests wrote', () => {
    expect(log.open({ readonly: true }).getStream('s')).toMatchObject({ streamId: 's' });
    suiteDir = log.dir;
  });
});

describe('after that suite', () => {
  it('its log is closed and deleted', () => {
    expect(suiteDir).toBeDefined();
    expect(existsSync(suiteDir!)).toBe(false);
  });
});

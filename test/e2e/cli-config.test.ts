/**
 * Issue 15 item 16, the CLI's part, through the real `actorlog` process: a problem in a user's
 * config file is reported as the config's (its path first, what is wrong, `INVALID_OPTIONS`), a
 * module it lists included; a `--machines` module (or one a config lists) may export its machines by
 * name (`export const counter = …`, the export name being the registered name).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActorSystem } from 'actorlog';
import { openSqliteStore } from 'actorlog/stores/sqlite';
import { counterMachine } from '../support/cliMachines.ts';
import { tempDb } from '../support/tempDb.ts';
import { ROOT, runCli } from '../support/kit/index.ts';

const MACHINES = join(ROOT, 'test/support/cliMachines.ts');

/** Runs `node bin/actorlog.js …args` from the repository; resolves with its exit code and output. */
const cli = (...args: string[]) => runCli(args, { timeoutMs: 60_000 });

const db = tempDb();
/** Writes `text` to `name` in the test's directory; returns its path. */
const file = (name: string, text: string) => {
  const path = join(db.dir, name);
  writeFileSync(path, text);
  return path;
};

beforeAll(async () => {
  const store = openSqliteStore(db.path);
  const system = createActorSystem({ store, machines: { counter: counterMachine } });
  const counter = system.spawn('counter', { id: 'counter-1', input: { step: 2 } });
  for (const type of ['start', 'inc', 'finish'] as const) counter.send({ type });
  await system.close();
  store.close();
  // a module exporting its machine by name, next to a helper that is not a machine
  file('named.mjs', `export { counterMachine as counter } from ${JSON.stringify(MACHINES)};\nexport const helper = 42;\n`);
  file('none.mjs', 'export const helper = 42;\nexport function format() {}\n');
});
afterAll(() => db.cleanup());

describe('issue 15 item 16: the CLI and a user config', () => {
  it('reports a problem in the config as the config’s: its path, what is wrong, INVALID_OPTIONS', async () => {
    const cases: Array<[string, string, RegExp]> = [
      // a module the config lists is missing: the config's problem, not a --machines one
      [
        'missing.config.mjs',
        `export default { machines: ['./nope.mjs'] };\n`,
        /config .*missing\.config\.mjs: machines module .*nope\.mjs: Cannot find module/,
      ],
      // a module the config lists exports nothing usable
      [
        'useless.config.mjs',
        `export default { machines: ['./none.mjs'] };\n`,
        /config .*useless\.config\.mjs: machines module .*none\.mjs exports no machine \(its exports: format, helper\)/,
      ],
      // a typo in a key is not ignored
      [
        'typo.config.mjs',
        `export default { machine: ['./named.mjs'] };\n`,
        /config .*typo\.config\.mjs: unknown key `machine` \(a config has machines and db\)/,
      ],
      // a record of machines holding something else
      ['record.config.mjs', `export default { machines: { counter: 42 } };\n`, /config .*record\.config\.mjs: not XState machines: machines\.counter/],
      ['db.config.mjs', `export default { db: 7 };\n`, /config .*db\.config\.mjs: db must be a path/],
      ['syntax.config.mjs', `export default { machines: [ };\n`, /cannot load config .*syntax\.config\.mjs: /],
    ];
    for (const [name, text, message] of cases) {
      const run = await cli('replay', db.path, 'counter-1', '--config', file(name, text));
      expect(run.code, name).toBe(2);
      expect(run.stderr, name).toMatch(message);
      expect(run.stderr, name).toMatch(/ \(INVALID_OPTIONS\)\n$/);
      expect(run.stderr, name).not.toContain('--machines');
      expect(run.stdout, name).toBe('');
    }
  }, 120_000);

  it('registers the machines a --machines module exports by name, and says so when it exports none', async () => {
    const named = await cli('replay', db.path, 'counter-1', '--machines', join(db.dir, 'named.mjs'), '--verify', '--strict');
    expect(named.stderr).toBe('');
    expect(named.code).toBe(0);
    expect(named.stdout).toMatch(/^3\s+\d+\s+external\s+finish\s+finished\s+done/m);
    expect(named.stdout).toContain('verify: OK');
    const none = await cli('replay', db.path, 'counter-1', '--machines', join(db.dir, 'none.mjs'));
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--machines .*none\.mjs exports no machine \(its exports: format, helper\): export each machine by the name/);
  }, 60_000);

  it('registers the machines a module listed in the config exports by name', async () => {
    const config = file('named.config.mjs', `export default { machines: ['./named.mjs'] };\n`);
    const run = await cli('replay', db.path, 'counter-1', '--config', config);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/finish\s+finished\s+done/);
  }, 60_000);
});

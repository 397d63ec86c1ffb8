import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { alive } from '../../examples/server-process.ts';
import { tempDb } from '../support/tempDb.ts';
import { runTsx, type ChildRun } from '../support/kit/index.ts';

/**
 * PIDs of the processes of this log: those whose environment says so (an example and every server
 * it started inherit ACTORLOG_DB), and those in their process groups (OpenCode's `opencode serve`
 * gets an environment of its own, in its host's group).
 */
function processesOf(db: string): number[] {
  const mine = new Set<number>();
  const groups = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      groups.set(
        Number(entry),
        Number(
          readFileSync(`/proc/${entry}/stat`, 'latin1')
            .replace(/^.*\) /s, '')
            .split(' ')[2],
        ),
      );
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`ACTORLOG_DB=${db}`)) mine.add(Number(entry));
    } catch {
      /* gone, or not ours */
    }
  }
  for (const [pid, group] of groups) if (mine.has(group)) mine.add(pid);
  return [...mine];
}

const dbs: Array<ReturnType<typeof tempDb>> = [];
afterEach(() => {
  for (const db of dbs.splice(0)) {
    for (const pid of processesOf(db.path)) if (alive(pid)) process.kill(pid, 'SIGKILL'); // what a failed test left
    db.cleanup();
  }
});

function run(file: string, db: string): ChildRun {
  return runTsx(file, [], { env: { ACTORLOG_DB: db } });
}

describe('no example leaves a server behind when killed in its first second', () => {
  for (const [file, name] of [
    ['examples/mcp-session.ts', 'mcp'],
    ['examples/yoi-observe.ts', 'yoi'],
  ] as const) {
    it(`${file}: killed right after it spawned its server, then run to its end: no process of that log is left`, async () => {
      const db = tempDb();
      dbs.push(db);
      const first = run(file, db.path);
      // kill -9 the example as soon as its server process exists (long before the server listens)
      const isServer = (pid: number) => {
        try {
          return /server-process\.ts|test\/servers\//.test(readFileSync(`/proc/${pid}/cmdline`, 'latin1'));
        } catch {
          return false;
        }
      };
      while (!processesOf(db.path).some(isServer)) {
        if (first.child.exitCode !== null) throw new Error(`the example ended before starting its server:\n${first.output()}`);
        await sleep(2);
      }
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
      const orphans = processesOf(db.path);
      expect(orphans.length, 'the server spawned before the kill runs on').toBeGreaterThan(0);
      expect(existsSync(`${db.path}.${name}.json`), 'its record is beside the log').toBe(true);

      const second = run(file, db.path);
      const code = await Promise.race([second.exited, sleep(90_000).then(() => 'still running')]);
      if (code === 'still running') second.child.kill('SIGKILL');
      expect(code, second.output()).toBe(0);
      for (let waited = 0; processesOf(db.path).length > 0 && waited < 5_000; waited += 100) await sleep(100);
      expect(processesOf(db.path), 'servers left running').toEqual([]);
      for (const pid of orphans) expect(alive(pid)).toBe(false);
    }, 120_000);
  }
});

describe('the opencode example after a kill inside its shutdown', () => {
  it('started again with the finished run still recorded (its server already stopped), it finishes: exit 0, no server left', async () => {
    const db = tempDb();
    dbs.push(db);
    const first = run('examples/opencode-session.ts', db.path);
    expect(await Promise.race([first.exited, sleep(150_000).then(() => 'still running')]), first.output()).toBe(0);
    const id = /session (opencode-\w+): spawned/.exec(first.output())![1];
    // a kill between stopping the server and forgetting the run leaves exactly this behind
    writeFileSync(`${db.path}.opencode.run.json`, JSON.stringify({ id }), { mode: 0o600 });
    const second = run('examples/opencode-session.ts', db.path);
    expect(await Promise.race([second.exited, sleep(150_000).then(() => 'still running')]), second.output()).toBe(0);
    expect(second.output()).toContain(`session ${id}: found finished in the log`);
    expect(second.output()).toMatch(/this server does not hold ses_\w+/);
    for (let waited = 0; processesOf(db.path).length > 0 && waited < 10_000; waited += 100) await sleep(100);
    expect(processesOf(db.path), 'servers left running').toEqual([]);
  }, 320_000);
});

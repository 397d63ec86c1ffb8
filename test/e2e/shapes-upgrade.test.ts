/**
 * Issue 15 item 12, across real SIGKILLs (test/support/shapes/upgrade.ts): a deploy that changes a
 * machine no longer strands its streams. With `onMachineChange: 'verify'` (the default) recovery folds
 * each stream with the new machine and compares it with the snapshots the log keeps: a change the
 * fold does not see (the body of an I/O actor) resumes the streams and records an `actorlog.upgraded`
 * event; a change of what the log folds to is refused with MACHINE_MISMATCH naming the first version
 * where they part, and the streams stay active; `'refuse'` refuses any change; `'accept'` resumes
 * them on the new machine from where they stood.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createActorSystem, machineHash, replaySteps, verifyReplay, type ReplayStep } from 'actorlog';
import { openSqliteStore } from 'actorlog/stores/sqlite';
import { runScenario } from '../support/shapes/run.ts';
import { broken, fixed } from '../support/shapes/fix.ts';
import { v1, v2, v3, v4same, v4triple } from '../support/shapes/upgrade.ts';
import { tempDb } from '../support/tempDb.ts';
import { readLog, ROOT, runCli } from '../support/kit/index.ts';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

/** Runs the real CLI (`node bin/actorlog.js …args`); resolves with its exit code and output. */
const cli = (...args: string[]) => runCli(args, { timeoutMs: 60_000 });
const totals = (steps: ReplayStep[]) => steps.map((s) => [s.record.version, (s.snapshot.context as { total: number }).total]);

describe('issue 15 item 12: deploying a changed machine', () => {
  const db = tempDb();
  let reports: Awaited<ReturnType<typeof runScenario>> = [];
  const accepted = () => reports[4]!.result as { totals: Record<string, unknown> };
  beforeAll(async () => {
    reports = await runScenario('upgrade', db.path);
  }, 90_000);
  afterAll(() => db.cleanup());

  it('verifies, refuses or accepts the change as onMachineChange says, and records an upgrade', async () => {
    const [, verified, diverged, refused, accepted] = reports;
    const [h1, h2, h3] = [machineHash(v1), machineHash(v2), machineHash(v3)];
    expect(new Set([h1, h2, h3]).size).toBe(3);

    expect(verified!.result).toEqual({
      recovered: ['o-1', 'o-2'],
      failed: [],
      totals: { 'o-1': { total: 16, receipt: null, other: 0 }, 'o-2': { total: 16, receipt: null, other: 0 } },
    });
    const mismatch = (result: unknown) => (result as { failed: Array<[string, string, string]> }).failed;
    expect(mismatch(diverged!.result).map(([id, code]) => [id, code])).toEqual([
      ['o-1', 'MACHINE_MISMATCH'],
      ['o-2', 'MACHINE_MISMATCH'],
    ]);
    expect(mismatch(diverged!.result)[0]![2]).toContain(`folds its log differently from the one that wrote it (${h2}): first at version 2 (context)`);
    expect(mismatch(refused!.result)[0]![2]).toContain("onMachineChange is 'refuse'");
    // accepted: each goes on from where its log left it, adding the new way (2 x 1)
    expect(accepted!.result).toEqual({
      recovered: ['o-1', 'o-2'],
      failed: [],
      totals: { 'o-1': { total: 19, receipt: null, other: 0 }, 'o-2': { total: 19, receipt: null, other: 0 } },
    });

    await readLog(db.path, async (store) => {
      for (const id of ['o-1', 'o-2']) {
        const log = store.readStream(id);
        expect(log.filter((r) => r.type === 'actorlog.upgraded').map((r) => [r.version, r.meta.source, r.data])).toEqual([
          [3, 'system', { from: h1, to: h2, policy: 'verify', checked: 1 }],
          // the accepted machine resumed from the snapshot the clean close kept at version 2
          [5, 'system', { from: h2, to: h3, policy: 'accept', checked: 0, resumedFrom: 2 }],
        ]);
        expect(log.map((r) => r.type)).toEqual(['add', 'add', 'actorlog.upgraded', 'add', 'actorlog.upgraded', 'add']);
        expect(store.getStream(id)!.status).toBe('active');
        // the definitions of the machines it ran are in the log, for tools
        for (const hash of [h1, h2, h3]) expect(store.loadDefinition(hash)?.hash).toBe(hash);
      }
    });
  });

  it('replays across the upgrades as recovery ran them: replay(), verifyReplay() and actorlog replay --verify', async () => {
    const store = openSqliteStore(db.path, { readonly: true });
    try {
      // the machine of today (v3) resumed from the snapshot at version 2 written by v1, which v2 was
      // verified against: with v2 given, versions 1-4 fold by v2, then v3 from that snapshot (15 + 2 x 2)
      const steps = await replaySteps(store, v3, 'o-1', { machines: [v2] });
      expect(totals(steps)).toEqual([
        [1, 10],
        [2, 15],
        [3, 15],
        [4, 16],
        [5, 17],
        [6, 19],
      ]);
      expect(steps.at(-1)!.snapshot.context).toEqual(accepted().totals['o-1']);
      expect(await verifyReplay(store, v3, 'o-1', { machines: [v2] })).toMatchObject({ ok: true, checked: 2, differences: [] });
      // v2 stands in for v1 (verified); it replays up to the 'accept' and then says where it stops
      expect(totals(await replaySteps(store, v2, 'o-1', { to: 4 }))).toEqual([
        [1, 10],
        [2, 15],
        [3, 15],
        [4, 16],
      ]);
      await expect(replaySteps(store, v2, 'o-1')).rejects.toMatchObject({ code: 'MACHINE_MISMATCH', details: { version: 5, needed: machineHash(v3) } });
      await expect(replaySteps(store, v1, 'o-1')).rejects.toMatchObject({ code: 'MACHINE_MISMATCH', details: { version: 3, needed: machineHash(v2) } });
      // v3 alone cannot show versions 1-4 (v1 and v2 ran them, and v3 was not verified against them)
      await expect(replaySteps(store, v3, 'o-1')).rejects.toMatchObject({ code: 'MACHINE_MISMATCH', details: { version: 1, needed: machineHash(v1) } });
      // a machine the stream never ran is refused, unless ignoreHash (which folds everything with it: not what ran)
      const other = v1.provide({ actions: { unused: () => undefined } });
      await expect(replaySteps(store, other, 'o-1')).rejects.toMatchObject({
        code: 'MACHINE_MISMATCH',
        details: { streamId: 'o-1', registered: machineHash(other), logged: [machineHash(v1), machineHash(v2), machineHash(v3)] },
      });
      const forced = await verifyReplay(store, v3, 'o-1', { ignoreHash: true });
      expect(forced.ok).toBe(false);
      expect(forced.differences[0]).toMatchObject({ version: 2, key: 'context' });
    } finally {
      store.close();
    }
    // the CLI registers v3 under the stream's name and v2 under another: it finds each by hash
    const run = await cli('replay', db.path, 'o-1', '--machines', 'test/support/shapes/upgradeMachines.ts', '--verify');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('actorlog.upgraded');
    expect(run.stdout).toMatch(/verify: OK \(replay equals the 2 live snapshot\(s\), last at version 6\)/);
    // with v3 alone registered, it says which definition the stretch before the 'accept' needs
    const only = join(db.dir, 'only-v3.mjs');
    writeFileSync(only, `export { v3 as orders } from ${JSON.stringify(join(ROOT, 'test/support/shapes/upgrade.ts'))};\n`);
    const alone = await cli('replay', db.path, 'o-1', '--machines', only, '--verify');
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain(`its versions from 1 were folded by a definition of "orders" (${machineHash(v1)}) that was not given`);
    expect(alone.stderr).toMatch(/registered under any name\) \(MACHINE_MISMATCH\)\n$/);
  }, 60_000);

  it('actorlog replay --ignore-hash --verify tries the next deploy and gives the answer recover() gives', async () => {
    const dir = tempDb();
    try {
      const upgradeTs = join(ROOT, 'test/support/shapes/upgrade.ts');
      for (const [candidate, machine, verdict] of [
        ['v4same', v4same, { code: 0, line: 'verify: OK (replay equals the 1 live snapshot(s), last at version 6)' }],
        ['v4triple', v4triple, { code: 1, line: 'verify: MISMATCH with the live snapshot at version 6' }],
      ] as const) {
        // a module exporting the candidate under the name the streams record
        const module = join(dir.dir, `${candidate}.mjs`);
        writeFileSync(module, `export { ${candidate} as orders } from ${JSON.stringify(upgradeTs)};\n`);
        const run = await cli('replay', db.path, 'o-1', '--machines', module, '--ignore-hash', '--verify');
        expect(run.code, candidate).toBe(verdict.code);
        expect(run.stdout, candidate).toContain(verdict.line);
        // recover() with the candidate (default onMachineChange: 'verify'), on a copy of the log
        copyFileSync(db.path, dir.path);
        const store = openSqliteStore(dir.path);
        const system = createActorSystem({ store, machines: { orders: machine }, snapshotEvery: 0, onError: () => {} });
        try {
          const { recovered, failed } = await system.recover();
          if (verdict.code === 0) {
            expect(
              recovered.map((a) => a.id),
              candidate,
            ).toEqual(['o-1', 'o-2']);
            expect(store.readStream('o-1').at(-1)!.data, candidate).toMatchObject({ policy: 'verify', checked: 1, to: machineHash(v4same) });
          } else {
            expect(
              failed.map((f) => f.error.code),
              candidate,
            ).toEqual(['MACHINE_MISMATCH', 'MACHINE_MISMATCH']);
            expect(failed[0]!.error.message, candidate).toContain('first at version 6 (context)');
          }
        } finally {
          await system.close();
          store.close();
        }
      }
    } finally {
      dir.cleanup();
    }
  }, 90_000);
});

describe('issue 15 item 12: deploying a fix inside an I/O actor', () => {
  it('resumes every actor after a SIGKILL when a deploy fixes only the body of an invoked promise or callback', async () => {
    const t = tempDb();
    cleanup = t.cleanup;
    // the fold runs neither body: the fix keeps the hash (no snapshot is needed to verify it)
    expect(machineHash(fixed)).toBe(machineHash(broken));
    const [killed, resumed] = await runScenario('fix', t.path);
    for (const id of ['o-1', 'o-2']) {
      expect((killed!.result as Record<string, unknown>)[id]).toEqual({
        value: 'paying',
        status: 'active',
        context: { total: 15, receipt: null, notes: ['v1'] },
      });
    }
    expect(resumed!.result).toEqual({
      recovered: ['o-1', 'o-2'],
      failed: [],
      orders: {
        'o-1': { value: 'paid', status: 'done', context: { total: 15, receipt: 'paid 15', notes: ['v1', 'v2'] } },
        'o-2': { value: 'paid', status: 'done', context: { total: 15, receipt: 'paid 15', notes: ['v1', 'v2'] } },
      },
    });
    expect(resumed!.errors).toEqual([]);
    await readLog(t.path, async (store) => {
      for (const id of ['o-1', 'o-2']) {
        // the fixed payment's answer is logged once; no upgrade event, the machine did not change
        expect(store.readStream(id).map((r) => r.type)).toEqual(['note', 'add', 'add', 'checkout', 'note', 'xstate.done.actor.pay']);
        expect(store.getStream(id)!.status).toBe('done');
      }
    });
  }, 90_000);
});

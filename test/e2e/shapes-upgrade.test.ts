/**
 * Issue 15 item 12, across real SIGKILLs (test/support/shapes/upgrade.ts): a deploy that changes a
 * machine no longer strands its streams. With `onMachineChange: 'verify'` (the default) recovery folds
 * each stream with the new machine and compares it with the snapshots the log keeps: a change the
 * fold does not see (the body of an I/O actor) resumes the streams and records an `actorlog.upgraded`
 * event; a change of what the log folds to is refused with MACHINE_MISMATCH naming the first version
 * where they part, and the streams stay active; `'refuse'` refuses any change; `'accept'` resumes
 * them on the new machine from where they stood.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { machineHash } from 'actorlog';
import { openSqliteStore } from 'actorlog/stores/sqlite';
import { runScenario } from '../support/shapes/run.ts';
import { broken, fixed } from '../support/shapes/fix.ts';
import { v1, v2, v3 } from '../support/shapes/upgrade.ts';
import { tempDb } from '../support/tempDb.ts';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe('issue 15 item 12: deploying a changed machine', () => {
  it('verifies, refuses or accepts the change as onMachineChange says, and records an upgrade', async () => {
    const t = tempDb();
    cleanup = t.cleanup;
    const [, verified, diverged, refused, accepted] = await runScenario('upgrade', t.path);
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

    const store = openSqliteStore(t.path, { readonly: true });
    try {
      for (const id of ['o-1', 'o-2']) {
        const log = store.readStream(id);
        expect(log.filter((r) => r.type === 'actorlog.upgraded').map((r) => [r.version, r.meta.source, r.data])).toEqual([
          [3, 'system', { from: h1, to: h2, policy: 'verify', checked: 1 }],
          [5, 'system', { from: h2, to: h3, policy: 'accept', checked: 0 }],
        ]);
        expect(log.map((r) => r.type)).toEqual(['add', 'add', 'actorlog.upgraded', 'add', 'actorlog.upgraded', 'add']);
        expect(store.getStream(id)!.status).toBe('active');
        // the definitions of the machines it ran are in the log, for tools
        for (const hash of [h1, h2, h3]) expect(store.loadDefinition(hash)?.hash).toBe(hash);
      }
    } finally {
      store.close();
    }
  }, 90_000);

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
    const store = openSqliteStore(t.path, { readonly: true });
    try {
      for (const id of ['o-1', 'o-2']) {
        // the fixed payment's answer is logged once; no upgrade event, the machine did not change
        expect(store.readStream(id).map((r) => r.type)).toEqual(['note', 'add', 'add', 'checkout', 'note', 'xstate.done.actor.pay']);
        expect(store.getStream(id)!.status).toBe('done');
      }
    } finally {
      store.close();
    }
  }, 90_000);
});

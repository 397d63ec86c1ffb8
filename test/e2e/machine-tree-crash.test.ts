/**
 * A user-style machine tree survives SIGKILL at random points. The parent
 * spawns two child machines, runs a promise that completes and one in flight, uses delayed raises
 * with and without ids, and sends to a second journaled actor (test/support/treeMachines.ts). The
 * application (test/support/tree-app.ts) is killed several times and restarted on the same file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { comparable, verifyReplay, type EventRecord, type EmbeddedLogStore } from 'actorlog';
import { openSqliteStore } from 'actorlog/stores/sqlite';
import { machines } from '../support/treeMachines.ts';
import { eventCount } from '../support/orchestrator.ts';
import { runTsx, until } from '../support/kit/index.ts';
import { tempDb } from '../support/tempDb.ts';

/** Runs the application; `snapshotEvery` 0 makes recovery fold the whole stream, 3 resumes from live snapshots. */
function startApp(db: string, effects: string, snapshotEvery = 3) {
  return runTsx('test/support/tree-app.ts', [db], { env: { ACTORLOG_EFFECTS: effects, SNAPSHOT_EVERY: String(snapshotEvery) } });
}

/** A small seeded generator (mulberry32), so a failing run can be repeated with the same kill points. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Outcome {
  final: Record<string, unknown>;
  store: EmbeddedLogStore;
}

function finalStates(path: string): Outcome {
  const store = openSqliteStore(path, { readonly: true });
  const final: Record<string, unknown> = {};
  for (const id of ['p-1', 'b-1']) {
    const snap = store.loadSnapshot(id)!.snapshot as {
      state: { value: unknown; context: unknown; status: unknown; children: Record<string, { snapshot: unknown }> };
    };
    final[id] = {
      ...comparable(snap.state),
      children: Object.fromEntries(Object.entries(snap.state.children).map(([k, v]) => [k, comparable(v.snapshot as object)])),
    };
  }
  return { final, store };
}

describe('a user-style machine tree under kill -9', () => {
  it('ends as an uncrashed run does: no completed effect re-run, no message twice, replay equal to live', async () => {
    // The reference: the same application, never killed.
    const ref = tempDb();
    const refEffects = join(ref.dir, 'effects.txt');
    writeFileSync(refEffects, '');
    const clean = startApp(ref.path, refEffects);
    expect(await clean.exited, clean.output()).toBe(0);
    const expected = finalStates(ref.path);
    expected.store.close();

    const seed = Number(process.env.ACTORLOG_CRASH_SEED ?? 20261201);
    const next = random(seed);
    const t = tempDb();
    const effects = join(t.dir, 'effects.txt');
    writeFileSync(effects, '');
    /** The log's head position when each killed run was dead: run i wrote positions (heads[i-1], heads[i]]. */
    const heads: number[] = [0];
    for (let kill = 0; kill < 4; kill++) {
      const before = eventCount(t.path);
      const killAfter = 2 + Math.floor(next() * 8);
      const run = startApp(t.path, effects, kill % 2 === 0 ? 0 : 3);
      await until(() => eventCount(t.path) >= before + killAfter, `${killAfter} more events (seed ${seed})`, { timeoutMs: 30_000, everyMs: 20 });
      run.child.kill('SIGKILL');
      expect(await run.exited).toBe('SIGKILL');
      heads.push(eventCount(t.path));
    }
    const last = startApp(t.path, effects);
    expect(await last.exited, last.output()).toBe(0);
    heads.push(Number.MAX_SAFE_INTEGER);

    const crashed = finalStates(t.path);
    const store = crashed.store;
    try {
      expect(crashed.final, `seed ${seed}`).toEqual(expected.final);
      for (const id of ['p-1', 'b-1']) {
        const stream = store.getStream(id)!;
        expect(stream.status).toBe('done');
        const verify = await verifyReplay(store, machines[id === 'p-1' ? 'parent' : 'receiver'], id);
        expect(verify.differences, id).toEqual([]);
        expect(verify.checked, id).toBeGreaterThan(0);
      }

      // No message delivered twice: every causation id once, one ping per beat, then one bye.
      const received = store.readStream('b-1');
      const causes = received.map((r) => r.meta.causationId);
      expect(new Set(causes).size).toBe(causes.length);
      expect(received.map((r) => r.type)).toEqual([...Array(10).fill('ping'), 'bye']);

      // No completed effect ran again: no line for an effect after the run that logged its completion.
      const lines = readFileSync(effects, 'utf8').trim().split('\n');
      const runOfLine: Array<{ run: number; key: string }> = [];
      let run = -1;
      for (const line of lines) {
        if (line.startsWith('run ')) run++;
        else runOfLine.push({ run, key: line.slice('effect '.length) });
      }
      const parentLog = store.readStream('p-1');
      const runOf = (record: EventRecord) => heads.findIndex((h) => record.globalPosition <= h) - 1;
      for (const [key, doneType] of [
        ['quick', 'xstate.done.actor.quick'],
        ['slow', 'xstate.done.actor.slow'],
      ] as const) {
        const done = parentLog.filter((r) => r.type === doneType);
        expect(done, doneType).toHaveLength(1);
        const completedIn = runOf(done[0]!);
        const reruns = runOfLine.filter((l) => l.key === key && l.run > completedIn);
        expect(reruns, `${key} ran again after its completion was logged in run ${completedIn}`).toEqual([]);
      }
      // Most kills landed while the parent was still working (else the test proves little).
      expect(heads.slice(1, -1).filter((h) => h < parentLog.at(-1)!.globalPosition).length).toBeGreaterThanOrEqual(3);
    } finally {
      store.close();
      ref.cleanup();
      t.cleanup();
    }
  }, 120_000);
});

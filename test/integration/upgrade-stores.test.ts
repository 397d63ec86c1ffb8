/**
 * Issue 15 item 12 on each store (memory, SQLite, PostgreSQL: the same awaited contract): a stream
 * upgraded by `onMachineChange: 'verify'` and then `'accept'` records both upgrades, and `replay()` /
 * `verifyReplay()` fold it as recovery ran it, each stretch with its machine. The crash version of
 * this flow is test/e2e/shapes-upgrade.test.ts (SQLite, SIGKILL).
 */
import { describe, expect, it } from 'vitest';
import { createActorSystem, machineHash, replaySteps, UPGRADED_EVENT, verifyReplay, type LogStore, type MachineChangePolicy } from 'actorlog';
import type { AnyStateMachine } from 'xstate';
import { useStoreLogs } from '../support/storeLogs.ts';
import { v1, v2, v3 } from '../support/shapes/upgrade.ts';

const { openLog } = useStoreLogs('up');

/** A fresh log of `kind`; `open()` makes another connection to it (a new process's). */
async function logOf(kind: string): Promise<() => Promise<LogStore>> {
  const log = await openLog(kind);
  return () => log.reopen();
}

/** One "process": recovers with `machine` under `policy`, adds an item of price 1 to o-1, closes. */
async function deploy(open: () => Promise<LogStore>, machine: AnyStateMachine, policy: MachineChangePolicy) {
  const store = await open();
  const system = createActorSystem({ store, machines: { orders: machine }, onMachineChange: policy, onError: () => {} });
  const { recovered, failed } = await system.recover();
  for (const actor of recovered) actor.send({ type: 'add', price: 1 } as never);
  await system.settled();
  await system.close();
  return { recovered: recovered.map((a) => a.id), failed: failed.map((f) => f.error.code) };
}

describe.each(['memory', 'sqlite', 'postgres'])('upgrades on the %s store', (kind) => {
  it('records a verified then an accepted upgrade; replay() folds each stretch with the machine that ran it', async () => {
    const open = await logOf(kind);
    const first = await open();
    const system = createActorSystem({ store: first, machines: { orders: v1 } });
    if (kind === 'postgres') await system.recover(); // registers this node: the streams it creates are its own
    const order = system.spawn('orders', { id: 'o-1' });
    order.send({ type: 'add', price: 10 });
    order.send({ type: 'add', price: 5 });
    await system.settled();
    await system.close(); // a snapshot at version 2

    expect(await deploy(open, v2, 'verify'), 'v2 verify').toEqual({ recovered: ['o-1'], failed: [] });
    // (on PostgreSQL the node that refused the stream gives its claim up at close(): the next deploy takes it at once)
    expect(await deploy(open, v3, 'verify'), 'v3 verify').toEqual({ recovered: [], failed: ['MACHINE_MISMATCH'] });
    expect(await deploy(open, v3, 'accept'), 'v3 accept').toEqual({ recovered: ['o-1'], failed: [] });

    const store = await open();
    const upgrades = (await store.readStream('o-1')).filter((r) => r.type === UPGRADED_EVENT);
    expect(upgrades.map((r) => [r.version, r.data])).toEqual([
      [3, { from: machineHash(v1), to: machineHash(v2), policy: 'verify', checked: 1 }],
      [5, { from: machineHash(v2), to: machineHash(v3), policy: 'accept', checked: 0, resumedFrom: 4 }],
    ]);
    // v2 stands in for v1; v3 resumes from the snapshot at version 4 (16) and counts each item twice
    const steps = await replaySteps(store, v3, 'o-1', { machines: [v2] });
    expect(steps.map((s) => [s.record.version, (s.snapshot.context as { total: number }).total])).toEqual([
      [1, 10],
      [2, 15],
      [3, 15],
      [4, 16],
      [5, 16],
      [6, 18],
    ]);
    expect(await verifyReplay(store, v3, 'o-1', { machines: [v2] })).toMatchObject({ ok: true, checked: 3 });
    await expect(replaySteps(store, v3, 'o-1')).rejects.toMatchObject({ code: 'MACHINE_MISMATCH', details: { version: 1, needed: machineHash(v1) } });
  }, 60_000);
});

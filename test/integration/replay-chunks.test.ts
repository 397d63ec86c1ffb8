/**
 * replay() of a stream by the machine it was created with reads it REPLAY_CHUNK versions at a time
 * (src/replay/foldChunks.ts) instead of planning the whole stream first: across chunk boundaries and
 * upgrades it must yield exactly the steps of the planned fold (the path of any other machine), and
 * fall back to the plan where only the rest of the log says which machine folds a stretch. On the
 * three stores (PostgreSQL answers each chunk's read with a promise).
 */
import { describe, expect, it } from 'vitest';
import { createActorSystem, machineHash, replay, replaySteps, verifyReplay, type LogStore, type MachineChangePolicy, type ReplayStep } from 'actorlog';
import { createMachine, type AnyStateMachine } from 'xstate';
import { useStoreLogs } from '../support/storeLogs.ts';
import { REPLAY_CHUNK } from '../../src/replay/foldChunks.ts';
import { v1, v2, v3 } from '../support/shapes/upgrade.ts';

/** v2 with another description: another hash, and it folds as v2 does (a 'verify' upgrade passes). */
const v2b = createMachine(
  { ...(v2.config as object), description: 'the same orders, paid through gateway 3' } as never,
  v2.implementations as never,
) as AnyStateMachine;

const { openLog } = useStoreLogs('rc');

/** A fresh log of `kind`; `open()` makes another connection to it (a new process's). */
async function logOf(kind: string): Promise<() => Promise<LogStore>> {
  const log = await openLog(kind);
  return () => log.reopen();
}

/**
 * Runs o-1 through `deploys`, each a "process" on a connection of its own: it recovers o-1 with its
 * machine under its policy (the first spawns it) and adds `adds` items of price 1. Returns a store to read the log with.
 */
async function upgradedLog(open: () => Promise<LogStore>, deploys: Array<[AnyStateMachine, MachineChangePolicy, number]>): Promise<LogStore> {
  for (const [k, [machine, policy, adds]] of deploys.entries()) {
    const store = await open();
    const system = createActorSystem({ store, machines: { orders: machine }, onMachineChange: policy, onError: () => {} });
    const { recovered, failed } = await system.recover();
    expect(
      failed.map((f) => f.error.code),
      `deploy ${k}`,
    ).toEqual([]);
    const order = k === 0 ? system.spawn('orders', { id: 'o-1' }) : recovered[0]!;
    for (let i = 0; i < adds; i++) order.send({ type: 'add', price: 1 } as never);
    await system.settled();
    await system.close();
  }
  return open();
}

const shape = (steps: ReplayStep[]) => steps.map((s) => [s.record.version, s.snapshot.status, s.snapshot.context]);

/** The steps replay() yields before it throws, and what it throws. */
async function stepsUntilError(steps: AsyncGenerator<ReplayStep>): Promise<{ n: number; error: unknown }> {
  let n = 0;
  try {
    for await (const _ of steps) n++;
  } catch (error) {
    return { n, error };
  }
  return { n, error: undefined };
}

describe.each(['memory', 'sqlite', 'postgres'])('replay() by chunks on the %s store', (kind) => {
  it('folds across chunk boundaries, a verified and an accepted upgrade exactly as the planned fold does', async () => {
    const store = await upgradedLog(await logOf(kind), [
      [v1, 'verify', REPLAY_CHUNK + 500],
      [v2, 'verify', 700],
      [v3, 'accept', 300],
    ]);
    const version = (await store.getStream('o-1'))!.version;
    expect(version).toBe(REPLAY_CHUNK + 500 + 700 + 300 + 2); // two actorlog.upgraded events
    const chunked = await replaySteps(store, v1, 'o-1', { machines: [v2, v3] });
    const planned = await replaySteps(store, v3, 'o-1', { machines: [v1, v2] });
    expect(chunked).toHaveLength(version);
    expect(shape(chunked)).toEqual(shape(planned));
    // v3 counts each item twice from the snapshot it resumed from: the last total shows the hand-over happened
    expect((chunked.at(-1)!.snapshot.context as { total: number }).total).toBe(REPLAY_CHUNK + 500 + 700 + 2 * 300);
    expect(shape(await replaySteps(store, v1, 'o-1', { machines: [v2, v3], to: REPLAY_CHUNK + 900 }))).toEqual(shape(planned.slice(0, REPLAY_CHUNK + 900)));
    expect(await verifyReplay(store, v1, 'o-1', { machines: [v2, v3] })).toMatchObject({ ok: true, differences: [] });
  }, 60_000);

  it('plans the whole stream where a later verified machine stands in for a stretch whose own was not given', async () => {
    const store = await upgradedLog(await logOf(kind), [
      [v1, 'verify', REPLAY_CHUNK + 200],
      [v2, 'verify', 300],
      [v2b, 'verify', 300],
    ]);
    // v2 is not given: v2b, verified against the whole log, folds its stretch too
    const chunked = await replaySteps(store, v1, 'o-1', { machines: [v2b] });
    expect(shape(chunked)).toEqual(shape(await replaySteps(store, v2b, 'o-1', { machines: [v1] })));
    expect(chunked).toHaveLength(REPLAY_CHUNK + 200 + 300 + 300 + 2);
    // with no machine for v2's stretch at all, the replay yields what comes before it and then says which machine it needs
    const upgradeAt = REPLAY_CHUNK + 201;
    const { n, error } = await stepsUntilError(replay(store, v1, 'o-1'));
    expect(n).toBe(upgradeAt - 1);
    expect(error).toMatchObject({ code: 'MACHINE_MISMATCH', details: { version: upgradeAt, needed: machineHash(v2) } });
    expect((error as Error).message).toContain(`replayed up to version ${upgradeAt - 1}`);
  }, 60_000);
});

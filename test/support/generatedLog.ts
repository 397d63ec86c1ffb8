import type { LogStore, NewEvent } from '../../src/log/types.ts';
import { machineDefinition } from '../../src/runtime/definition.ts';
import { machineHash } from '../../src/runtime/machineHash.ts';
import { openSqliteStore } from '../../stores/sqlite/index.ts';
import { counterMachine } from './cliMachines.ts';

/** The shape of a generated counter log (see {@link writeCounterLog}). */
export interface CounterLogShape {
  /** Events of the one long stream, `big-1`. */
  bigEvents: number;
  /** How many other streams (`small-0000`…). */
  streams: number;
  /** Events of each other stream. */
  eventsPerStream: number;
}

/** The counter machine's events: `start`, then `inc`, `pause`, `resume` over and over. */
export function counterEvents(n: number, at: number, first = 0): NewEvent[] {
  const cycle = ['inc', 'pause', 'resume'];
  return Array.from({ length: n }, (_, k) => {
    const i = first + k;
    return { type: i === 0 ? 'start' : cycle[(i - 1) % 3]!, data: {}, meta: { source: 'external', recordedAt: at + i } };
  });
}

/**
 * Writes a log of counter streams (test/support/cliMachines.ts) fast, with `appendBatch` (no
 * actor runs, no snapshot is saved: a fold starts from the initial state): one stream `big-1` of
 * `bigEvents` events, then `streams` streams of `eventsPerStream` events, every other one ending with
 * `finish` (status `done`). The definition is saved, so the viewer draws the chart from the log.
 *
 * @returns the log's head position
 * @example
 * ```ts
 * await writeCounterLog(db.path, { bigEvents: 100_000, streams: 999, eventsPerStream: 900 });
 * ```
 */
export async function writeCounterLog(path: string, shape: CounterLogShape): Promise<number> {
  // the contract's type: its calls are awaited whatever store it is
  const store: LogStore = openSqliteStore(path);
  try {
    const hash = machineHash(counterMachine);
    await store.saveDefinition({ hash, name: 'counter', definition: machineDefinition(counterMachine), recordedAt: Date.now() });
    const t0 = Date.now() - 3_600_000;
    await store.createStream({ streamId: 'big-1', machine: { name: 'counter', hash }, input: { step: 1 }, createdAt: t0 });
    for (let v = 0; v < shape.bigEvents; v += 10_000) {
      await store.appendBatch([{ streamId: 'big-1', expectedVersion: v, events: counterEvents(Math.min(10_000, shape.bigEvents - v), t0, v) }]);
    }
    const perBatch = Math.max(1, Math.floor(20_000 / Math.max(1, shape.eventsPerStream)));
    for (let i = 0; i < shape.streams; i += perBatch) {
      const requests = [];
      for (let k = i; k < Math.min(shape.streams, i + perBatch); k++) {
        const streamId = `small-${String(k).padStart(4, '0')}`;
        const at = t0 + shape.bigEvents + k * shape.eventsPerStream;
        await store.createStream({ streamId, machine: { name: 'counter', hash }, input: {}, createdAt: at });
        const events = counterEvents(shape.eventsPerStream, at);
        if (k % 2 === 1 && events.length > 1)
          events[events.length - 1] = { type: 'finish', data: {}, meta: { source: 'external', recordedAt: at + events.length } };
        requests.push({ streamId, expectedVersion: 0, events });
      }
      await store.appendBatch(requests);
      for (let k = i; k < Math.min(shape.streams, i + perBatch); k++) {
        if (k % 2 === 1 && shape.eventsPerStream > 1)
          await store.setStreamStatus(`small-${String(k).padStart(4, '0')}`, 'done', t0 + shape.bigEvents + k * shape.eventsPerStream);
      }
    }
    return await store.headPosition();
  } finally {
    await store.close();
  }
}

import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { initialTransition, transition, type AnyMachineSnapshot, type AnyStateMachine, type EventObject } from 'xstate';
import { comparable, replay } from '../src/replay/replay.ts';
import { decodeEvent } from '../src/runtime/eventCodec.ts';
import { Folder } from '../src/runtime/fold.ts';
import type { SqliteStore } from '../stores/sqlite/store.ts';
import { EVENT_COLUMNS } from '../stores/sqlite/rows.ts';
import { perSecond } from './actor.ts';

/** Fold rates of one logged stream, in events per second. */
export interface MeasureReplayResult {
  /** `replay(store, machine, streamId)` consumed whole: reading the stream, decoding, folding. */
  replayPerSec: number;
  /**
   * The floor of any replay: the same stream's rows (the columns replay reads) read with
   * better-sqlite3 directly on a second connection, as arrays (its fastest form), `data` and `meta`
   * `JSON.parse`d; nothing folded.
   */
  floorPerSec: number;
  /** `Folder.apply` over the records already read (decode + fold, no reading). */
  folderPerSec: number;
  /** XState's bare pure fold: `transition(machine, s, e)` from `initialTransition(machine, input)`, events already decoded. */
  transitionFoldPerSec: number;
  /** The number of events folded. */
  events: number;
}

function timed<T>(fn: () => T): { value: T; ms: number } {
  const start = performance.now();
  const value = fn();
  return { value, ms: performance.now() - start };
}

function same(a: AnyMachineSnapshot, b: AnyMachineSnapshot): boolean {
  return JSON.stringify(comparable(a)) === JSON.stringify(comparable(b));
}

/** Events per second of the replay floor: `streamId`'s rows read on a connection of its own and their `data` and `meta` parsed. */
function measureFloor(path: string, streamId: string, n: number): number {
  const db = new Database(path, { readonly: true });
  try {
    const select = db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? ORDER BY version`).raw(true);
    const read = () => {
      let parsed = 0;
      for (const row of select.all(streamId) as unknown[][]) {
        JSON.parse(row[4] as string);
        JSON.parse(row[5] as string);
        parsed++;
      }
      return parsed;
    };
    read(); // the connection's page cache warm, as the store's is
    const floor = timed(read);
    if (floor.value !== n) throw new Error(`the floor read ${floor.value} rows of ${streamId}, replay ${n}`);
    return perSecond(n, floor.ms);
  } finally {
    db.close();
  }
}

/**
 * Measures, once, how fast a logged stream folds three ways: {@link replay} as the CLI runs it (I/O
 * of reading the stream included), the runtime's {@link Folder} on pre-read records, and a bare
 * XState `transition()` fold of the same pre-decoded events (the baseline DESIGN.md quotes at about
 * 46k events/s). All three must end in the same snapshot (value, context, status). `replay()` and
 * the floor are each timed on their second pass over the stream (the first warms them). Also the floor
 * of any replay: reading the same rows and parsing their JSON, nothing folded (`floorPerSec`).
 *
 * @throws Error when the folds disagree (a determinism bug, not a slow run)
 * @example
 * ```ts
 * const r = await measureReplay(store, benchCounter, 'run-1');
 * console.log(r.replayPerSec / r.floorPerSec);
 * ```
 */
export async function measureReplay(store: SqliteStore, machine: AnyStateMachine, streamId: string): Promise<MeasureReplayResult> {
  const stream = store.getStream(streamId);
  if (!stream) throw new Error(`no stream ${streamId} to replay`);

  // one untimed replay of the same stream first, as the floor reads its rows once before timing: both
  // are then timed warm (the JIT's code for this fold, the pages in SQLite's cache), not on first use
  for await (const _ of replay(store, machine, streamId));
  const replayStarted = performance.now();
  let replayLast: AnyMachineSnapshot | undefined;
  let replayN = 0;
  for await (const step of replay(store, machine, streamId)) {
    replayLast = step.snapshot;
    replayN++;
  }
  const viaReplay = { value: { last: replayLast, n: replayN }, ms: performance.now() - replayStarted };

  const records = store.readStream(streamId);
  const viaFolder = timed(() => {
    const folder = new Folder(machine);
    const state = folder.initial(stream.input, stream.createdAt);
    for (const record of records) folder.apply(state, record);
    return state.snapshot;
  });

  const events: EventObject[] = records.map(decodeEvent);
  const viaTransition = timed(() => {
    let [snapshot] = initialTransition(machine, stream.input);
    for (const event of events) [snapshot] = transition(machine, snapshot, event);
    return snapshot as AnyMachineSnapshot;
  });

  const n = records.length;
  if (viaReplay.value.n !== n || !viaReplay.value.last || !same(viaReplay.value.last, viaTransition.value) || !same(viaFolder.value, viaTransition.value)) {
    throw new Error(`folds of ${streamId} disagree (${viaReplay.value.n} replayed, ${n} read)`);
  }
  return {
    replayPerSec: perSecond(n, viaReplay.ms),
    floorPerSec: measureFloor(store.path, streamId, n),
    folderPerSec: perSecond(n, viaFolder.ms),
    transitionFoldPerSec: perSecond(n, viaTransition.ms),
    events: n,
  };
}

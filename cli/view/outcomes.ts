import type { StateValue } from 'xstate';
import type { LogStore, StreamRecord } from '../../src/log/types.ts';
import { FAILED_EVENT, type FailureData } from '../../src/runtime/failure.ts';
import type { StoredSnapshot } from '../../src/runtime/journal.ts';
import { formatStateValue } from '../replay.ts';
import type { Outcome, OutcomeTone } from './types.ts';

/** How far back from a stream's end an `actorlog.failed` record is looked for (it is written right after the event that threw). */
const FAILURE_LOOKBACK = 64;

/**
 * The tone of a final state by its name: `bad` for a failure (`failed`, `error`, `rejected`,
 * `aborted`), `warn` for an end that is neither (`canceled`, `timed-out`, `expired`), else `ok`.
 */
export function toneOf(state: string): OutcomeTone {
  const last = state.split('.').at(-1) ?? state;
  if (/fail|error|reject|abort|crash/i.test(last)) return 'bad';
  if (/cancel|time.?out|expire|stop|offline|drain/i.test(last)) return 'warn';
  return 'ok';
}

/**
 * How a stream's actor ended, from what the runtime writes when it ends:
 * - `done`: the final state, from the snapshot the journal saves at the end (`failed`, `done`,
 *   `canceled`, `timed-out`…), and the version of the event that led into it;
 * - `error`: the state it threw in, from its `actorlog.failed` record (`threw in running`), the
 *   version of the event it threw on; without one (an unhandled child error, a refused actor) the
 *   state of its last snapshot (`error in …`) or just `error`;
 * - `active` and `stopped` as they are.
 * A log without the final snapshot (written before the runtime saved one) gives the status.
 */
export async function outcomeOf(store: LogStore, stream: StreamRecord): Promise<Outcome> {
  if (stream.status === 'active') return { kind: 'active', label: 'active', tone: 'neutral' };
  if (stream.status === 'stopped') return { kind: 'stopped', label: 'stopped', tone: 'warn' };
  if (stream.status === 'error') {
    const from = Math.max(1, stream.version - FAILURE_LOOKBACK + 1);
    const tail = await store.readStream(stream.streamId, { fromVersion: from, toVersion: stream.version });
    const failed = tail.filter((r) => r.type === FAILED_EVENT && r.meta.source === 'system');
    const root = failed.filter((r) => (r.data as FailureData).actor === undefined).at(-1) ?? failed.at(-1);
    if (root) {
      const data = root.data as FailureData;
      const state = data.state === null || data.state === undefined ? '?' : formatStateValue(data.state as StateValue);
      const where = data.actor === undefined ? '' : ` (child ${data.actor})`;
      return {
        kind: 'threw',
        label: `threw in ${state}`,
        tone: 'bad',
        state,
        version: data.at > 0 ? data.at : root.version,
        detail: `${data.error.message}${where}`,
      };
    }
  }
  const saved = await store.loadSnapshot(stream.streamId);
  const value = ((saved?.snapshot as StoredSnapshot | undefined)?.state as { value?: StateValue } | undefined)?.value;
  if (stream.status === 'error') {
    return value === undefined
      ? { kind: 'error', label: 'error', tone: 'bad' }
      : { kind: 'error', label: `error in ${formatStateValue(value)}`, tone: 'bad', state: formatStateValue(value), version: saved!.version };
  }
  if (value === undefined) return { kind: 'final', label: 'done', tone: 'ok' };
  const state = formatStateValue(value);
  return { kind: 'final', label: state, tone: toneOf(state), state, version: saved!.version };
}

/**
 * The outcomes of a log's streams, each worked out once per stream version and status (an ended
 * stream's never changes), so listing 10,000 streams again reads nothing.
 */
export class OutcomeIndex {
  private readonly known = new Map<string, { version: number; status: string; outcome: Outcome }>();

  constructor(private readonly store: LogStore) {}

  async of(stream: StreamRecord): Promise<Outcome> {
    const hit = this.known.get(stream.streamId);
    if (hit && hit.version === stream.version && hit.status === stream.status) return hit.outcome;
    const outcome = await outcomeOf(this.store, stream);
    this.known.set(stream.streamId, { version: stream.version, status: stream.status, outcome });
    return outcome;
  }
}

import type { EventObject } from 'xstate';
import type { EventRecord } from '../log/types.ts';

/** A delayed event (`after`, `raise(…, { delay })`) scheduled and not yet fired or cancelled. */
export interface PendingTimer {
  /** XState's send id (for `after`: the event type, e.g. `xstate.after.jobTimeout.job.active`). */
  id: string;
  event: EventObject;
  /** When it is due, ms since the Unix epoch (scheduled at + delay). */
  dueAt: number;
}

/** What recovery needs beyond the XState snapshot; persisted with snapshots. JSON-safe. */
export interface Bookkeeping {
  timers: PendingTimer[];
  /** Per invoked/spawned child id: the stream version at which it was last started. */
  spawnedAt: Record<string, number>;
  /** Per child id: the last cursor it delivered since it was last started. */
  cursors: Record<string, string>;
}

/** An executable action as XState reports it (pure `transition()` result or `@xstate.action`). */
export interface ActionLike {
  type: string;
  params?: unknown;
}

/** An empty {@link Bookkeeping}. */
export function emptyBookkeeping(): Bookkeeping {
  return { timers: [], spawnedAt: {}, cursors: {} };
}

/**
 * Keeps the delayed events and the child cursors of one actor up to date from the actions its
 * transitions produce and the events it receives. The same code runs live (fed by XState's
 * inspection) and in replay (fed by `transition()`), so recovery re-arms exactly the timers the
 * live actor had (DESIGN.md invariant 4; XState does not persist them, xstate#5331) and restarts
 * each live source from its last logged cursor (invariant 3).
 */
export class BookkeepingTracker {
  /**
   * @param selfRef the actor whose `sendTo(self, …, { delay })` counts as a timer (the fold's inert
   *   self, or the live root once the journal is attached to it)
   */
  constructor(readonly state: Bookkeeping = emptyBookkeeping(), public selfRef?: unknown) {}

  /** Applies the actions of the transition for the event at `version`, recorded at `at` (ms). */
  onActions(actions: readonly ActionLike[], version: number, at: number): void {
    for (const action of actions) {
      const params = action.params as Record<string, unknown> | undefined;
      if (!params) continue;
      if (action.type === 'xstate.raise' && typeof params.delay === 'number') {
        this.schedule(String(params.id), params.event as EventObject, at + params.delay);
      } else if (action.type === 'xstate.sendTo' && typeof params.delay === 'number' && this.selfRef && params.to === this.selfRef) {
        this.schedule(String(params.id), params.event as EventObject, at + params.delay);
      } else if (action.type === 'xstate.cancel') {
        this.state.timers = this.state.timers.filter((t) => t.id !== params.sendId);
      } else if (action.type === 'xstate.spawnChild' && typeof params.id === 'string') {
        this.state.spawnedAt[params.id] = version;
        delete this.state.cursors[params.id];
      }
    }
  }

  /** Records an event the actor received: a fired timer leaves the pending set; a cursor is kept. */
  onEvent(record: Pick<EventRecord, 'type' | 'meta'>): void {
    if (record.meta.source === 'timer') {
      const i = this.state.timers.findIndex((t) => t.event.type === record.type);
      if (i >= 0) this.state.timers.splice(i, 1);
    } else if (record.meta.actor && record.meta.cursor !== undefined) {
      this.state.cursors[record.meta.actor] = record.meta.cursor;
    }
  }

  private schedule(id: string, event: EventObject, dueAt: number): void {
    this.state.timers = this.state.timers.filter((t) => t.id !== id);
    this.state.timers.push({ id, event, dueAt });
  }

  /** A JSON-safe copy, to persist with a snapshot. */
  toJSON(): Bookkeeping {
    return JSON.parse(JSON.stringify(this.state));
  }
}

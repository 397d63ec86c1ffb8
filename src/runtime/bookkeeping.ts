import type { EventObject } from 'xstate';
import type { EventRecord } from '../log/types.ts';
import { childPath, isWithin, ROOT_PATH } from './actorTree.ts';

/**
 * A delayed event (`after`, `raise(…, { delay })`, `sendTo(…, { delay })`) scheduled and not yet
 * fired or cancelled.
 */
export interface PendingTimer {
  /**
   * The timer's key: `<owner path>#<send id>`. The send id is XState's own (for `after`: the event
   * type, e.g. `xstate.after.jobTimeout.job.active`; for `raise`/`sendTo`: the `id` option); a delay
   * without an id gets `~<version>.<n>` (the stream version whose transition scheduled it, and its
   * place among that transition's unnamed delays), the same live and in a fold.
   */
  key: string;
  /** The send id XState schedules it under (what `cancel(id)` names). */
  id: string;
  /** The path of the actor that scheduled it (`''`: the root). */
  owner: string;
  /** The path of the actor it is sent to (`''`: the root). */
  target: string;
  event: EventObject;
  /** When it is due, ms since the Unix epoch (scheduled at + delay). */
  dueAt: number;
}

/** What recovery needs beyond the XState snapshot; persisted with snapshots. JSON-safe. */
export interface Bookkeeping {
  timers: PendingTimer[];
  /** Per child path: the last cursor it delivered since it was last started. */
  cursors: Record<string, string>;
  /**
   * Per child path: the stream version of its logged `xstate.done.actor.*` / `xstate.error.actor.*`.
   * Such a child is not run again on recovery.
   */
  completed: Record<string, number>;
}

/** An executable action as XState reports it (pure `transition()` result or `@xstate.action`). */
export interface ActionLike {
  type: string;
  params?: unknown;
}

/** An empty {@link Bookkeeping}. */
export function emptyBookkeeping(): Bookkeeping {
  return { timers: [], cursors: {}, completed: {} };
}

/** Reads bookkeeping saved by this or an earlier version of the runtime. */
export function readBookkeeping(saved: unknown): Bookkeeping {
  const b = (saved ?? {}) as Partial<Bookkeeping> & { timers?: Array<Partial<PendingTimer>> };
  return {
    timers: (b.timers ?? []).map((t) => ({
      key: t.key ?? `#${t.id}`,
      id: String(t.id),
      owner: t.owner ?? ROOT_PATH,
      target: t.target ?? ROOT_PATH,
      event: t.event as EventObject,
      dueAt: t.dueAt ?? 0,
    })),
    cursors: { ...b.cursors },
    completed: { ...b.completed },
  };
}

const DONE_OR_ERROR = /^xstate\.(done|error)\.actor\.(.*)$/;

/**
 * Keeps the delayed events, the child cursors and the completed children of one actor tree up to
 * date from the actions its transitions produce and the events it receives. The same code runs live
 * (fed by XState's inspection) and in a fold (fed by the captured actions), so recovery re-arms
 * exactly the timers the live actors had (XState does not persist them, xstate#5331), restarts each
 * live source from its last logged cursor, and never re-runs a child whose completion is logged.
 * @internal
 */
export class BookkeepingTracker {
  readonly state: Bookkeeping;

  constructor(state?: Bookkeeping) {
    this.state = state ?? emptyBookkeeping();
  }

  /**
   * Applies the actions the actor at `owner` ran for the event at `version` (recorded at `at`, ms).
   * @param targetOf resolves a `sendTo` target ref to its path in the tree (`undefined`: outside it)
   */
  onActions(owner: string, actions: readonly ActionLike[], version: number, at: number, targetOf: (ref: unknown) => string | undefined): void {
    let unnamed = 0;
    for (const action of actions) {
      const params = action.params as Record<string, unknown> | undefined;
      if (!params) continue;
      if ((action.type === 'xstate.raise' || action.type === 'xstate.sendTo') && typeof params.delay === 'number') {
        const target = action.type === 'xstate.raise' ? owner : targetOf(params.to);
        if (target === undefined) continue; // a delayed send out of the tree: refused by the journal
        const id = params.id === undefined ? `~${version}.${unnamed++}` : typeof params.id === 'string' ? params.id : JSON.stringify(params.id);
        this.schedule({ key: `${owner}#${id}`, id, owner, target, event: params.event as EventObject, dueAt: at + params.delay });
      } else if (action.type === 'xstate.cancel') {
        const key = `${owner}#${String(params.sendId)}`;
        this.state.timers = this.state.timers.filter((t) => t.key !== key);
      } else if (action.type === 'xstate.stopChild') {
        const path = targetOf(params.actorRef);
        if (path !== undefined && path !== ROOT_PATH) this.forget(path);
      }
    }
  }

  /** A child started (invoked or spawned) at `path`: whatever was kept for an earlier run there is dropped. */
  onChildStarted(path: string): void {
    this.forget(path);
  }

  /** Records a logged event: a fired timer leaves the pending set, a cursor is kept, a child's completion is noted. */
  onEvent(record: Pick<EventRecord, 'type' | 'meta' | 'version'>): void {
    const meta = record.meta;
    if (meta.timer !== undefined) {
      const i = this.state.timers.findIndex((t) => t.key === meta.timer);
      if (i >= 0) this.state.timers.splice(i, 1);
      return;
    }
    if (meta.actor === undefined || meta.source === 'actor' || meta.source === 'parent') return;
    if (meta.cursor !== undefined) this.state.cursors[meta.actor] = meta.cursor;
    const done = DONE_OR_ERROR.exec(record.type);
    if (done && childPath(meta.target ?? ROOT_PATH, done[2]!) === meta.actor) this.state.completed[meta.actor] = record.version;
  }

  /**
   * The pending timer that just fired: the one of `owner` with send id `id` when XState was given one;
   * else (a delayed event without an id) the earliest due one of `owner` scheduled with this very
   * event object (XState shares one object between timers, so the owner and the due order decide).
   */
  timerFired(owner: string, id: string | undefined, event: EventObject): PendingTimer | undefined {
    if (id !== undefined) {
      const named = this.state.timers.find((t) => t.key === `${owner}#${id}`);
      if (named) return named;
    }
    let best: PendingTimer | undefined;
    for (const t of this.state.timers) if (t.owner === owner && t.event === event && (best === undefined || t.dueAt < best.dueAt)) best = t;
    return best;
  }

  private schedule(timer: PendingTimer): void {
    this.state.timers = this.state.timers.filter((t) => t.key !== timer.key);
    this.state.timers.push(timer);
  }

  /** Drops what is kept for the actor at `path` and everything below it. */
  private forget(path: string): void {
    this.state.timers = this.state.timers.filter((t) => !isWithin(t.owner, path) && !isWithin(t.target, path));
    for (const key of Object.keys(this.state.cursors)) if (isWithin(key, path)) delete this.state.cursors[key];
    for (const key of Object.keys(this.state.completed)) if (isWithin(key, path)) delete this.state.completed[key];
  }

  /** A JSON-safe copy, to persist with a snapshot. */
  toJSON(): Bookkeeping {
    return JSON.parse(JSON.stringify(this.state));
  }
}

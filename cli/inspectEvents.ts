import type { AnyMachineSnapshot, AnyStateMachine, EventObject, Snapshot } from 'xstate';
import { describeError } from '../src/errors.ts';
import type { EventRecord, EmbeddedLogStore, StreamRecord } from '../src/log/types.ts';
import { isMachineRef, refAt, ROOT_PATH, walkTree, type TreeRef } from '../src/runtime/actorTree.ts';
import { machineDefinition } from '../src/runtime/definition.ts';
import { decodeEvent } from '../src/runtime/eventCodec.ts';
import { Folder, type FoldState } from '../src/runtime/fold.ts';
import { parseCausationId } from '../src/log/causationId.ts';
import { definitionToConfig } from './machineConfig.ts';
import { REPLAY_CHUNK } from '../src/replay/foldChunks.ts';

/**
 * The `_version` of the inspection events sent: the `@statelyai/inspect` release whose WebSocket
 * protocol they follow (its `StatelyInspectionEvent` types: `@xstate.actor`, `@xstate.event`,
 * `@xstate.snapshot`, one JSON text frame each).
 */
export const INSPECT_PROTOCOL_VERSION = '0.7.2';

/** A snapshot as the inspector shows it: XState's status/output/error, with the state value and context. */
export type InspectedSnapshot = Snapshot<unknown> & { value?: unknown; context?: unknown };

/** The fields every inspection event has. `createdAt` is a time in ms since the Unix epoch, as a string. */
interface InspectionBase {
  /** The session id of the actor tree's root: the stream id. */
  rootId: string;
  /** The actor: its stream id for a stream's root, `<streamId>/<child path>` for a child (`job-7/worker`). */
  sessionId: string;
  createdAt: string;
  /** Unique per event sent: `<global position>:<kind>:<session id>` (`0` before the stream's first event). */
  id: string;
  _version: string;
}

/** An actor comes to exist: its name, definition (a JSON machine config) and parent. */
export interface InspectorActorEvent extends InspectionBase {
  type: '@xstate.actor';
  name: string;
  definition: string | undefined;
  parentId: string | undefined;
  snapshot: InspectedSnapshot;
}

/** An event delivered to an actor; `sourceId` is the sender's session id, when an actor sent it. */
export interface InspectorEventEvent extends InspectionBase {
  type: '@xstate.event';
  event: EventObject;
  sourceId: string | undefined;
}

/** An actor's snapshot after `event`. */
export interface InspectorSnapshotEvent extends InspectionBase {
  type: '@xstate.snapshot';
  event: EventObject;
  snapshot: InspectedSnapshot;
}

/** One inspection event as `@statelyai/inspect`'s inspectors send them. */
export type InspectorEvent = InspectorActorEvent | InspectorEventEvent | InspectorSnapshotEvent;

/** Options of {@link inspectionEvents}. */
export interface InspectionOptions {
  /** Only this stream (its actor and its children); default every stream of the log. */
  streamId?: string;
  /** Stop after this stream version (with `streamId`) or this global position (without). */
  to?: number;
  /**
   * The machine of each stream, for its snapshots (a replay). A stream without one gets its actor
   * registration (definition from the log) and its events, no snapshots.
   */
  machines: ReadonlyMap<string, AnyStateMachine>;
}

/** What one stream's replay keeps while its events are turned into inspection events. */
interface Tracked {
  stream: StreamRecord;
  fold?: { folder: Folder; state: FoldState };
  /** The registered children, by path: their ref (to notice a new actor at a path) and session id. */
  children: Map<string, { ref: object; id: string; sessionId: string }>;
}

const sessionOf = (streamId: string, path: string) => (path === ROOT_PATH ? streamId : `${streamId}/${path}`);

/** JSON of a value, or undefined when it cannot be (a cycle): what is sent must be JSON. */
function json<T>(value: T): T {
  try {
    return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v instanceof Error ? describeError(v) : v)) ?? 'null') as T;
  } catch {
    return undefined as T;
  }
}

function inspected(snapshot: AnyMachineSnapshot | Snapshot<unknown>): InspectedSnapshot {
  const s = snapshot as { status: Snapshot<unknown>['status']; value?: unknown; context?: unknown; output?: unknown; error?: unknown };
  return json({ status: s.status, value: s.value, context: s.context, output: s.output, error: s.error }) as InspectedSnapshot;
}

/** The sender of a logged event, as a session id (undefined for an external send). */
function sourceOf(record: EventRecord): string | undefined {
  const { meta, streamId } = record;
  const target = meta.target ?? ROOT_PATH;
  const sender = meta.causationId !== undefined ? parseCausationId(meta.causationId) : undefined;
  if (sender) return sessionOf(sender.streamId, sender.path);
  // a child path: the sender is in this stream's tree
  if (meta.actor !== undefined) return sessionOf(streamId, meta.actor);
  if (meta.source === 'parent') return streamId;
  if (meta.source === 'self' || meta.source === 'timer') return sessionOf(streamId, target);
  return undefined;
}

/**
 * Turns the log's recorded run into the inspection events the Stately Inspector reads, in the log's
 * order (global position): for each stream, an `@xstate.actor` registration of its root (name = the
 * stream id, definition = the machine config made from the definition stored in the log, else from
 * the registered machine), then per event an `@xstate.event` to the actor it was delivered to
 * (`meta.target`: a child machine) and an `@xstate.snapshot` of that actor after it (replayed with
 * the stream's machine, as `actorlog replay` does), and an `@xstate.actor` for each child that
 * appears (invoked or spawned; `parentId` its parent's session id), and a `stopped`, `done` or
 * `error` snapshot for each that goes. Senders (`sourceId`) come from `meta.actor` (a child path) and
 * `meta.causationId` (another journaled actor). Every actor of a stream has the stream id as `rootId`.
 * A stream with no event up to `to` is registered at the end when it was created by then.
 *
 * @throws ActorlogError `STREAM_NOT_FOUND` when `streamId` is not in the log
 * @example
 * ```ts
 * for (const ev of inspectionEvents(store, { streamId: 'job-7', machines: new Map([['job-7', jobMachine]]) })) socket.send(JSON.stringify(ev));
 * ```
 */
export function* inspectionEvents(store: EmbeddedLogStore, options: InspectionOptions): Generator<InspectorEvent> {
  const streams = new Map<string, Tracked>();
  const only = options.streamId;
  const track = (stream: StreamRecord): Tracked => {
    const machine = options.machines.get(stream.streamId);
    const tracked: Tracked = { stream, children: new Map() };
    if (machine) {
      const folder = new Folder(machine);
      tracked.fold = { folder, state: folder.initial(stream.input, stream.createdAt, stream.streamId) };
    }
    streams.set(stream.streamId, tracked);
    return tracked;
  };

  let last = 0;
  const records = only === undefined ? pages(store, options.to) : streamPages(store, only, options.to);
  for (const record of records) {
    let tracked = streams.get(record.streamId);
    if (!tracked) {
      const stream = store.getStream(record.streamId);
      if (!stream) continue;
      tracked = track(stream);
      yield* register(store, tracked, 0);
    }
    yield* step(tracked, record);
    last = Math.max(last, record.meta.recordedAt);
  }
  const unseen = only === undefined ? store.listStreams() : [store.getStream(only)].filter((s) => s !== undefined);
  for (const stream of unseen) {
    if (streams.has(stream.streamId) || (options.to !== undefined && stream.createdAt > last)) continue;
    yield* register(store, track(stream), 0);
  }
}

/** The records of one stream up to version `to`, read {@link REPLAY_CHUNK} versions at a time, as `replay()` reads them. */
function* streamPages(store: EmbeddedLogStore, streamId: string, to: number | undefined): Generator<EventRecord> {
  const end = to ?? Number.MAX_SAFE_INTEGER;
  for (let from = 1; from <= end; from += REPLAY_CHUNK) {
    const last = Math.min(end, from + REPLAY_CHUNK - 1);
    const page = store.readStream(streamId, { fromVersion: from, toVersion: last });
    yield* page;
    if (page.length === 0 || page[page.length - 1]!.version < last) return;
  }
}

/** The log's records up to global position `to`, read 1000 at a time (never the whole log at once). */
function* pages(store: EmbeddedLogStore, to: number | undefined): Generator<EventRecord> {
  let after = 0;
  for (;;) {
    const page = store.readAll({ after, limit: 1000 });
    for (const record of page) {
      if (to !== undefined && record.globalPosition > to) return;
      yield record;
    }
    if (page.length < 1000) return;
    after = page.at(-1)!.globalPosition;
  }
}

/** The root's registration and its initial children. */
function* register(store: EmbeddedLogStore, tracked: Tracked, position: number): Generator<InspectorEvent> {
  const { stream, fold } = tracked;
  const stored = store.loadDefinition(stream.machine.hash)?.definition ?? (fold ? machineDefinition(fold.folder.machine) : undefined);
  yield {
    type: '@xstate.actor',
    ...base(stream.streamId, stream.streamId, stream.createdAt, `${position}:actor:${stream.streamId}`),
    name: stream.streamId,
    definition: stored === undefined ? undefined : JSON.stringify(definitionToConfig(stored)),
    parentId: undefined,
    snapshot: fold ? inspected(fold.state.snapshot) : ({ status: 'active' } as InspectedSnapshot),
  };
  if (fold) yield* childrenChanged(tracked, position, stream.createdAt, undefined);
}

function base(rootId: string, sessionId: string, at: number, id: string): InspectionBase {
  return { rootId, sessionId, createdAt: String(at), id, _version: INSPECT_PROTOCOL_VERSION };
}

/** One logged event: the event, the snapshot of the actor it went to, and the children that came or went. */
function* step(tracked: Tracked, record: EventRecord): Generator<InspectorEvent> {
  const { stream, fold } = tracked;
  const rootId = stream.streamId;
  const path = record.meta.target ?? ROOT_PATH;
  const sessionId = sessionOf(rootId, path);
  const event = decodeEvent(record);
  const at = record.meta.recordedAt;
  const position = record.globalPosition;
  yield { type: '@xstate.event', ...base(rootId, sessionId, at, `${position}:event:${sessionId}`), event: json(event), sourceId: sourceOf(record) };
  if (!fold) return;
  fold.folder.applyEvent(fold.state, event, record);
  const target = path === ROOT_PATH ? fold.state.snapshot : (refAt(rootRef(fold.state), path)?.getSnapshot() as AnyMachineSnapshot | undefined);
  // as XState's own inspection does: the children that came or went during the transition, then the actor's snapshot after it
  yield* childrenChanged(tracked, position, at, event);
  if (target)
    yield { type: '@xstate.snapshot', ...base(rootId, sessionId, at, `${position}:snapshot:${sessionId}`), event: json(event), snapshot: inspected(target) };
}

/** The folded tree's root as a ref (its snapshot is the fold's), to walk its children. */
function rootRef(state: FoldState): TreeRef {
  return { id: '', getSnapshot: () => state.snapshot as never };
}

/** Registers the children now in the tree that were not, and reports the end of those that left it. */
function* childrenChanged(tracked: Tracked, position: number, at: number, event: EventObject | undefined): Generator<InspectorEvent> {
  const rootId = tracked.stream.streamId;
  const now = new Map<string, { ref: TreeRef; parent: string }>();
  // a root that ended (done, error) stops every child still in its tree, as XState does
  const ended = tracked.fold!.state.snapshot.status !== 'active';
  for (const { path, ref } of walkTree(rootRef(tracked.fold!.state))) {
    if (path !== ROOT_PATH && !ended) now.set(path, { ref, parent: path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : ROOT_PATH });
  }
  // the deepest first: a child stops before its parent
  for (const [path, known] of [...tracked.children].sort(([a], [b]) => b.split('/').length - a.split('/').length)) {
    if (now.get(path)?.ref === known.ref) continue;
    tracked.children.delete(path);
    // a child machine's final (or failed) snapshot was already sent with the event that ended it
    if (isMachineRef(known.ref) && (known.ref as TreeRef).getSnapshot().status !== 'active') continue;
    const id = known.id;
    const status = event?.type.startsWith(`xstate.done.actor.${id}`) ? 'done' : event?.type.startsWith(`xstate.error.actor.${id}`) ? 'error' : 'stopped';
    const snapshot = {
      status,
      output: status === 'done' ? json((event as { output?: unknown }).output) : undefined,
      error: status === 'error' ? json((event as { error?: unknown }).error) : undefined,
    } as InspectedSnapshot;
    yield {
      type: '@xstate.snapshot',
      ...base(rootId, known.sessionId, at, `${position}:snapshot:${known.sessionId}`),
      event: event && status !== 'stopped' ? json(event) : { type: 'xstate.stop' },
      snapshot,
    };
  }
  for (const [path, { ref, parent }] of now) {
    if (tracked.children.has(path)) continue;
    const sessionId = sessionOf(rootId, path);
    tracked.children.set(path, { ref, id: ref.id, sessionId });
    const logic = (ref as unknown as { logic?: AnyStateMachine }).logic;
    const definition = isMachineRef(ref) && logic ? definitionToConfig(machineDefinition(logic)) : { id: ref.id };
    let snapshot: InspectedSnapshot;
    try {
      snapshot = inspected(ref.getSnapshot() as Snapshot<unknown>);
    } catch {
      snapshot = { status: 'active' } as InspectedSnapshot;
    }
    yield {
      type: '@xstate.actor',
      ...base(rootId, sessionId, at, `${position}:actor:${sessionId}`),
      name: ref.id,
      definition: JSON.stringify(definition),
      parentId: sessionOf(rootId, parent),
      snapshot,
    };
  }
}

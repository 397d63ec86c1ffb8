import type { AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import { ActorlogError } from '../../src/errors.ts';
import type { LogStore, StreamRecord } from '../../src/log/types.ts';
import { refAt } from '../../src/runtime/actorTree.ts';
import { machineDefinition } from '../../src/runtime/definition.ts';
import { machineHash } from '../../src/runtime/machineHash.ts';
import { exportLog, type ExportSummary } from '../exportLog.ts';
import type { MachineRegistry } from '../registry.ts';
import { formatStateValue } from '../replay.ts';
import { EventKinds, type KindFilter } from './eventKinds.ts';
import { rootRef, StreamFolds, treeSnapshots } from './folds.ts';
import { clamp, MAX_WINDOW } from './limits.ts';
import { OutcomeIndex } from './outcomes.ts';
import { SequenceBuilder } from './sequence.ts';
import { PositionIndex, streamsAt } from './service.ts';
import { childViews, eventRow, logicOf, snapshotView } from './snapshotView.ts';
import type { StreamReads } from './streamReads.ts';
import type { AtResult, DefinitionView, EventRow, EventsPage, KindsView, MatchesPage, SequenceView, ServiceItem, ServicePage, StreamInfo } from './types.ts';

export { MAX_WINDOW } from './limits.ts';
export type { ChildView, EventRow, SnapshotView } from './types.ts';

/** Most events one sequence diagram covers. */
export const MAX_SEQUENCE = 200;

/**
 * The viewer's reads of one stream and of the service, each bounded: event windows of at most
 * {@link MAX_WINDOW} rows, snapshots of any actor of a stream's tree folded from the nearest start
 * point ({@link StreamFolds}), the timeline's filters ({@link EventKinds}), the sequence of messages
 * in a window ({@link SequenceBuilder}), the service at a position ({@link PositionIndex}). The work
 * that folds runs here; `actorlog view` runs it in a worker thread (cli/view/foldWorker.ts), so a
 * long fold never holds up the server. Streams whose machine cannot be resolved still show their
 * events, without states.
 */
export class ViewApi implements StreamReads {
  private readonly folds = new Map<string, Promise<StreamFolds | ActorlogError>>();
  private readonly kindsOf = new Map<string, EventKinds>();
  private readonly outcomes: OutcomeIndex;
  private readonly positions: PositionIndex;

  constructor(
    readonly store: LogStore,
    private readonly registry: MachineRegistry,
    private readonly options: { ignoreHash?: boolean } = {},
  ) {
    this.outcomes = new OutcomeIndex(store);
    this.positions = new PositionIndex(store);
  }

  private async stream(streamId: string): Promise<StreamRecord> {
    const stream = await this.store.getStream(streamId);
    if (!stream) throw new ActorlogError('STREAM_NOT_FOUND', `no stream "${streamId}" in the log`, { details: { streamId } });
    return stream;
  }

  /** The folds of a stream, or the error that keeps it from being folded (kept: a stream's machine does not change). */
  private async foldsOf(stream: StreamRecord): Promise<StreamFolds | ActorlogError> {
    let entry = this.folds.get(stream.streamId);
    if (!entry) {
      entry = this.registry.resolve(stream, { ignoreHash: this.options.ignoreHash }).then(
        ({ machine }: { machine: AnyStateMachine }) => new StreamFolds(this.store, machine, stream),
        (err: unknown) => (err instanceof ActorlogError ? err : new ActorlogError('MACHINE_NOT_REGISTERED', String(err), { cause: err })),
      );
      this.folds.set(stream.streamId, entry);
      if (this.folds.size > 256) this.folds.delete(this.folds.keys().next().value!);
    }
    return entry;
  }

  /** `GET /api/stream/:id`: the stream record with its outcome, and its machine definition (from the log, else from the registered machine). */
  async streamInfo(streamId: string): Promise<StreamInfo> {
    const stream = await this.stream(streamId);
    const saved = await this.store.loadDefinition(stream.machine.hash);
    const folds = await this.foldsOf(stream);
    const definition = saved?.definition ?? (folds instanceof StreamFolds ? machineDefinition(folds.machine) : undefined);
    return {
      stream: { ...stream, outcome: await this.outcomes.of(stream) },
      definition: definition ?? null,
      definitionSource: saved ? 'log' : definition ? 'registry' : null,
      replay: folds instanceof StreamFolds ? { ok: true } : { ok: false, code: folds.code, message: folds.message },
    };
  }

  /**
   * `GET /api/stream/:id/events?from=V&limit=N`: the events with `from <= version < from + limit`,
   * each with the state after it. With `type` and/or `source`: the events of that type and source
   * instead, the `offset`-th match on (`near=V`: from the first match at or after version V).
   */
  async events(streamId: string, query: URLSearchParams | string): Promise<EventsPage | MatchesPage> {
    const params = new URLSearchParams(query);
    const stream = await this.stream(streamId);
    const limit = clamp(params.get('limit'), 1, MAX_WINDOW, 100);
    const filter: KindFilter = { type: params.get('type') || undefined, source: params.get('source') || undefined };
    const folds = await this.foldsOf(stream);
    if (filter.type !== undefined || filter.source !== undefined) {
      const kinds = await this.kinds(streamId);
      const versions = this.kindsOf.get(streamId)!.matching(filter);
      const near = params.get('near');
      const first = near !== null && near !== '' ? Math.max(0, lowerBound(versions, Number(near))) : 0;
      const offset = clamp(
        params.get('offset'),
        0,
        Math.max(0, versions.length - 1),
        near !== null && near !== '' ? Math.max(0, Math.min(first, versions.length - limit)) : 0,
      );
      const rows: EventRow[] = [];
      for (const v of versions.slice(offset, offset + limit)) rows.push(...(await this.rows(stream, folds, v, v)));
      return { streamId: kinds.streamId, matches: versions.length, offset, events: rows };
    }
    const from = clamp(params.get('from'), 1, Number.MAX_SAFE_INTEGER, 1);
    const to = Math.min(stream.version, from + limit - 1);
    return { streamId, version: stream.version, status: stream.status, from, events: to >= from ? await this.rows(stream, folds, from, to) : [] };
  }

  private async rows(stream: StreamRecord, folds: StreamFolds | ActorlogError, from: number, to: number): Promise<EventRow[]> {
    const rows: EventRow[] = [];
    if (folds instanceof StreamFolds) await folds.walk(from, to, (step) => rows.push(eventRow(step.record, step.after)));
    else for (const record of await this.store.readStream(stream.streamId, { fromVersion: from, toVersion: to })) rows.push(eventRow(record));
    return rows;
  }

  /** `GET /api/stream/:id/kinds`: how often each event type and source occurs in the stream. */
  async kinds(streamId: string): Promise<KindsView> {
    const stream = await this.stream(streamId);
    let kinds = this.kindsOf.get(streamId);
    if (!kinds) this.kindsOf.set(streamId, (kinds = new EventKinds(this.store, streamId)));
    if (this.kindsOf.size > 64) this.kindsOf.delete(this.kindsOf.keys().next().value!);
    await kinds.extend(stream.version);
    return { streamId, version: stream.version, ...kinds.counts() };
  }

  /**
   * `GET /api/stream/:id/at/:version?actor=path`: the event at `version` (data included), the
   * snapshots after and before it of the actor at `path` in the stream's tree (`''`: the root; a
   * child machine's snapshot and context are its own), and the transitions the event took there.
   */
  async at(streamId: string, version: number, actor = ''): Promise<AtResult> {
    const stream = await this.stream(streamId);
    const v = Math.min(Math.max(0, version), stream.version);
    const folds = await this.foldsOf(stream);
    const base = { streamId, version: v, actor };
    if (!(folds instanceof StreamFolds)) {
      const [record] = v === 0 ? [] : await this.store.readStream(streamId, { fromVersion: v, toVersion: v });
      return {
        ...base,
        delivered: false,
        tree: [],
        event: record ?? null,
        snapshot: null,
        previous: null,
        transitions: [],
        error: { code: folds.code, message: folds.message },
      };
    }
    if (v === 0) {
      const initial = folds.initial();
      return { ...base, delivered: false, tree: childViews(initial), event: null, snapshot: snapshotView(initial, actor), previous: null, transitions: [] };
    }
    let result: AtResult | undefined;
    await folds.walk(v, v, ({ record, before, after, beforeTree, transitions }) => {
      const delivered = (record.meta.target ?? '') === actor;
      const tree = treeSnapshots(after);
      result = {
        ...base,
        delivered,
        tree: childViews(after, tree),
        event: record,
        snapshot: snapshotView(after, actor, tree),
        previous: snapshotView(before, actor, beforeTree),
        transitions: delivered ? transitions : [],
      };
    });
    return result!;
  }

  /** `GET /api/stream/:id/definition?actor=path&v=N`: the definition of the child machine at `path` as it ran at version N. */
  async definition(streamId: string, actor: string, version: number): Promise<DefinitionView> {
    const stream = await this.stream(streamId);
    const folds = await this.foldsOf(stream);
    if (!(folds instanceof StreamFolds)) throw folds;
    const snapshot: AnyMachineSnapshot = await folds.at(Math.min(Math.max(0, version), stream.version));
    const logic = logicOf(refAt(rootRef(snapshot), actor));
    if (!logic)
      throw new ActorlogError('INVALID_OPTIONS', `no child machine at "${actor}" in ${streamId} at version ${version}`, {
        details: { streamId, actor, version },
      });
    return { actor, hash: machineHash(logic), definition: machineDefinition(logic) };
  }

  /** `GET /api/stream/:id/sequence?from=V&to=W`: the messages between actors in versions V..W (at most {@link MAX_SEQUENCE}). */
  async sequence(streamId: string, query: URLSearchParams | string): Promise<SequenceView> {
    const params = new URLSearchParams(query);
    const stream = await this.stream(streamId);
    const to = clamp(params.get('to'), 1, stream.version, stream.version);
    const from = clamp(params.get('from'), Math.max(1, to - MAX_SEQUENCE + 1), to, Math.max(1, to - 59));
    const streams = new Set((await this.store.listStreams()).map((s) => s.streamId));
    const builder = new SequenceBuilder(this.store, streamId, (id) => streams.has(id));
    const folds = await this.foldsOf(stream);
    const steps: Array<{ record: Parameters<SequenceBuilder['add']>[0]; sent: Parameters<SequenceBuilder['add']>[1] }> = [];
    if (folds instanceof StreamFolds) await folds.walk(from, to, ({ record, sent }) => steps.push({ record, sent }));
    else for (const record of await this.store.readStream(streamId, { fromVersion: from, toVersion: to })) steps.push({ record, sent: [] });
    for (const step of steps) await builder.add(step.record, step.sent);
    return builder.view(from, to);
  }

  /**
   * `GET /api/service?position=N&offset&limit`: every stream that existed at global position N (see
   * {@link streamsAt}), with its last event at or before N (null: none yet, the initial state) and
   * its state after it; a page of at most {@link MAX_WINDOW} streams.
   */
  async service(query: URLSearchParams | string): Promise<ServicePage> {
    const params = new URLSearchParams(query);
    const head = await this.store.headPosition();
    const position = clamp(params.get('position'), 0, head, head);
    const offset = clamp(params.get('offset'), 0, Number.MAX_SAFE_INTEGER, 0);
    const limit = clamp(params.get('limit'), 1, MAX_WINDOW, 100);
    const existing = await streamsAt(this.store, this.positions, await this.store.listStreams(), position, head);
    const items: ServiceItem[] = [];
    for (const { stream, version } of existing.slice(offset, offset + limit)) {
      const [record] = version > 0 ? await this.store.readStream(stream.streamId, { fromVersion: version, toVersion: version }) : [];
      const folds = await this.foldsOf(stream);
      const after = folds instanceof StreamFolds ? await folds.at(version) : undefined;
      items.push({
        streamId: stream.streamId,
        machine: stream.machine.name,
        version,
        event: record
          ? {
              type: record.type,
              version: record.version,
              globalPosition: record.globalPosition,
              source: record.meta.source,
              recordedAt: record.meta.recordedAt,
            }
          : null,
        state: after ? formatStateValue(after.value) : null,
        status: after ? after.status : null,
      });
    }
    return { position, head, total: existing.length, offset, items };
  }

  /** Writes the streams up to global position `to` as a log file of their own at `path` (the page's download). */
  exportTo(path: string, streamIds: string[], to?: number): Promise<ExportSummary> {
    return exportLog(this.store, streamIds, path, { to });
  }

  /** Nothing to release: the store is the caller's. */
  async close(): Promise<void> {}
}

/** The index of the first element of a sorted list that is >= `value` (the list's length when none). */
function lowerBound(list: number[], value: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

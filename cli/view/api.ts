import type { AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import { ActorlogError } from '../../src/errors.ts';
import type { EventRecord, EmbeddedLogStore, StreamRecord, StreamStatus } from '../../src/log/types.ts';
import { isMachineRef } from '../../src/runtime/actorTree.ts';
import type { MachineRegistry } from '../registry.ts';
import { formatStateValue } from '../replay.ts';
import { STREAM_STATUSES, isStreamStatus } from '../streamStatuses.ts';
import { StreamFolds } from './folds.ts';
import type { AtResult, ChildView, EventRow, EventsPage, InfoView, ServiceItem, ServicePage, SnapshotView, StreamInfo, StreamsPage } from './types.ts';

export type { ChildView, EventRow, SnapshotView } from './types.ts';

/** Most rows one windowed read returns (events, streams, service). */
export const MAX_WINDOW = 500;

const json = (value: unknown): unknown => (value === undefined ? undefined : JSON.parse(JSON.stringify(value, (_k, v) => (v instanceof Error ? { name: v.name, message: v.message } : v))));

function children(snapshot: AnyMachineSnapshot, prefix = '', out: ChildView[] = []): ChildView[] {
  for (const [id, ref] of Object.entries((snapshot.children ?? {}) as Record<string, { src?: unknown; getSnapshot?: () => AnyMachineSnapshot }>)) {
    const path = prefix ? `${prefix}/${id}` : id;
    const machine = isMachineRef(ref);
    let child: AnyMachineSnapshot | undefined;
    try {
      child = ref?.getSnapshot?.();
    } catch {
      child = undefined;
    }
    out.push({ path, src: typeof ref?.src === 'string' ? ref.src : undefined, machine, status: child?.status, value: machine && child ? formatStateValue(child.value) : undefined });
    if (machine && child) children(child, path, out);
  }
  return out;
}

/** The JSON view of a folded snapshot. */
export function snapshotView(snapshot: AnyMachineSnapshot): SnapshotView {
  return {
    value: json(snapshot.value),
    state: formatStateValue(snapshot.value),
    status: snapshot.status,
    context: json(snapshot.context) ?? null,
    ...(snapshot.error !== undefined ? { error: json(snapshot.error) } : {}),
    children: children(snapshot),
  };
}

/** An event as a timeline row; with `after`, the state after it. */
export function eventRow(record: EventRecord, after?: AnyMachineSnapshot): EventRow {
  const { meta } = record;
  return {
    version: record.version, globalPosition: record.globalPosition, type: record.type, source: meta.source, cursor: meta.cursor,
    actor: meta.actor, target: meta.target, causationId: meta.causationId, recordedAt: meta.recordedAt,
    ...(after ? { state: formatStateValue(after.value), status: after.status } : {}),
  };
}

function clamp(value: string | null, min: number, max: number, fallback: number): number {
  const n = value === null || value === '' ? NaN : Number(value);
  return Number.isInteger(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

/**
 * The viewer's reads of one log, each bounded: stream lists and event windows of at most
 * {@link MAX_WINDOW} rows, snapshots folded from the nearest checkpoint ({@link StreamFolds}).
 * Streams whose machine cannot be resolved still list and show their events, without states.
 */
export class ViewApi {
  private readonly folds = new Map<string, Promise<StreamFolds | ActorlogError>>();

  constructor(readonly store: EmbeddedLogStore, private readonly registry: MachineRegistry, private readonly options: { ignoreHash?: boolean } = {}) {}

  private stream(streamId: string): StreamRecord {
    const stream = this.store.getStream(streamId);
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

  /** `GET /api/info`. */
  info(db: string): InfoView {
    return { db, head: this.store.headPosition(), streams: this.store.listStreams().length, window: MAX_WINDOW };
  }

  /** `GET /api/streams?status=a,b&machine=m&q=text&offset&limit`: a page of streams, with counts by status over the machine and search filters. */
  streams(params: URLSearchParams): StreamsPage {
    const all = this.store.listStreams();
    const machine = params.get('machine') || undefined;
    const q = (params.get('q') ?? '').toLowerCase();
    const statuses = (params.get('status') ?? '').split(',').filter(isStreamStatus);
    const matching = all.filter((s) => (!machine || s.machine.name === machine) && (!q || s.streamId.toLowerCase().includes(q)));
    const counts = Object.fromEntries(STREAM_STATUSES.map((s) => [s, 0])) as Record<StreamStatus, number>;
    for (const s of matching) counts[s.status]++;
    const shown = statuses.length ? matching.filter((s) => statuses.includes(s.status)) : matching;
    const offset = clamp(params.get('offset'), 0, Number.MAX_SAFE_INTEGER, 0);
    const limit = clamp(params.get('limit'), 1, MAX_WINDOW, 200);
    return {
      all: all.length,
      total: shown.length,
      counts,
      machines: [...new Set(all.map((s) => s.machine.name))].sort(),
      offset,
      items: shown.slice(offset, offset + limit).map(({ input: _input, ...s }) => s),
    };
  }

  /** `GET /api/stream/:id`: the stream record and its machine definition (from the log, else from the registered machine). */
  async streamInfo(streamId: string): Promise<StreamInfo> {
    const stream = this.stream(streamId);
    const saved = this.store.loadDefinition(stream.machine.hash);
    const folds = await this.foldsOf(stream);
    const definition = saved?.definition ?? (folds instanceof StreamFolds ? json(folds.machine.toJSON()) : undefined);
    return {
      stream,
      definition: definition ?? null,
      definitionSource: saved ? 'log' : definition ? 'registry' : null,
      replay: folds instanceof StreamFolds ? { ok: true } : { ok: false, code: folds.code, message: folds.message },
    };
  }

  /** `GET /api/stream/:id/events?from=V&limit=N`: the events with `from <= version < from + limit`, each with the state after it. */
  async events(streamId: string, params: URLSearchParams): Promise<EventsPage> {
    const stream = this.stream(streamId);
    const from = clamp(params.get('from'), 1, Number.MAX_SAFE_INTEGER, 1);
    const limit = clamp(params.get('limit'), 1, MAX_WINDOW, 100);
    const to = Math.min(stream.version, from + limit - 1);
    const folds = await this.foldsOf(stream);
    const rows: EventRow[] = [];
    if (to >= from) {
      if (folds instanceof StreamFolds) folds.walk(from, to, (step) => rows.push(eventRow(step.record, step.after)));
      else for (const record of this.store.readStream(streamId, { fromVersion: from, toVersion: to })) rows.push(eventRow(record));
    }
    return { streamId, version: stream.version, status: stream.status, from, events: rows };
  }

  /** `GET /api/stream/:id/at/:version`: the event at `version` (data included), the snapshots after and before it, the transitions it took. */
  async at(streamId: string, version: number): Promise<AtResult> {
    const stream = this.stream(streamId);
    const v = Math.min(Math.max(0, version), stream.version);
    const folds = await this.foldsOf(stream);
    if (v === 0) {
      return { streamId, version: 0, event: null, snapshot: folds instanceof StreamFolds ? snapshotView(folds.initial()) : null, previous: null, transitions: [] };
    }
    if (!(folds instanceof StreamFolds)) {
      const [record] = this.store.readStream(streamId, { fromVersion: v, toVersion: v });
      return { streamId, version: v, event: record ?? null, snapshot: null, previous: null, transitions: [], error: { code: folds.code, message: folds.message } };
    }
    let result: AtResult | undefined;
    folds.walk(v, v, ({ record, before, after, transitions }) => {
      result = { streamId, version: v, event: record, snapshot: snapshotView(after), previous: snapshotView(before), transitions };
    });
    return result!;
  }

  /**
   * `GET /api/service?position=N&offset&limit`: every stream that existed at global position N (it
   * had an event at or before N, or was created before the event at N was recorded; at the head,
   * every stream), with its last
   * event at or before N (null: none yet, the initial state) and its state after it. Each stream's last version at N is
   * found by a binary search over its versions (positions increase with versions), its state by a
   * bounded fold; the page of streams is at most {@link MAX_WINDOW}.
   */
  async service(params: URLSearchParams): Promise<ServicePage> {
    const head = this.store.headPosition();
    const position = clamp(params.get('position'), 0, head, head);
    const offset = clamp(params.get('offset'), 0, Number.MAX_SAFE_INTEGER, 0);
    const limit = clamp(params.get('limit'), 1, MAX_WINDOW, 100);
    // a stream with no event yet at N existed if it was created before the event at N was recorded
    // (at the head: every stream, also those created after the last event)
    const at = position >= head ? Infinity : position > 0 ? this.store.readAll({ after: position - 1, limit: 1 })[0]?.meta.recordedAt ?? Infinity : -Infinity;
    const existing: Array<{ stream: StreamRecord; record?: EventRecord }> = [];
    for (const stream of this.store.listStreams()) {
      const record = this.lastAt(stream, position);
      if (record || stream.createdAt <= at) existing.push({ stream, record });
    }
    const items: ServiceItem[] = [];
    for (const { stream, record } of existing.slice(offset, offset + limit)) {
      const folds = await this.foldsOf(stream);
      const version = record?.version ?? 0;
      const after = folds instanceof StreamFolds ? folds.at(version) : undefined;
      items.push({
        streamId: stream.streamId, machine: stream.machine.name, version,
        event: record ? { type: record.type, version: record.version, globalPosition: record.globalPosition, source: record.meta.source, recordedAt: record.meta.recordedAt } : null,
        state: after ? formatStateValue(after.value) : null, status: after ? after.status : null,
      });
    }
    return { position, head, total: existing.length, offset, items };
  }

  /** The stream's last event at or before global position `position`, by binary search over versions. */
  private lastAt(stream: StreamRecord, position: number): EventRecord | undefined {
    const read = (v: number) => this.store.readStream(stream.streamId, { fromVersion: v, toVersion: v })[0];
    let lo = 1;
    let hi = stream.version;
    let found: EventRecord | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const record = read(mid);
      if (!record) break;
      if (record.globalPosition <= position) (found = record), (lo = mid + 1);
      else hi = mid - 1;
    }
    return found;
  }
}

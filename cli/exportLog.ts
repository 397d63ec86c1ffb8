import { existsSync } from 'node:fs';
import { ActorlogError } from '../src/errors.ts';
import type { AppendRequest, EventRecord, LogStore, StreamRecord } from '../src/log/types.ts';
import { openSqliteStore } from '../stores/sqlite/index.ts';

/** Events read per query while exporting. */
const READ_CHUNK = 2_000;
/** Events per write while exporting. */
const WRITE_CHUNK = 2_000;

/** What {@link exportLog} wrote. */
export interface ExportSummary {
  streams: number;
  events: number;
  snapshots: number;
  definitions: number;
  /** The last global position of the source log that was exported. */
  to: number;
}

/** One stream's events in version order, read a chunk at a time, up to global position `to`. */
class Cursor {
  private buffer: EventRecord[] = [];
  private next = 1;
  private done = false;

  constructor(
    private readonly store: LogStore,
    readonly stream: StreamRecord,
    private readonly to: number,
  ) {}

  async peek(): Promise<EventRecord | undefined> {
    if (this.buffer.length === 0 && !this.done) {
      this.buffer = (await this.store.readStream(this.stream.streamId, { fromVersion: this.next, toVersion: this.next + READ_CHUNK - 1 })).filter(
        (r) => r.globalPosition <= this.to,
      );
      if (this.buffer.length < READ_CHUNK) this.done = true;
      this.next += READ_CHUNK;
    }
    return this.buffer[0];
  }

  take(): EventRecord {
    return this.buffer.shift()!;
  }
}

/**
 * Writes a self-contained log file (SQLite, what `actorlog view`, `replay` and `diff` open) holding
 * the streams `streamIds` of `source` up to global position `to` (default: the head): each stream
 * as spawned (machine, input, creation time), its events in the source's order (the global
 * positions renumbered from 1; stream versions, data and meta, causation ids included, as logged),
 * the snapshots the source kept up to its last exported version, and the machine definitions, so
 * the file draws its charts alone. The events of child machines are in their stream; a message
 * between two exported streams is in both (sent, and received with its causation id). Nothing is
 * added: what the log kept out (redacted secrets) stays out. A stream cut by `to` is `active`; one
 * exported whole keeps its status.
 *
 * @throws ActorlogError `INVALID_OPTIONS` (`path` exists, no stream given), `STREAM_NOT_FOUND`, `STORE_UNAVAILABLE`
 * @example
 * ```ts
 * await exportLog(store, ['job-7'], './bug.actorlog', { to: 1200 });
 * ```
 */
export async function exportLog(source: LogStore, streamIds: string[], path: string, options: { to?: number } = {}): Promise<ExportSummary> {
  if (streamIds.length === 0) throw new ActorlogError('INVALID_OPTIONS', 'export needs at least one stream id');
  if (existsSync(path)) throw new ActorlogError('INVALID_OPTIONS', `${path} exists: export writes a new file`, { details: { path } });
  const streams: StreamRecord[] = [];
  for (const id of new Set(streamIds)) {
    const stream = await source.getStream(id);
    if (!stream) throw new ActorlogError('STREAM_NOT_FOUND', `no stream "${id}" in the log`, { details: { streamId: id } });
    streams.push(stream);
  }
  streams.sort((a, b) => a.createdAt - b.createdAt);
  const to = Math.min(options.to ?? Infinity, await source.headPosition());
  // the contract's type: its calls are awaited whatever store writes the file
  const target: LogStore = openSqliteStore(path, { keepSnapshots: Infinity });
  const summary: ExportSummary = { streams: streams.length, events: 0, snapshots: 0, definitions: 0, to };
  try {
    for (const hash of new Set(streams.map((s) => s.machine.hash))) {
      const definition = await source.loadDefinition(hash);
      if (!definition) continue;
      await target.saveDefinition(definition);
      summary.definitions++;
    }
    for (const s of streams) await target.createStream({ streamId: s.streamId, machine: s.machine, input: s.input, createdAt: s.createdAt });
    // every stream's events merged in the source's global order
    const cursors = streams.map((s) => new Cursor(source, s, to));
    const versions = new Map(streams.map((s) => [s.streamId, 0]));
    let batch: AppendRequest[] = [];
    let pending = 0;
    const flush = async () => {
      if (batch.length) await target.appendBatch(batch);
      batch = [];
      pending = 0;
    };
    for (;;) {
      let first: Cursor | undefined;
      let firstAt = Infinity;
      for (const c of cursors) {
        const r = await c.peek();
        if (r && r.globalPosition < firstAt) {
          first = c;
          firstAt = r.globalPosition;
        }
      }
      if (!first) break;
      const r = first.take();
      const last = batch.at(-1);
      const event = { type: r.type, data: r.data, meta: r.meta };
      if (last && last.streamId === r.streamId) last.events.push(event);
      else batch.push({ streamId: r.streamId, expectedVersion: r.version - 1, events: [event] });
      versions.set(r.streamId, r.version);
      summary.events++;
      if (++pending >= WRITE_CHUNK) await flush();
    }
    await flush();
    for (const s of streams) {
      const exported = versions.get(s.streamId)!;
      for (const snapshot of await source.listSnapshots(s.streamId)) {
        if (snapshot.version > exported) continue;
        await target.saveSnapshot(snapshot);
        summary.snapshots++;
      }
      if (exported === s.version && s.status !== 'active') await target.setStreamStatus(s.streamId, s.status, s.updatedAt);
    }
  } finally {
    await target.close();
  }
  return summary;
}

import type { EventRecord, LogStore } from '../../src/log/types.ts';
import type { ImpliedMessage } from '../../src/runtime/fold.ts';
import { parseCausationId } from '../../src/log/causationId.ts';
import type { SequenceArrow, SequenceLane, SequenceView } from './types.ts';

/** Events of the receiver read to find a sent message (it is logged soon after its sender's event). */
const RECEIVER_LOOKAHEAD = 500;

const parentOf = (path: string) => (path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '');

/**
 * Draws the messages between actors in a window of one stream as lanes and arrows: each logged
 * event goes from where it came from to the actor it was delivered to (the root or a child
 * machine): from the application (`external`), a timer, a source (`sse`, `poll`… with the child
 * that read it), the parent, a child, the actor itself, another journaled actor (by its causation
 * id) or the runtime (`actorlog.failed`); each message the window's transitions sent to another
 * journaled actor is drawn at the sender too, linked to the event the receiver logged for it.
 */
export class SequenceBuilder {
  private readonly lanes = new Map<string, SequenceLane>();
  private readonly arrows: SequenceArrow[] = [];

  constructor(
    private readonly store: LogStore,
    private readonly streamId: string,
    private readonly knownStream: (id: string) => boolean,
  ) {
    this.actor('');
  }

  private actor(path: string): string {
    const id = `actor:${path}`;
    if (!this.lanes.has(id)) this.lanes.set(id, { id, kind: 'actor', label: path === '' ? this.streamId : path, ref: path });
    return id;
  }

  private source(kind: string, label: string): string {
    const id = `source:${kind}`;
    if (!this.lanes.has(id)) this.lanes.set(id, { id, kind: 'source', label });
    return id;
  }

  private stream(streamId: string): string {
    const id = `stream:${streamId}`;
    if (!this.lanes.has(id)) this.lanes.set(id, { id, kind: 'stream', label: streamId, ref: streamId });
    return id;
  }

  /** Where an event came from, as a lane. */
  private fromLane(record: EventRecord): string {
    const { meta } = record;
    const target = meta.target ?? '';
    switch (meta.source) {
      case 'external':
        return this.source('external', 'application');
      case 'timer':
        return this.source('timer', 'timers');
      case 'system':
        return this.source('system', 'runtime');
      case 'self':
        return this.actor(target);
      case 'parent':
        return this.actor(parentOf(target));
      case 'child':
        return meta.actor !== undefined ? this.actor(meta.actor) : this.source('child', 'child');
      case 'actor': {
        const sender = meta.causationId ? parseCausationId(meta.causationId, this.knownStream) : undefined;
        if (sender && sender.streamId !== this.streamId) return this.stream(sender.streamId);
        return meta.actor !== undefined ? this.actor(sender?.path ?? meta.actor) : this.source('actor', 'actor');
      }
      default:
        return this.source(`${meta.source}:${meta.actor ?? ''}`, meta.actor ? `${meta.source} (${meta.actor})` : meta.source);
    }
  }

  /** Adds one logged event, and the messages its transitions sent to other journaled actors. */
  async add(record: EventRecord, sent: ImpliedMessage[]): Promise<void> {
    const to = this.actor(record.meta.target ?? '');
    const from = this.fromLane(record);
    this.arrows.push({
      from,
      to,
      label: record.type,
      link: { streamId: this.streamId, version: record.version },
      version: record.version,
      globalPosition: record.globalPosition,
      kind: 'event',
    });
    for (const message of sent) {
      const sender = parseCausationId(message.causationId, this.knownStream);
      const logged = (await this.store.readAll({ after: message.after, streamId: message.to, limit: RECEIVER_LOOKAHEAD })).find(
        (r) => r.meta.causationId === message.causationId,
      );
      this.arrows.push({
        from: this.actor(sender?.path ?? ''),
        to: this.stream(message.to),
        label: message.event.type,
        link: { streamId: message.to, version: logged?.version ?? 0 },
        version: record.version,
        globalPosition: record.globalPosition,
        kind: 'sent',
      });
    }
  }

  /** The lanes (sources left, then the root and its children by path, then other journaled actors) and the arrows in log order. */
  view(from: number, to: number): SequenceView {
    const order = { source: 0, actor: 1, stream: 2 } as const;
    const lanes = [...this.lanes.values()].sort((a, b) => order[a.kind] - order[b.kind] || (a.kind === 'actor' ? (a.ref ?? '').localeCompare(b.ref ?? '') : 0));
    return { streamId: this.streamId, from, to, lanes, arrows: this.arrows };
  }
}

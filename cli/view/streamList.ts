import type { LogStore, StreamRecord, StreamStatus } from '../../src/log/types.ts';
import { isStreamStatus, STREAM_STATUSES } from '../../src/log/streamStatus.ts';
import { clamp, MAX_WINDOW } from './limits.ts';
import { OutcomeIndex } from './outcomes.ts';
import type { InfoView, OutcomeCount, StreamItem, StreamsPage } from './types.ts';

const TONE_ORDER = { bad: 0, warn: 1, ok: 2, neutral: 3 } as const;

/**
 * The viewer's list of streams: every stream with how it ended (its {@link OutcomeIndex} outcome),
 * filtered by machine, id, status and outcome, counted by status and by outcome, a page at a time.
 * Cheap reads only (the stream list, and once per ended stream its last snapshot or failure): it
 * answers on the server's own thread.
 */
export class StreamListing {
  private readonly outcomes: OutcomeIndex;

  constructor(readonly store: LogStore) {
    this.outcomes = new OutcomeIndex(store);
  }

  /** `GET /api/info`. */
  async info(db: string): Promise<InfoView> {
    return { db, head: await this.store.headPosition(), streams: (await this.store.listStreams()).length, window: MAX_WINDOW };
  }

  /** A stream as the list shows it: without its input, with its outcome. */
  async item(stream: StreamRecord): Promise<StreamItem> {
    const { input: _input, ...rest } = stream;
    return { ...rest, outcome: await this.outcomes.of(stream) };
  }

  /**
   * `GET /api/streams?status=a,b&outcome=x,y&machine=m&q=text&offset&limit`: a page of streams, with
   * counts by status and by outcome over the machine and search filters.
   */
  async streams(params: URLSearchParams): Promise<StreamsPage> {
    const all = await this.store.listStreams();
    const machine = params.get('machine') || undefined;
    const q = (params.get('q') ?? '').toLowerCase();
    const statuses = (params.get('status') ?? '').split(',').filter(isStreamStatus);
    const wanted = new Set((params.get('outcome') ?? '').split(',').filter((s) => s !== ''));
    const matching: StreamItem[] = [];
    for (const s of all) if ((!machine || s.machine.name === machine) && (!q || s.streamId.toLowerCase().includes(q))) matching.push(await this.item(s));
    const counts = Object.fromEntries(STREAM_STATUSES.map((s) => [s, 0])) as Record<StreamStatus, number>;
    const byOutcome = new Map<string, OutcomeCount>();
    for (const s of matching) {
      counts[s.status]++;
      const entry = byOutcome.get(s.outcome.label) ?? { label: s.outcome.label, tone: s.outcome.tone, count: 0 };
      entry.count++;
      byOutcome.set(s.outcome.label, entry);
    }
    const shown = matching.filter((s) => (!statuses.length || statuses.includes(s.status)) && (!wanted.size || wanted.has(s.outcome.label)));
    const offset = clamp(params.get('offset'), 0, Number.MAX_SAFE_INTEGER, 0);
    const limit = clamp(params.get('limit'), 1, MAX_WINDOW, 200);
    return {
      all: all.length,
      total: shown.length,
      counts,
      outcomes: [...byOutcome.values()].sort((a, b) => TONE_ORDER[a.tone] - TONE_ORDER[b.tone] || b.count - a.count || a.label.localeCompare(b.label)),
      machines: [...new Set(all.map((s) => s.machine.name))].sort(),
      offset,
      items: shown.slice(offset, offset + limit),
    };
  }
}

import type { LogStore } from '../../src/log/types.ts';
import type { KindCount } from './types.ts';

/** Events read per query while indexing. */
const READ_CHUNK = 5_000;

/** A filter of a stream's events: by type and/or source (undefined: any). */
export interface KindFilter {
  type?: string;
  source?: string;
}

/**
 * The type and source of every event of one stream, by version, in two small arrays (a name table
 * and one number per event), read once and extended as the stream grows: what the timeline's
 * filters count and match, without reading the events again.
 */
export class EventKinds {
  private readonly names: string[] = [];
  private readonly ids = new Map<string, number>();
  private types: number[] = [];
  private sources: number[] = [];
  private cached?: { key: string; upTo: number; versions: number[] };

  constructor(
    private readonly store: LogStore,
    readonly streamId: string,
  ) {}

  private id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) this.ids.set(name, (id = this.names.push(name) - 1));
    return id;
  }

  /** Reads what was appended since, through version `to`, letting other work run between reads. */
  async extend(to: number): Promise<void> {
    while (this.types.length < to) {
      const from = this.types.length + 1;
      const records = await this.store.readStream(this.streamId, { fromVersion: from, toVersion: Math.min(to, from + READ_CHUNK - 1) });
      if (records.length === 0) return;
      for (const r of records) {
        this.types[r.version - 1] = this.id(r.type);
        this.sources[r.version - 1] = this.id(r.meta.source);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** How often each type and each source occurs, most frequent first. */
  counts(): { types: KindCount[]; sources: KindCount[] } {
    const count = (list: number[]) => {
      const n = new Map<number, number>();
      for (const id of list) n.set(id, (n.get(id) ?? 0) + 1);
      return [...n].map(([id, c]) => ({ name: this.names[id]!, count: c })).sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
    };
    return { types: count(this.types), sources: count(this.sources) };
  }

  /** The versions of the events that match, in order (kept for the last filter asked). */
  matching(filter: KindFilter): number[] {
    const key = `${filter.type ?? ''}\u0000${filter.source ?? ''}`;
    if (this.cached?.key === key && this.cached.upTo === this.types.length) return this.cached.versions;
    const type = filter.type === undefined ? -1 : (this.ids.get(filter.type) ?? -2);
    const source = filter.source === undefined ? -1 : (this.ids.get(filter.source) ?? -2);
    const versions: number[] = [];
    if (type !== -2 && source !== -2) {
      for (let i = 0; i < this.types.length; i++) if ((type < 0 || this.types[i] === type) && (source < 0 || this.sources[i] === source)) versions.push(i + 1);
    }
    this.cached = { key, upTo: this.types.length, versions };
    return versions;
  }
}

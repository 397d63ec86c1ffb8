/** The timeline's filters: one event type, one source (with how often each occurs), and the jump to the failure. */
import { useEffect, useState } from 'preact/hooks';
import { get, isAbort, streamPath, type KindsView } from './api.ts';
import type { EventFilter } from './MatchList.tsx';

export interface TimelineFiltersProps {
  streamId: string;
  total: number;
  filter: EventFilter;
  onFilter: (filter: EventFilter) => void;
}

export function TimelineFilters(props: TimelineFiltersProps) {
  const { streamId, total, filter } = props;
  const [kinds, setKinds] = useState<KindsView | null>(null);
  // read once the filters are used (a long stream's kinds take a full read), and again when the stream grew
  const [wanted, setWanted] = useState(false);
  useEffect(() => setKinds(null), [streamId]);
  useEffect(() => {
    if (!wanted && !filter.type && !filter.source) return;
    const ctl = new AbortController();
    // void: the read's failure goes to its rejection handler (no kinds shown)
    const t = setTimeout(
      () => void get<KindsView>(streamPath(streamId, '/kinds'), {}, ctl.signal).then(setKinds, (e: Error) => !isAbort(e) && setKinds(null)),
      kinds ? 500 : 0,
    );
    return () => (clearTimeout(t), ctl.abort());
  }, [streamId, wanted, total > (kinds?.version ?? 0)]);
  const options = (list: KindsView['types'] | undefined, chosen: string | undefined) => {
    const all = list ?? [];
    return [...(chosen && !all.some((k) => k.name === chosen) ? [{ name: chosen, count: 0 }] : []), ...all];
  };
  return (
    <div class="tl-filters" role="group" aria-label="filter events" onFocusIn={() => setWanted(true)} onPointerEnter={() => setWanted(true)}>
      <select
        aria-label="event type"
        data-testid="type-filter"
        value={filter.type ?? ''}
        onChange={(e) => props.onFilter({ ...filter, type: e.currentTarget.value || undefined })}
      >
        <option value="">all types{kinds ? ` (${kinds.types.length})` : ''}</option>
        {options(kinds?.types, filter.type).map((k) => (
          <option value={k.name}>
            {k.name} · {k.count}
          </option>
        ))}
      </select>
      <select
        aria-label="event source"
        data-testid="source-filter"
        value={filter.source ?? ''}
        onChange={(e) => props.onFilter({ ...filter, source: e.currentTarget.value || undefined })}
      >
        <option value="">all sources{kinds ? ` (${kinds.sources.length})` : ''}</option>
        {options(kinds?.sources, filter.source).map((k) => (
          <option value={k.name}>
            {k.name} · {k.count}
          </option>
        ))}
      </select>
      {filter.type || filter.source ? (
        <button type="button" onClick={() => props.onFilter({})}>
          clear
        </button>
      ) : null}
    </div>
  );
}

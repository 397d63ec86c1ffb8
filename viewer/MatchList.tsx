/** The timeline filtered by event type and/or source: only the matching events, windowed like the timeline. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, isAbort, streamPath, type EventRow, type MatchesPage } from './api.ts';
import { PAGE } from './Timeline.tsx';
import { TimelineBody } from './TimelineBody.tsx';
import { ROW, TimelineHead, TimelineRow } from './TimelineRow.tsx';

export interface EventFilter {
  type?: string;
  source?: string;
}

export interface MatchListProps {
  streamId: string;
  filter: EventFilter;
  /** The stream's version: a grown stream is read again. */
  total: number;
  selected: number;
  failure?: number;
  onSelect: (version: number) => void;
  onJump: (streamId: string, version: number) => void;
}

export function MatchList(props: MatchListProps) {
  const { streamId, filter, total, selected } = props;
  const [matches, setMatches] = useState<number | null>(null);
  const pages = useRef(new Map<number, EventRow[]>());
  const loading = useRef(new Set<number>());
  const [, setTick] = useState(0);
  const [scroll, setScroll] = useState({ top: 0, height: 400 });
  const body = useRef<HTMLDivElement>(null);
  const key = `${streamId}\u0000${filter.type ?? ''}\u0000${filter.source ?? ''}\u0000${total}`;
  const keyRef = useRef(key);
  keyRef.current = key;

  // first read: the page around the selected event, to scroll to it
  useEffect(() => {
    pages.current = new Map();
    loading.current = new Set();
    setMatches(null);
    const ctl = new AbortController();
    get<MatchesPage>(streamPath(streamId, '/events'), { ...filter, near: selected, limit: PAGE }, ctl.signal).then(
      (r) => {
        const start = Math.floor(r.offset / PAGE) * PAGE;
        setMatches(r.matches);
        const at = r.events.findIndex((e) => e.version >= selected);
        requestAnimationFrame(() => body.current && (body.current.scrollTop = Math.max(0, (r.offset + Math.max(0, at)) * ROW - 60)));
        if (r.offset === start) pages.current.set(start, r.events);
        setTick((t) => t + 1);
      },
      (e: Error) => !isAbort(e) && setMatches(0),
    );
    return () => ctl.abort();
  }, [key]);

  const first = Math.max(0, Math.floor(scroll.top / ROW) - 5);
  const last = Math.min((matches ?? 0) - 1, Math.ceil((scroll.top + scroll.height) / ROW) + 5);
  useEffect(() => {
    if (matches === null) return;
    for (let start = Math.floor(first / PAGE) * PAGE; start <= last; start += PAGE) {
      if (pages.current.has(start) || loading.current.has(start)) continue;
      loading.current.add(start);
      const k = key;
      get<MatchesPage>(streamPath(streamId, '/events'), { ...filter, offset: start, limit: PAGE })
        .then(
          (r) => k === keyRef.current && pages.current.set(start, r.events),
          () => undefined,
        )
        .finally(() => (loading.current.delete(start), setTick((t) => t + 1)));
    }
  });

  const rows = [];
  for (let i = first; i <= last; i++) {
    const r = pages.current.get(Math.floor(i / PAGE) * PAGE)?.[i % PAGE];
    rows.push(
      <TimelineRow
        version={r?.version ?? 0}
        row={r}
        top={i * ROW}
        selected={r?.version === selected}
        failing={r !== undefined && r.version === props.failure}
        onSelect={props.onSelect}
        onJump={props.onJump}
      />,
    );
  }
  return (
    <div class="timeline" role="table" aria-label="matching events" aria-rowcount={(matches ?? 0) + 1}>
      <TimelineHead />
      <div class="match-count" data-testid="match-count">
        {matches === null ? 'filtering…' : `${matches} of ${total} events match`}
      </div>
      <TimelineBody bodyRef={body} label="matching events, scrollable" count={matches ?? 0} onScroll={setScroll}>
        {rows}
      </TimelineBody>
    </div>
  );
}

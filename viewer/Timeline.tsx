/**
 * A stream's events as a windowed list: only the rows in view are in the page, read from the
 * server in pages of {@link PAGE} versions (and kept while the stream is open), so a stream of
 * 100,000 events scrolls like one of ten. Rows the live feed brought show at once; the page holding
 * them is read again (one read at a time) for their states.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, streamPath, type EventRow, type EventsPage } from './api.ts';
import { TimelineBody } from './TimelineBody.tsx';
import { ROW, TimelineHead, TimelineRow } from './TimelineRow.tsx';

export const PAGE = 100;
const pageOf = (v: number) => Math.floor((v - 1) / PAGE) * PAGE + 1;

export interface TimelineProps {
  streamId: string;
  total: number;
  selected: number;
  /** The version of the failing event, to mark. */
  failure?: number;
  /** Rows the live feed brought, shown until the page holding them is read (with their states). */
  live: Map<number, EventRow>;
  onSelect: (version: number) => void;
  onJump: (streamId: string, version: number) => void;
}

export function Timeline(props: TimelineProps) {
  const { streamId, total, selected } = props;
  const pages = useRef(new Map<number, EventRow[]>());
  const stale = useRef(new Set<number>());
  const loading = useRef(new Set<number>());
  const [, setTick] = useState(0);
  const [scroll, setScroll] = useState({ top: 0, height: 400 });
  const body = useRef<HTMLDivElement>(null);
  const current = useRef(streamId);
  current.current = streamId;

  useEffect(() => {
    pages.current = new Map();
    stale.current = new Set();
    loading.current = new Set();
    setTick((t) => t + 1);
  }, [streamId]);
  // the last pages may have grown: read them again (their rows stay shown meanwhile)
  const seen = useRef(total);
  useEffect(() => {
    for (let start = pageOf(Math.max(1, seen.current)); start <= pageOf(Math.max(1, total)); start += PAGE) stale.current.add(start);
    seen.current = total;
  }, [total]);

  const first = Math.max(1, Math.floor(scroll.top / ROW) + 1 - 5);
  const last = Math.min(total, Math.ceil((scroll.top + scroll.height) / ROW) + 5);
  useEffect(() => {
    for (let start = pageOf(first); start <= last; start += PAGE) {
      if ((pages.current.has(start) && !stale.current.has(start)) || loading.current.has(start)) continue;
      loading.current.add(start);
      stale.current.delete(start);
      const id = streamId;
      get<EventsPage>(streamPath(id, '/events'), { from: start, limit: PAGE })
        .then(
          (r) => {
            if (id !== current.current) return;
            pages.current.set(start, r.events);
            if (pages.current.size > 60) pages.current.delete(pages.current.keys().next().value!);
          },
          () => stale.current.add(start),
        )
        .finally(() => (loading.current.delete(start), id === current.current && setTick((t) => t + 1)));
    }
  });

  // keep the selected row in view (also when the page opens on a deep link)
  useEffect(() => {
    const el = body.current;
    if (!el || selected < 1) return;
    const top = (selected - 1) * ROW;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW > el.scrollTop + el.clientHeight) el.scrollTop = Math.max(0, top + ROW - Math.round(el.clientHeight / 2));
  }, [selected, streamId, total > 0]);
  useEffect(() => {
    const el = body.current;
    if (el) setScroll({ top: el.scrollTop, height: el.clientHeight });
  }, [streamId]);

  const rowAt = (v: number) => {
    const page = pages.current.get(pageOf(v));
    return page?.[v - pageOf(v)] ?? props.live.get(v);
  };
  const rows = [];
  for (let v = first; v <= last; v++) {
    rows.push(
      <TimelineRow
        version={v}
        row={rowAt(v)}
        top={(v - 1) * ROW}
        selected={v === selected}
        failing={v === props.failure}
        onSelect={props.onSelect}
        onJump={props.onJump}
      />,
    );
  }
  return (
    <div class="timeline" role="table" aria-label="events" aria-rowcount={total + 1}>
      <TimelineHead />
      <TimelineBody bodyRef={body} label="events, scrollable" count={total} onScroll={setScroll}>
        {rows}
      </TimelineBody>
    </div>
  );
}

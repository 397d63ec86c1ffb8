/**
 * A stream's events as a windowed list: only the rows in view are in the page, read from the
 * server in pages of {@link PAGE} versions (and kept while the stream is open), so a stream of
 * 100,000 events scrolls like one of ten.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, streamPath, type EventRow, type EventsPage } from './api.ts';
import { clockTime } from './format.ts';

export const PAGE = 100;
export const ROW = 24;

/** The sender of a message between journaled actors: `<stream>:<version>:…` of its causation id. */
export function sender(row: EventRow): { stream: string; version: number } | undefined {
  const m = row.causationId ? /^(.*):(\d+):[^:]*:\d+$/.exec(row.causationId) : null;
  return m ? { stream: m[1]!, version: Number(m[2]) } : undefined;
}

export interface TimelineProps {
  streamId: string;
  total: number;
  selected: number;
  /** Rows the live feed brought, shown until the page holding them is read (with their states). */
  live: Map<number, EventRow>;
  onSelect(version: number): void;
  onJump(streamId: string, version: number): void;
}

export function Timeline(props: TimelineProps) {
  const { streamId, total, selected } = props;
  const pages = useRef(new Map<number, EventRow[]>());
  const loading = useRef(new Set<number>());
  const [, setTick] = useState(0);
  const [scroll, setScroll] = useState({ top: 0, height: 400 });
  const body = useRef<HTMLDivElement>(null);
  const current = useRef(streamId);
  current.current = streamId;

  useEffect(() => {
    pages.current = new Map();
    loading.current = new Set();
    setTick((t) => t + 1);
  }, [streamId]);
  // the last page may have grown: read it again
  useEffect(() => {
    const last = Math.floor(Math.max(0, total - 1) / PAGE) * PAGE + 1;
    pages.current.delete(last);
    if (last > PAGE) pages.current.delete(last - PAGE);
    setTick((t) => t + 1);
  }, [total]);

  const first = Math.max(1, Math.floor(scroll.top / ROW) + 1 - 5);
  const last = Math.min(total, Math.ceil((scroll.top + scroll.height) / ROW) + 5);
  useEffect(() => {
    for (let start = Math.floor((first - 1) / PAGE) * PAGE + 1; start <= last; start += PAGE) {
      if (pages.current.has(start) || loading.current.has(start)) continue;
      loading.current.add(start);
      const id = streamId;
      get<EventsPage>(streamPath(id, '/events'), { from: start, limit: PAGE })
        .then((r) => {
          if (id !== current.current) return;
          pages.current.set(start, r.events);
          if (pages.current.size > 60) pages.current.delete(pages.current.keys().next().value!);
          setTick((t) => t + 1);
        })
        .finally(() => loading.current.delete(start));
    }
  });

  // keep the selected row in view
  useEffect(() => {
    const el = body.current;
    if (!el || selected < 1) return;
    const top = (selected - 1) * ROW;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW - el.clientHeight;
  }, [selected, streamId]);
  useEffect(() => {
    const el = body.current;
    if (el) setScroll({ top: el.scrollTop, height: el.clientHeight });
  }, [streamId]);

  const rowAt = (v: number) => pages.current.get(Math.floor((v - 1) / PAGE) * PAGE + 1)?.[(v - 1) % PAGE] ?? props.live.get(v);
  const rows = [];
  for (let v = first; v <= last; v++) {
    const r = rowAt(v);
    const from = r ? sender(r) : undefined;
    rows.push(
      <div role="row" class={`row${v === selected ? ' selected' : ''}${r?.source === 'actor' ? ' message' : ''}${r?.target ? ' child' : ''}`} style={`top:${(v - 1) * ROW}px`}
        aria-selected={v === selected} data-version={v} onClick={() => props.onSelect(v)}>
        {r ? (
          <>
            <span class="c-v">{r.version}</span>
            <span class="c-p">{r.globalPosition}</span>
            <span class={`c-s src-${r.source}`}>{r.source}</span>
            <span class="c-t" title={r.type}>{r.target ? <><b class="to" title={`delivered to child ${r.target}`}>→{r.target}</b> </> : null}{r.type}</span>
            <span class="c-a">
              {from ? (
                <a href={`#stream=${encodeURIComponent(from.stream)}&v=${from.version}`} title={`message from ${from.stream} (its version ${from.version})`}
                  onClick={(e) => (e.preventDefault(), e.stopPropagation(), props.onJump(from.stream, from.version))}>← {from.stream}</a>
              ) : r.actor ? <span title="sent by this child">← {r.actor}</span> : ''}
            </span>
            <span class="c-c" title={r.cursor ?? ''}>{r.cursor ?? ''}</span>
            <span class="c-time" title={new Date(r.recordedAt).toISOString()}>{clockTime(r.recordedAt)}</span>
            <span class="c-st" title={r.state ?? ''}>{r.state ?? ''}</span>
          </>
        ) : (
          <><span class="c-v">{v}</span><span class="loading">…</span></>
        )}
      </div>,
    );
  }
  return (
    <div class="timeline" role="grid" aria-label="events" aria-rowcount={total}>
      <div class="row head" role="row"><span class="c-v">ver</span><span class="c-p">pos</span><span class="c-s">source</span><span class="c-t">type</span><span class="c-a">from</span><span class="c-c">cursor</span><span class="c-time">time (UTC)</span><span class="c-st">state after</span></div>
      <div class="tl-body" ref={body} data-testid="timeline" onScroll={(e) => { const el = e.currentTarget; setScroll({ top: el.scrollTop, height: el.clientHeight }); }}>
        <div class="tl-space" style={`height:${total * ROW}px`}>{rows}</div>
      </div>
    </div>
  );
}

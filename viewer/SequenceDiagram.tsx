/**
 * A sequence diagram of the messages between actors around the selected event: one lane per actor
 * of the tree, per other journaled actor and per source (the application, timers, `sse`…), one
 * arrow per logged event (and per message sent to another journaled actor), each a link to its event.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ArrowMarker } from './ArrowMarker.tsx';
import { get, isAbort, streamPath, type SequenceView } from './api.ts';
import { eventLabel } from './chartModel.ts';
import { layoutSequence } from './sequenceLayout.ts';

/** Events shown around the selected one. */
const WINDOW = 60;

export interface SequenceDiagramProps {
  streamId: string;
  version: number;
  total: number;
  onOpen: (streamId: string, version: number) => void;
}

export function SequenceDiagram(props: SequenceDiagramProps) {
  const { streamId, version, total } = props;
  const [view, setView] = useState<SequenceView | null>(null);
  const [error, setError] = useState<string | null>(null);
  // the window moves in steps of half its size, so stepping through events reads it again rarely
  const from = Math.max(1, Math.min(Math.max(1, total - WINDOW + 1), Math.floor((Math.max(1, version) - 1) / (WINDOW / 2)) * (WINDOW / 2) - WINDOW / 4 + 1));
  const to = Math.min(total, from + WINDOW - 1);
  useEffect(() => {
    if (total === 0) return;
    const ctl = new AbortController();
    // void: the read's failure goes to its rejection handler (shown unless aborted)
    const t = setTimeout(
      () =>
        void get<SequenceView>(streamPath(streamId, '/sequence'), { from, to }, ctl.signal).then(
          (v) => (setView(v), setError(null)),
          (e: Error) => !isAbort(e) && setError(e.message),
        ),
      120,
    );
    return () => (clearTimeout(t), ctl.abort());
  }, [streamId, from, to]);
  const layout = useMemo(() => (view ? layoutSequence(view) : null), [view]);
  if (total === 0) return <div class="empty">no events yet</div>;
  if (error) return <div class="empty warn">{error}</div>;
  if (!layout || !view)
    return (
      <div class="empty">
        reading events {from}–{to}…
      </div>
    );
  return (
    <div class="sequence-box" tabIndex={0} role="region" aria-label={`messages between actors, events ${view.from} to ${view.to}, scrollable`}>
      <svg
        class="sequence"
        width={layout.width}
        height={layout.height}
        data-testid="sequence"
        role="group"
        aria-label={`sequence of ${streamId}, versions ${view.from}–${view.to}`}
      >
        <defs>
          <ArrowMarker id="seq-arrow" headClass="seq-head" />
        </defs>
        {layout.lanes.map((l) => (
          <g class={`lane lane-${l.kind}`} data-lane={l.id}>
            <line x1={l.x} x2={l.x} y1={24} y2={layout.height} />
            <text x={l.x} y={16} text-anchor="middle">
              <title>{l.label}</title>
              {l.label.length > 20 ? `${l.label.slice(0, 19)}…` : l.label}
            </text>
          </g>
        ))}
        {layout.arrows.map((a) => {
          const current = a.version === version && a.kind === 'event';
          const href = `#stream=${encodeURIComponent(a.link.streamId)}&v=${a.link.version}`;
          const label = `${a.kind === 'sent' ? 'sent ' : ''}${eventLabel(a.label)}`;
          const shown = label.length > 26 ? `${label.slice(0, 25)}…` : label;
          const lane = (id: string) => view.lanes.find((l) => l.id === id)?.label ?? id;
          return (
            <a
              href={href}
              class={`arrow-link${current ? ' current' : ''} ${a.kind}`}
              data-version={a.version}
              data-from={a.from}
              data-to={a.to}
              onClick={(e) => (e.preventDefault(), props.onOpen(a.link.streamId, a.link.version))}
            >
              <rect class="hit" x={Math.min(a.x1, a.x2) - 30} y={a.y - 16} width={Math.abs(a.x2 - a.x1) + 60} height={22} />
              {a.self ? (
                <path d={`M${a.x1},${a.y - 6} h26 v12 h-24`} marker-end="url(#seq-arrow)" />
              ) : (
                <line x1={a.x1} x2={a.x2 + (a.x2 > a.x1 ? -2 : 2)} y1={a.y} y2={a.y} marker-end="url(#seq-arrow)" />
              )}
              <text x={a.self ? a.x1 + 30 : (a.x1 + a.x2) / 2} y={a.y - 4} text-anchor={a.self ? 'start' : 'middle'}>
                {shown}
              </text>
              <text class="ver" x={4} y={a.y + 4}>
                {a.version}
              </text>
              <text class="sr" x={4} y={a.y + 4}>
                , version {a.version}, from {lane(a.from)} to {lane(a.to)}
              </text>
            </a>
          );
        })}
      </svg>
    </div>
  );
}

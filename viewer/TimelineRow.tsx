/** One event of the timeline: version, position, source, type (and the child it went to), sender, cursor, time, state after. */
import type { EventRow } from './api.ts';
import { parseCausationId } from '../src/log/causationId.ts';
import { clockTime } from './format.ts';

/** A row's height in px (the windowed lists place rows by it). */
export const ROW = 24;

/** The columns' headers, shared by the timeline and the filtered list. */
export function TimelineHead() {
  return (
    <div class="row head" role="row">
      {['ver', 'pos', 'source', 'type', 'from', 'cursor', 'time (UTC)', 'state after'].map((h, i) => (
        <span role="columnheader" class={['c-v', 'c-p', 'c-s', 'c-t', 'c-a', 'c-c', 'c-time', 'c-st'][i]}>
          {h}
        </span>
      ))}
    </div>
  );
}

export interface TimelineRowProps {
  /** The row's version; `row` is undefined while it is read. */
  version: number;
  row: EventRow | undefined;
  top: number;
  selected: boolean;
  /** The event that threw, or led into a failure state. */
  failing: boolean;
  onSelect: (version: number) => void;
  onJump: (streamId: string, version: number) => void;
}

export function TimelineRow(props: TimelineRowProps) {
  const { row: r, version: v } = props;
  const from = r?.causationId ? parseCausationId(r.causationId) : undefined;
  const failing = props.failing || r?.type === 'actorlog.failed';
  const cls = `row${props.selected ? ' selected' : ''}${failing ? ' failing' : ''}${r?.source === 'actor' ? ' message' : ''}${r?.target ? ' child' : ''}`;
  return (
    <div
      role="row"
      class={cls}
      style={`top:${props.top}px`}
      aria-current={props.selected ? 'true' : undefined}
      data-version={v}
      onClick={() => props.onSelect(v)}
    >
      {r ? (
        <>
          <span role="cell" class="c-v">
            {failing ? (
              <b class="fail-mark" title="the failure">
                ✖{' '}
              </b>
            ) : null}
            {r.version}
          </span>
          <span role="cell" class="c-p">
            {r.globalPosition}
          </span>
          <span role="cell" class={`c-s src-${r.source}`}>
            {r.source}
          </span>
          <span role="cell" class="c-t" title={r.type}>
            {r.target ? (
              <>
                <b class="to" title={`delivered to child ${r.target}`}>
                  →{r.target}
                </b>{' '}
              </>
            ) : null}
            {r.type}
          </span>
          <span role="cell" class="c-a">
            {from ? (
              <a
                href={`#stream=${encodeURIComponent(from.streamId)}&v=${from.version}`}
                title={`message from ${from.streamId} (its version ${from.version})`}
                onClick={(e) => (e.preventDefault(), e.stopPropagation(), props.onJump(from.streamId, from.version))}
              >
                ← {from.streamId}
              </a>
            ) : r.actor ? (
              <span title="sent by this child">← {r.actor}</span>
            ) : (
              ''
            )}
          </span>
          <span role="cell" class="c-c" title={r.cursor ?? ''}>
            {r.cursor ?? ''}
          </span>
          <span role="cell" class="c-time" title={new Date(r.recordedAt).toISOString()}>
            {clockTime(r.recordedAt)}
          </span>
          <span role="cell" class="c-st" title={r.state ?? ''}>
            {r.state ?? ''}
          </span>
        </>
      ) : (
        <>
          <span role="cell" class="c-v">
            {v}
          </span>
          <span role="cell" class="loading">
            …
          </span>
        </>
      )}
    </div>
  );
}

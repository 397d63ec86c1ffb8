/** The scrolling body of a windowed list of events (the timeline, the filtered matches): as tall as all its rows, holding only those in view. */
import type { ComponentChildren, RefObject } from 'preact';
import { ROW } from './TimelineRow.tsx';

export interface TimelineBodyProps {
  /** The scrolling element, for the list to scroll a row into view. */
  bodyRef: RefObject<HTMLDivElement | null>;
  /** Its accessible name, e.g. `events, scrollable`. */
  label: string;
  /** How many rows the list has in all: the body is that many rows tall. */
  count: number;
  /** Called on each scroll with the scroll offset and the visible height (px), to pick the rows in view. */
  onScroll: (scroll: { top: number; height: number }) => void;
  /** The rows in view, each placed at its own offset. */
  children: ComponentChildren;
}

export function TimelineBody(props: TimelineBodyProps) {
  return (
    <div
      class="tl-body"
      ref={props.bodyRef}
      data-testid="timeline"
      tabIndex={0}
      role="rowgroup"
      aria-label={props.label}
      onScroll={(e) => {
        const el = e.currentTarget;
        props.onScroll({ top: el.scrollTop, height: el.clientHeight });
      }}
    >
      <div class="tl-space" style={`height:${props.count * ROW}px`}>
        {props.children}
      </div>
    </div>
  );
}

/** Where the lanes and arrows of a sequence diagram go (pure, so a unit test can hold it). */
import type { SequenceArrow, SequenceView } from './api.ts';

export const LANE_WIDTH = 150;
export const ROW_HEIGHT = 26;
export const HEAD_HEIGHT = 34;

/** A laid-out arrow: from x to x at y (a self-message loops back to its lane). */
export interface PlacedArrow extends SequenceArrow {
  x1: number;
  x2: number;
  y: number;
  self: boolean;
}

export interface SequenceLayout {
  width: number;
  height: number;
  lanes: Array<{ id: string; label: string; kind: string; ref?: string; x: number }>;
  arrows: PlacedArrow[];
}

/** One column per lane in the view's order, one row per arrow in log order. */
export function layoutSequence(view: SequenceView): SequenceLayout {
  const x = new Map(view.lanes.map((l, i) => [l.id, LANE_WIDTH / 2 + i * LANE_WIDTH]));
  const arrows = view.arrows.map((a, i) => ({
    ...a,
    x1: x.get(a.from) ?? 0,
    x2: x.get(a.to) ?? 0,
    y: HEAD_HEIGHT + ROW_HEIGHT * (i + 0.7),
    self: a.from === a.to,
  }));
  return {
    width: Math.max(1, view.lanes.length) * LANE_WIDTH,
    height: HEAD_HEIGHT + ROW_HEIGHT * (view.arrows.length + 0.5),
    lanes: view.lanes.map((l) => ({ ...l, x: x.get(l.id)! })),
    arrows,
  };
}

/** The arrowhead of the viewer's SVG edges (statechart transitions, sequence messages): one shape, styled by class. */

export interface ArrowMarkerProps {
  /** The marker's id, as edges name it in `marker-end="url(#id)"`. */
  id: string;
  /** The class of the head's path (its fill comes from style.css). */
  headClass: string;
}

/** An SVG `<marker>` (for a `<defs>`): a 9-unit triangle pointing along the edge, reversed at a start. */
export function ArrowMarker(props: ArrowMarkerProps) {
  return (
    <marker id={props.id} viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse">
      <path d="M0,0 L10,5 L0,10 z" class={props.headClass} />
    </marker>
  );
}

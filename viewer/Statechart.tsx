/** The statechart of the selected actor: laid out once per machine hash, highlighted per event. */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ArrowMarker } from './ArrowMarker.tsx';
import { activeIds, type Chart, type ChartState, type DefinitionNode } from './chartModel.ts';
import type { Taken } from './api.ts';
import { chartOf } from './layoutCache.ts';

function path(points: Array<{ x: number; y: number }>): string {
  return points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
}

/** Below this scale a whole chart is not legible: "fit" then frames the active region instead. */
const LEGIBLE = 0.55;
const MARGIN = 24;

type Box = { x: number; y: number; width: number; height: number };

/**
 * The box "fit" shows: the whole chart when it is legible at the panel's size; else the active
 * state's parent and the transition taken, and when even that is too large for the panel, a
 * legible window centred on the active state.
 */
function fitBox(chart: Chart, active: Set<string>, taken: Box[], panel: { width: number; height: number }): Box {
  const whole = { x: 0, y: 0, width: chart.width, height: chart.height };
  const legible = (b: Box) => Math.min(panel.width / b.width, panel.height / b.height) >= LEGIBLE;
  if (legible(whole)) return whole;
  const states = chart.states.filter((s) => active.has(s.id) && !s.initial).sort((a, b) => b.depth - a.depth);
  const deepest = states[0];
  if (!deepest) return whole;
  const parent = states.find((s) => s.depth === deepest.depth - 1 && s.depth > 0) ?? deepest;
  const union = (boxes: Box[]): Box => {
    const x0 = Math.max(0, Math.min(...boxes.map((b) => b.x)) - MARGIN);
    const y0 = Math.max(0, Math.min(...boxes.map((b) => b.y)) - MARGIN);
    const x1 = Math.min(chart.width, Math.max(...boxes.map((b) => b.x + b.width)) + MARGIN);
    const y1 = Math.min(chart.height, Math.max(...boxes.map((b) => b.y + b.height)) + MARGIN);
    return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  };
  const region = union([parent, ...taken]);
  if (legible(region)) return region;
  // a window the panel shows legibly, around the active state (and the label of the transition taken, when it fits)
  const focus = union([deepest, ...taken]);
  const width = Math.min(chart.width, panel.width / LEGIBLE);
  const height = Math.min(chart.height, panel.height / LEGIBLE);
  const cx = focus.width <= width ? focus.x + focus.width / 2 : deepest.x + deepest.width / 2;
  const cy = focus.height <= height ? focus.y + focus.height / 2 : deepest.y + deepest.height / 2;
  return { x: Math.max(0, Math.min(chart.width - width, cx - width / 2)), y: Math.max(0, Math.min(chart.height - height, cy - height / 2)), width, height };
}

export interface StatechartProps {
  /** The machine's definition hash: its layout is kept under it. */
  hash: string;
  definition: DefinitionNode;
  value: unknown;
  transitions: Taken[];
  /** What the chart is of, for its label (`job-7`, `job-7 / worker`). */
  name: string;
}

export function Statechart(props: StatechartProps) {
  const { definition, hash } = props;
  const [chart, setChart] = useState<Chart | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [fit, setFit] = useState(true);
  const [panel, setPanel] = useState({ width: 800, height: 400 });
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let live = true;
    setChart(null);
    setError(null);
    chartOf(hash, definition).then(
      (c) => live && setChart(c),
      (e: unknown) => live && setError(String(e)),
    );
    return () => void (live = false);
  }, [hash]);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setPanel({ width: el.clientWidth, height: el.clientHeight }));
    observer.observe(el);
    return () => observer.disconnect();
  }, [chart !== null]);
  const active = useMemo(() => activeIds(definition, props.value), [definition, props.value]);
  const taken = useMemo(() => new Set(props.transitions.map((t) => `${t.source}::${t.index}`)), [props.transitions]);
  const takenEdges = useMemo(() => chart?.edges.filter((e) => taken.has(`${e.source}::${e.index}`)) ?? [], [chart, taken]);
  const parallel = useMemo(() => {
    const ids = new Set<string>();
    const walk = (n: DefinitionNode) => {
      for (const c of Object.values(n.states ?? {})) {
        if (n.type === 'parallel') ids.add(c.id);
        walk(c);
      }
    };
    walk(definition);
    return ids;
  }, [definition]);
  const view = useMemo(
    () =>
      chart && fit
        ? fitBox(
            chart,
            active,
            takenEdges.flatMap((e) => (e.labelBox ? [e.labelBox] : [])),
            panel,
          )
        : null,
    [chart, fit, active, takenEdges, panel],
  );
  // at 100%: keep the transition taken (else the deepest active state) in view
  useEffect(() => {
    const el = box.current;
    if (fit || !chart || !el) return;
    const label = takenEdges.find((e) => e.labelBox)?.labelBox;
    const deepest: ChartState | undefined = chart.states.filter((s) => active.has(s.id)).sort((a, b) => b.depth - a.depth)[0];
    const target = label ?? deepest;
    if (target)
      el.scrollTo({
        left: Math.max(0, target.x + target.width / 2 - el.clientWidth / 2),
        top: Math.max(0, target.y + target.height / 2 - el.clientHeight / 2),
        behavior: 'auto',
      });
  }, [fit, chart, active, takenEdges]);

  if (error) return <div class="empty">layout failed: {error}</div>;
  if (!chart) return <div class="empty">laying out {definition.id}…</div>;
  const whole = view && view.width === chart.width && view.height === chart.height;
  return (
    <div class="chart-wrap">
      <div class="chart-tools">
        <button
          type="button"
          onClick={() => setFit(!fit)}
          aria-pressed={fit}
          title="fit: the whole chart when it is legible, else the active region; 100%: the whole chart at full size, following the transition taken"
        >
          {fit ? 'show 100%' : 'fit'}
        </button>
        {view && !whole ? <span class="note">showing the active region</span> : null}
        <span class="legend">
          <i class="sw active"></i>active state <i class="sw taken"></i>transition taken
        </span>
      </div>
      <div class="chart-box" ref={box} tabIndex={0} role="region" aria-label={`statechart of ${props.name}, scrollable`}>
        <svg
          class="chart"
          viewBox={view ? `${view.x} ${view.y} ${view.width} ${view.height}` : `0 0 ${chart.width} ${chart.height}`}
          width={view ? '100%' : chart.width}
          height={view ? '100%' : chart.height}
          preserveAspectRatio="xMidYMin meet"
          role="img"
          aria-label={`statechart of ${props.name}; active: ${[...active].join(', ')}`}
          data-testid="statechart"
        >
          <defs>
            <ArrowMarker id="arrow" headClass="arrowhead" />
            <ArrowMarker id="arrow-taken" headClass="arrowhead taken" />
          </defs>
          {chart.states.map((s) =>
            s.initial ? (
              <circle class="initial" cx={s.x + s.width / 2} cy={s.y + s.height / 2} r="5" />
            ) : (
              <g
                class={`state ${s.type}${active.has(s.id) ? ' active' : ''}${parallel.has(s.id) ? ' region' : ''}`}
                data-state={s.id}
                data-active={active.has(s.id) ? 'true' : 'false'}
              >
                <title>
                  {s.id}
                  {s.invokes.length ? `\ninvokes ${s.invokes.join(', ')}` : ''}
                </title>
                <rect x={s.x} y={s.y} width={s.width} height={s.height} rx="8" />
                {s.type === 'final' ? <rect class="inner" x={s.x + 3} y={s.y + 3} width={s.width - 6} height={s.height - 6} rx="6" /> : null}
                <text x={s.x + 10} y={s.y + 19}>
                  {s.label}
                  {s.type === 'parallel' ? ' ⫴' : ''}
                </text>
                {s.invokes.map((src, i) => (
                  <text class="invoke" x={s.x + 10} y={s.y + 33 + i * 14}>
                    invoke {src}
                  </text>
                ))}
              </g>
            ),
          )}
          {chart.edges.map((e) => {
            const on = taken.has(`${e.source}::${e.index}`);
            return (
              <g class={`edge${on ? ' taken' : ''}${e.initial ? ' init' : ''}`} data-edge={e.id} data-taken={on ? 'true' : 'false'}>
                <title>{e.title}</title>
                <path d={path(e.points)} marker-end={on ? 'url(#arrow-taken)' : 'url(#arrow)'} />
                {e.labelBox ? (
                  <>
                    <rect class="label-bg" x={e.labelBox.x} y={e.labelBox.y} width={e.labelBox.width} height={e.labelBox.height} rx="3" />
                    <text class="label" x={e.labelBox.x + 3} y={e.labelBox.y + e.labelBox.height - 5}>
                      {e.label}
                    </text>
                  </>
                ) : null}
              </g>
            );
          })}
        </svg>
      </div>
    </div>
  );
}

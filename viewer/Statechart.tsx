/** The statechart of the selected actor: laid out once per definition, highlighted per event. */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import ElkApi from 'elkjs/lib/elk-api.js';
import { activeIds, layoutChart, type Chart, type DefinitionNode, type Layouter, type Measure } from './chartModel.ts';
import type { Taken } from './api.ts';

const canvas = typeof document !== 'undefined' ? document.createElement('canvas').getContext('2d') : null;
const measure: Measure = (text, size) => {
  if (!canvas) return Math.ceil(text.length * size * 0.6);
  canvas.font = `${size}px system-ui, sans-serif`;
  return Math.ceil(canvas.measureText(text).width);
};

const cache = new WeakMap<object, Promise<Chart>>();
// elk-api.js is CommonJS: its `module.exports` is the constructor (esbuild's default import), typed as a default export.
// The layout runs in a Web Worker (/elk-worker.js, shipped beside the page), so a large chart never blocks the page.
const Elk = ((ElkApi as unknown as { default?: unknown }).default ?? ElkApi) as unknown as typeof ElkApi.default;
let elk: Layouter | undefined;

function path(points: Array<{ x: number; y: number }>): string {
  return points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
}

export interface StatechartProps {
  definition: DefinitionNode;
  value: unknown;
  transitions: Taken[];
}

export function Statechart(props: StatechartProps) {
  const { definition } = props;
  const [chart, setChart] = useState<Chart | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [fit, setFit] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let live = true;
    setChart(null);
    let p = cache.get(definition);
    if (!p) cache.set(definition, (p = layoutChart(definition, (elk ??= new Elk({ workerUrl: '/elk-worker.js' })), measure)));
    p.then((c) => live && setChart(c), (e: unknown) => live && setError(String(e)));
    return () => void (live = false);
  }, [definition]);
  const active = useMemo(() => activeIds(definition, props.value), [definition, props.value]);
  const taken = useMemo(() => new Set(props.transitions.map((t) => `${t.source}::${t.index}`)), [props.transitions]);
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
  // keep the deepest active state in view when zoomed in
  useEffect(() => {
    if (fit || !chart || !box.current) return;
    const deepest = chart.states.filter((s) => active.has(s.id)).sort((a, b) => b.depth - a.depth)[0];
    if (deepest) box.current.scrollTo({ left: Math.max(0, deepest.x - box.current.clientWidth / 2), top: Math.max(0, deepest.y - box.current.clientHeight / 2), behavior: 'auto' });
  }, [fit, chart, active]);

  if (error) return <div class="empty">layout failed: {error}</div>;
  if (!chart) return <div class="empty">laying out {definition.id}…</div>;
  return (
    <>
      <div class="chart-tools">
        <button type="button" onClick={() => setFit(!fit)} aria-pressed={!fit} title="fit the chart in the panel, or show it at 100% and follow the active state">{fit ? 'zoom 100%' : 'fit'}</button>
        <span class="legend"><i class="sw active"></i>active state <i class="sw taken"></i>transition taken</span>
      </div>
      <div class="chart-box" ref={box}>
        <svg class="chart" viewBox={`0 0 ${chart.width} ${chart.height}`} width={fit ? '100%' : chart.width} height={fit ? '100%' : chart.height}
          preserveAspectRatio="xMidYMin meet" role="img" aria-label={`statechart of ${definition.id}; active: ${[...active].join(', ')}`} data-testid="statechart">
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead" /></marker>
            <marker id="arrow-taken" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead taken" /></marker>
          </defs>
          {chart.states.map((s) =>
            s.initial ? (
              <circle class="initial" cx={s.x + s.width / 2} cy={s.y + s.height / 2} r="5" />
            ) : (
              <g class={`state ${s.type}${active.has(s.id) ? ' active' : ''}${parallel.has(s.id) ? ' region' : ''}`} data-state={s.id} data-active={active.has(s.id) ? 'true' : 'false'}>
                <title>{s.id}{s.invokes.length ? `\ninvokes ${s.invokes.join(', ')}` : ''}</title>
                <rect x={s.x} y={s.y} width={s.width} height={s.height} rx="8" />
                {s.type === 'final' ? <rect class="inner" x={s.x + 3} y={s.y + 3} width={s.width - 6} height={s.height - 6} rx="6" /> : null}
                <text x={s.x + 10} y={s.y + 19}>{s.label}{s.type === 'parallel' ? ' ⫴' : ''}</text>
                {s.invokes.map((src, i) => <text class="invoke" x={s.x + 10} y={s.y + 33 + i * 14}>invoke {src}</text>)}
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
                    <text class="label" x={e.labelBox.x + 3} y={e.labelBox.y + e.labelBox.height - 5}>{e.label}</text>
                  </>
                ) : null}
              </g>
            );
          })}
        </svg>
      </div>
    </>
  );
}

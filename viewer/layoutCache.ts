/**
 * Chart layouts kept per machine hash: in memory for the page's life and in `localStorage` across
 * visits, so opening a machine a second time (another stream of it, a reload) lays nothing out.
 * Each real layout is marked `actorlog.layout` on the page's performance timeline (tests count them).
 */
import ElkApi from 'elkjs/lib/elk-api.js';
import { layoutChart, type Chart, type DefinitionNode, type Layouter, type Measure } from './chartModel.ts';

/** Bump when {@link Chart} or the layout options change: older kept layouts are then ignored. */
const VERSION = 1;
const KEY = (hash: string) => `actorlog.chart.${VERSION}.${hash}`;

const canvas = typeof document !== 'undefined' ? document.createElement('canvas').getContext('2d') : null;
const measure: Measure = (text, size) => {
  if (!canvas) return Math.ceil(text.length * size * 0.6);
  canvas.font = `${size}px system-ui, sans-serif`;
  return Math.ceil(canvas.measureText(text).width);
};

// elk-api.js is CommonJS: its `module.exports` is the constructor (esbuild's default import), typed as a default export.
// The layout runs in a Web Worker (/elk-worker.js, shipped beside the page), so a large chart never blocks the page.
const Elk = ((ElkApi as unknown as { default?: unknown }).default ?? ElkApi) as unknown as typeof ElkApi.default;
let elk: Layouter | undefined;
const charts = new Map<string, Promise<Chart>>();

function stored(hash: string): Chart | undefined {
  try {
    const text = localStorage.getItem(KEY(hash));
    return text ? (JSON.parse(text) as Chart) : undefined;
  } catch {
    return undefined;
  }
}

function store(hash: string, chart: Chart): void {
  try {
    localStorage.setItem(KEY(hash), JSON.stringify(chart));
  } catch {
    // storage full or off: the layout is kept in memory only
  }
}

/** The laid-out chart of the machine whose definition hash is `hash`: kept, or laid out once. */
export function chartOf(hash: string, definition: DefinitionNode): Promise<Chart> {
  let chart = charts.get(hash);
  if (!chart) {
    const kept = stored(hash);
    if (kept) chart = Promise.resolve(kept);
    else {
      performance.mark('actorlog.layout', { detail: { hash } });
      chart = layoutChart(definition, (elk ??= new Elk({ workerUrl: '/elk-worker.js' })), measure).then((c) => (store(hash, c), c));
      chart.catch(() => charts.delete(hash));
    }
    charts.set(hash, chart);
  }
  return chart;
}

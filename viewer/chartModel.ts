/**
 * From a stored machine definition (`machine.toJSON()`) to an ELK graph and back: state nodes are
 * ELK nodes (compound and parallel states hold their children), transitions are edges labelled
 * `event [guard]`, and the layout (elkjs, layered, hierarchy included) comes back in root
 * coordinates for one SVG. Pure, given an elkjs instance: the page passes one that runs in a Web
 * Worker, a unit test under Node the bundled one.
 */
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';

/** What {@link layoutChart} needs of an elkjs instance (the page's runs ELK in a Web Worker). */
export interface Layouter {
  layout(graph: ElkNode): Promise<ElkNode>;
}

/** The parts of a definition node the chart reads. */
export interface DefinitionNode {
  id: string;
  key: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  states?: Record<string, DefinitionNode>;
  initial?: { target?: string[] };
  transitions?: Array<{ eventType: string; guard?: unknown; target?: string[]; source?: string }>;
  always?: Array<{ guard?: unknown; target?: string[] }>;
  invoke?: Array<{ id?: string; src?: unknown }>;
  tags?: string[];
}

/** A laid-out state: its box in root coordinates. */
export interface ChartState {
  id: string;
  label: string;
  type: DefinitionNode['type'];
  depth: number;
  x: number;
  y: number;
  width: number;
  height: number;
  invokes: string[];
  /** An initial-state marker (a dot), not a state. */
  initial?: boolean;
}

/** A laid-out transition: `transitions[index]` of state `source` (or the initial arrow of a compound state). */
export interface ChartEdge {
  id: string;
  source: string;
  index: number;
  label: string;
  title: string;
  points: Array<{ x: number; y: number }>;
  labelBox?: { x: number; y: number; width: number; height: number };
  initial?: boolean;
}

export interface Chart {
  width: number;
  height: number;
  states: ChartState[];
  edges: ChartEdge[];
}

const FONT = 12;
const LABEL = 11;
const strip = (id: string) => (id.startsWith('#') ? id.slice(1) : id);

/** A guard as text: its name (`isReady`), `inline` for a function, `and(a, not(b))` for XState's combinators. */
export function guardText(guard: unknown): string {
  if (!guard) return '';
  if (typeof guard === 'string') return guard;
  const g = guard as { type?: unknown; name?: unknown; guards?: unknown[] };
  const combined = typeof g.type === 'string' ? /^xstate\.(and|or|not)$/.exec(g.type) : null;
  if (combined && Array.isArray(g.guards)) return `${combined[1]}(${g.guards.map(guardText).join(', ')})`;
  return typeof g.type === 'string' ? g.type : typeof g.name === 'string' ? g.name : 'guard';
}

/** An event type as a short label: `xstate.after.5000.job.wait` -> `after 5000ms` (a named delay: `after retryDelay`), `xstate.done.actor.submit` -> `done: submit`. */
export function eventLabel(type: string): string {
  const after = /^xstate\.after\.([^.]+)\./.exec(type);
  if (after) return /^\d+$/.test(after[1]!) ? `after ${after[1]}ms` : `after ${after[1]}`;
  const actor = /^xstate\.(done|error|snapshot)\.actor\.(.+)$/.exec(type);
  if (actor) return `${actor[1]}: ${actor[2]}`;
  if (type === '') return 'always';
  return type;
}

/** An invoke as the chart names it: its id, else its source's name. */
function invokeName(i: { id?: string; src?: unknown }): string {
  if (typeof i.id === 'string') return i.id;
  if (typeof i.src === 'string') return i.src;
  const type = (i.src as { type?: unknown } | undefined)?.type;
  return typeof type === 'string' ? type : '';
}

/** Text width in px, by canvas when there is one (the page), else an estimate (Node). */
export type Measure = (text: string, size: number) => number;
export const estimate: Measure = (text, size) => Math.ceil(text.length * size * 0.6);

/** The state ids active in `value` (a state value), ancestors included: `{ active: 'working' }` -> `job`, `job.active`, `job.active.working`. */
export function activeIds(root: DefinitionNode, value: unknown): Set<string> {
  const out = new Set<string>([root.id]);
  const walk = (node: DefinitionNode, v: unknown) => {
    if (typeof v === 'string') {
      const child = node.states?.[v];
      if (child) out.add(child.id);
      return;
    }
    if (v && typeof v === 'object') {
      for (const [key, sub] of Object.entries(v as Record<string, unknown>)) {
        const child = node.states?.[key];
        if (!child) continue;
        out.add(child.id);
        walk(child, sub);
      }
    }
  };
  walk(root, value);
  return out;
}

/** Every state node of a definition, parents first. */
export function allStates(root: DefinitionNode): DefinitionNode[] {
  const out: DefinitionNode[] = [];
  const walk = (n: DefinitionNode) => (out.push(n), Object.values(n.states ?? {}).forEach(walk));
  walk(root);
  return out;
}

/** The ELK graph of a definition (before layout). */
export function elkGraph(root: DefinitionNode, measure: Measure = estimate): ElkNode {
  const parent = new Map<string, string | undefined>();
  const edges = new Map<string, ElkExtendedEdge[]>();
  const ancestors = (id: string) => {
    const list: string[] = [];
    for (let at: string | undefined = id; at !== undefined; at = parent.get(at)) list.push(at);
    return list;
  };
  const container = (a: string, b: string) => {
    const up = new Set(ancestors(a));
    // an edge lives in the nearest node that contains both ends (ELK draws it there)
    const common = ancestors(b).find((id) => up.has(id) && id !== a && id !== b) ?? parent.get(a) ?? root.id;
    return common;
  };
  const label = (text: string) => ({ text, width: measure(text, LABEL) + 6, height: LABEL + 6 });
  const node = (n: DefinitionNode, up: string | undefined): ElkNode => {
    parent.set(n.id, up);
    const children = Object.values(n.states ?? {});
    const invokes = (n.invoke ?? []).map(invokeName);
    const title = n.key + (n.type === 'parallel' ? '  ⫴' : '');
    const width = Math.max(measure(title, FONT), ...invokes.map((s) => measure(`invoke ${s}`, LABEL))) + 24;
    if (children.length === 0) return { id: n.id, width: Math.max(64, width), height: 30 + invokes.length * 14 };
    const kids = children.map((c) => node(c, n.id));
    if (n.type !== 'parallel' && n.initial?.target?.length) {
      const marker = `${n.id}::initial`;
      kids.unshift({ id: marker, width: 10, height: 10 });
      parent.set(marker, n.id);
      for (const t of n.initial.target) add(n.id, { id: `${marker}->${strip(t)}`, sources: [marker], targets: [strip(t)] });
    }
    return {
      id: n.id,
      children: kids,
      layoutOptions: {
        'elk.padding': `[top=${30 + invokes.length * 14},left=12,bottom=12,right=12]`,
        ...(n.type === 'parallel' ? { 'elk.direction': 'DOWN' } : {}),
      },
      width,
    };
  };
  const add = (at: string, edge: ElkExtendedEdge) => {
    if (!edges.has(at)) edges.set(at, []);
    edges.get(at)!.push(edge);
  };
  const graph = node(root, undefined);
  for (const n of allStates(root)) {
    (n.transitions ?? []).forEach((t, index) => {
      const targets = (t.target ?? []).map(strip);
      const guard = guardText(t.guard);
      const text = eventLabel(t.eventType) + (guard ? ` [${guard}]` : '');
      for (const [k, target] of (targets.length ? targets : [n.id]).entries()) {
        add(container(n.id, target), { id: `${n.id}::${index}::${k}`, sources: [n.id], targets: [target], labels: [label(text)] });
      }
    });
    (n.always ?? []).forEach((t, index) => {
      for (const [k, target] of (t.target ?? []).map(strip).entries()) {
        const guard = guardText(t.guard);
        add(container(n.id, target), {
          id: `${n.id}::always${index}::${k}`,
          sources: [n.id],
          targets: [target],
          labels: [label('always' + (guard ? ` [${guard}]` : ''))],
        });
      }
    });
  }
  const attach = (g: ElkNode) => {
    if (edges.has(g.id)) g.edges = edges.get(g.id);
    g.children?.forEach(attach);
  };
  attach(graph);
  return {
    id: '::root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.layered.spacing.nodeNodeBetweenLayers': '36',
      'elk.spacing.nodeNode': '18',
      'elk.spacing.edgeLabel': '2',
      'elk.edgeLabels.inline': 'false',
      'elk.json.edgeCoords': 'ROOT',
      'elk.json.shapeCoords': 'ROOT',
      'elk.padding': '[top=8,left=8,bottom=8,right=8]',
    },
    children: [graph],
  };
}

/** Lays a definition out with elkjs and returns the boxes and routes to draw. */
export async function layoutChart(root: DefinitionNode, elk: Layouter, measure: Measure = estimate): Promise<Chart> {
  const laid = await elk.layout(elkGraph(root, measure));
  const byId = new Map(allStates(root).map((n) => [n.id, n]));
  const states: ChartState[] = [];
  const edges: ChartEdge[] = [];
  const visit = (n: ElkNode, depth: number) => {
    const def = byId.get(n.id);
    if (def) {
      states.push({
        id: n.id,
        label: def.key,
        type: def.type,
        depth,
        x: n.x ?? 0,
        y: n.y ?? 0,
        width: n.width ?? 0,
        height: n.height ?? 0,
        invokes: (def.invoke ?? []).map(invokeName),
      });
    } else if (n.id.endsWith('::initial')) {
      states.push({
        id: n.id,
        label: '',
        type: 'atomic',
        depth,
        x: n.x ?? 0,
        y: n.y ?? 0,
        width: n.width ?? 0,
        height: n.height ?? 0,
        invokes: [],
        initial: true,
      });
    }
    for (const e of n.edges ?? []) {
      const [source, index] = e.id.split('::');
      const section = e.sections?.[0];
      const points = section ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint] : [];
      const l = e.labels?.[0];
      const initial = e.id.includes('::initial->');
      const idx = Number(index);
      const t = Number.isInteger(idx) ? byId.get(source!)?.transitions?.[idx] : undefined;
      edges.push({
        id: e.id,
        source: initial ? e.id.split('::initial')[0]! : source!,
        index: initial ? -1 : Number.isInteger(idx) ? idx : -2,
        label: l?.text ?? '',
        title: t ? `${t.eventType}${t.guard ? ` [${guardText(t.guard)}]` : ''}` : (l?.text ?? ''),
        points,
        labelBox: l ? { x: l.x ?? 0, y: l.y ?? 0, width: l.width ?? 0, height: l.height ?? 0 } : undefined,
        initial,
      });
    }
    n.children?.forEach((c) => visit(c, def ? depth + 1 : depth));
  };
  visit(laid, 0);
  return { width: laid.width ?? 0, height: laid.height ?? 0, states, edges };
}

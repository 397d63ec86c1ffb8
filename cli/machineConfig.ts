/** A transition as a stored definition holds it (`machine.toJSON()`, see `machineDefinition`). */
interface TransitionJson {
  target?: string[];
  guard?: unknown;
  actions?: unknown[];
  reenter?: boolean;
  delay?: number | string;
  description?: string;
  meta?: unknown;
}

/** A state node as a stored definition holds it. */
interface NodeJson {
  id: string;
  type?: string;
  initial?: { target?: string[] };
  history?: false | 'shallow' | 'deep';
  states?: Record<string, NodeJson>;
  on?: Record<string, TransitionJson[]>;
  always?: TransitionJson[];
  entry?: unknown[];
  exit?: unknown[];
  invoke?: Array<{ id: string; src: string; systemId?: string }>;
  tags?: string[];
  description?: string;
  meta?: unknown;
  output?: unknown;
}

type Config = Record<string, unknown>;

const AFTER = 'xstate.after.';

function transitionConfig(t: TransitionJson): Config {
  const config: Config = {};
  if (t.target && t.target.length > 0) config.target = t.target.length === 1 ? t.target[0] : t.target;
  if (t.guard !== undefined) config.guard = t.guard;
  if (t.actions && t.actions.length > 0) config.actions = t.actions;
  if (t.reenter) config.reenter = true;
  if (t.description !== undefined) config.description = t.description;
  if (t.meta !== undefined) config.meta = t.meta;
  return config;
}

const transitions = (list: TransitionJson[]) => list.map(transitionConfig);

/** `actions` without the `n` actions of `type` XState appended to them (the timers of `after`). */
function withoutImplied(actions: unknown[], type: string, n: number): unknown[] {
  const tail = actions.slice(actions.length - n);
  return n > 0 && tail.every((a) => (a as { type?: unknown } | null)?.type === type) ? actions.slice(0, actions.length - n) : actions;
}

function nodeConfig(node: NodeJson): Config {
  const config: Config = { id: node.id };
  if (node.type && node.type !== 'atomic' && node.type !== 'compound') config.type = node.type;
  if (node.type === 'history' && node.history) config.history = node.history;
  const initial = node.initial?.target?.[0];
  const prefix = `#${node.id}.`;
  if (initial !== undefined && node.type !== 'history') config.initial = initial.startsWith(prefix) ? initial.slice(prefix.length) : initial;
  if (node.states && Object.keys(node.states).length > 0) {
    config.states = Object.fromEntries(Object.entries(node.states).map(([key, child]) => [key, nodeConfig(child)]));
  }
  const on: Config = {};
  const after: Config = {};
  const invokes = (node.invoke ?? []).map((inv) => ({ ...inv }) as Config & { id: string });
  for (const [eventType, list] of Object.entries(node.on ?? {})) {
    const delay = list[0]?.delay;
    const done = invokes.find((inv) => eventType === `xstate.done.actor.${inv.id}`);
    const error = invokes.find((inv) => eventType === `xstate.error.actor.${inv.id}`);
    if (eventType.startsWith(AFTER) && delay !== undefined) after[String(delay)] = transitions(list);
    else if (done) done.onDone = transitions(list);
    else if (error) error.onError = transitions(list);
    else on[eventType] = transitions(list);
  }
  if (Object.keys(on).length > 0) config.on = on;
  if (Object.keys(after).length > 0) config.after = after;
  if (node.always && node.always.length > 0) config.always = transitions(node.always);
  if (invokes.length > 0) config.invoke = invokes.map(({ type: _type, ...inv }) => inv);
  // XState adds a raise to entry and a cancel to exit, at their end, for each delay of `after`
  const delays = Object.keys(after).length;
  const entry = withoutImplied(node.entry ?? [], 'xstate.raise', delays);
  const exit = withoutImplied(node.exit ?? [], 'xstate.cancel', delays);
  if (entry.length > 0) config.entry = entry;
  if (exit.length > 0) config.exit = exit;
  if (node.tags && node.tags.length > 0) config.tags = node.tags;
  if (node.description !== undefined) config.description = node.description;
  if (node.meta !== undefined) config.meta = node.meta;
  if (node.output !== undefined) config.output = node.output;
  return config;
}

/**
 * Turns a stored machine definition (`DefinitionRecord.definition`: `machine.toJSON()` as JSON,
 * see `machineDefinition`) back into a machine config, the shape the Stately Inspector receives as
 * an actor's `definition` (XState's `machine.config`, with functions named): `initial` as a child
 * key, transitions with `target` as `#state.id` references, delayed transitions under `after`,
 * `xstate.done.actor.<id>` and `xstate.error.actor.<id>` as the invoke's `onDone` and `onError`,
 * eventless ones under `always`, guards and actions by name (`{ type }` for functions). Every state
 * keeps its full `id`, so the references resolve. `createMachine()` accepts the result (it draws
 * the same statechart; guards, actions and actors are names without implementations).
 *
 * @example
 * ```ts
 * const config = definitionToConfig(store.loadDefinition(stream.machine.hash)!.definition);
 * createMachine(config as never).toJSON(); // the states and transitions of the logged machine
 * ```
 */
export function definitionToConfig(definition: unknown): Config {
  return nodeConfig(definition as NodeJson);
}

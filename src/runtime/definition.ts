import type { AnyStateMachine } from 'xstate';

/** A state node as `definition` reads it: its eventless transitions and its child nodes by key. */
interface NodeLike {
  always?: unknown[];
  states: Record<string, NodeLike>;
}

/** A guard as JSON: a name or `{ type, params }` as written; a function is named by what it is. */
function guardJson(guard: unknown): unknown {
  if (typeof guard !== 'function') return guard;
  const composite = guard as { check?: unknown; guards?: unknown[] };
  // XState's `and`, `or` and `not` keep their operands in `guards`
  if (typeof composite.check === 'function' && Array.isArray(composite.guards))
    return { type: `xstate.${guard.name}`, guards: composite.guards.map(guardJson) };
  return { type: 'inline' };
}

/**
 * JSON.stringify replacer: a guard function becomes {@link guardJson}; an action function in an action
 * list becomes `{ type }` (XState's own creators by their type, `xstate.assign`; others by the
 * function's name, or `inline`), as XState's `toJSON()` does for `entry` and `exit`; any other
 * function (an `input` mapper) is dropped, as JSON drops it.
 */
function replacer(this: unknown, key: string, value: unknown): unknown {
  if (typeof value !== 'function') return value;
  if (key === 'guard') return guardJson(value);
  if (Array.isArray(this)) return { type: (value as { type?: unknown }).type ?? (value.name || 'inline') };
  return undefined;
}

function addAlways(node: NodeLike, json: { always?: unknown; states?: Record<string, unknown> }): void {
  if (node.always && node.always.length > 0) json.always = JSON.parse(JSON.stringify(node.always, replacer));
  for (const [key, child] of Object.entries(node.states)) {
    const childJson = json.states?.[key];
    if (childJson && typeof childJson === 'object') addAlways(child, childJson as { always?: unknown; states?: Record<string, unknown> });
  }
}

/**
 * A machine's definition as the log stores it (`DefinitionRecord.definition`): `machine.toJSON()`
 * as plain JSON, with what XState's `toJSON()` leaves out put back, so a statechart drawn from the
 * log alone shows every transition:
 * - each state node's eventless transitions under `always` (the shape of an `on` entry, `eventType` `''`);
 * - guards that are functions, which JSON would drop: `{ type: 'inline' }`, or for XState's `and`,
 *   `or`, `not` `{ type: 'xstate.and', guards: [...] }` (named guards stay their name, as in `toJSON()`);
 * - actions that are functions in a transition's `actions`, which JSON would turn into `null`:
 *   `{ type }` as `toJSON()` writes `entry` and `exit` (`xstate.assign`, a function's name, or `inline`).
 * Everything else is `toJSON()`'s: `id`, `key`, `type` (`atomic`, `compound`, `parallel`, `final`,
 * `history`), `initial.target`, `states`, `on` by event type (transitions with `target` as
 * `#state.id`, `guard`, `actions`, `eventType`, `delay` for `after`), `invoke` (`id`, `src`),
 * `entry`, `exit`, `tags`, `meta`, `description`.
 *
 * @example
 * ```ts
 * const definition = machineDefinition(jobMachine) as { states: Record<string, { on: Record<string, unknown[]> }> };
 * Object.keys(definition.states); // ['submitted', 'queued', 'working', ...]
 * ```
 */
export function machineDefinition(machine: AnyStateMachine): unknown {
  const json = JSON.parse(JSON.stringify(machine.toJSON(), replacer)) as { always?: unknown; states?: Record<string, unknown> };
  addAlways(machine.root as unknown as NodeLike, json);
  return json;
}

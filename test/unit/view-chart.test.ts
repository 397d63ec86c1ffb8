import { setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { machineDefinition } from '../../src/runtime/definition.ts';
import ElkBundled from 'elkjs/lib/elk.bundled.js';
import { activeIds, elkGraph, eventLabel, guardText, layoutChart, type DefinitionNode } from '../../viewer/chartModel.ts';

/** A machine with a compound state, a parallel state with two regions, guards, `after` and `always`. */
const machine = setup({ guards: { ready: () => true, late: () => false }, delays: { retryDelay: 100 } }).createMachine({
  id: 'm',
  initial: 'idle',
  states: {
    idle: { on: { go: [{ guard: 'ready', target: 'online' }, { target: 'failed' }] }, after: { retryDelay: 'idle' } },
    online: {
      type: 'parallel',
      on: { stop: 'failed' },
      states: {
        heartbeat: { initial: 'beating', states: { beating: { after: { 500: 'missed' } }, missed: { always: { guard: 'late', target: 'beating' } } } },
        receive: { initial: 'listening', states: { listening: { on: { frame: { actions: [] } } } } },
      },
    },
    failed: { type: 'final' },
  },
});
const definition = machineDefinition(machine) as DefinitionNode;
const Elk = ((ElkBundled as unknown as { default?: unknown }).default ?? ElkBundled) as unknown as typeof ElkBundled.default;

describe('statechart model (viewer/chartModel.ts)', () => {
  it('labels transitions with event and guard, after delays and done events shortly', () => {
    expect(eventLabel('xstate.after.500.m.online.heartbeat.beating')).toBe('after 500ms');
    expect(eventLabel('xstate.after.retryDelay.m.idle')).toBe('after retryDelay');
    expect(eventLabel('xstate.done.actor.submit')).toBe('done: submit');
    expect(guardText('ready')).toBe('ready');
    expect(guardText({ type: 'xstate.not', guards: ['ready'] })).toBe('not(ready)');
    const graph = elkGraph(definition);
    const labels = JSON.stringify(graph).match(/"text":"[^"]*"/g);
    expect(labels).toEqual(
      expect.arrayContaining([
        '"text":"go [ready]"',
        '"text":"go"',
        '"text":"after retryDelay"',
        '"text":"after 500ms"',
        '"text":"always [late]"',
        '"text":"frame"',
        '"text":"stop"',
      ]),
    );
  });

  it('nests compound and parallel states and puts each edge in a node holding both ends', async () => {
    const chart = await layoutChart(definition, new Elk());
    const box = (id: string) => chart.states.find((s) => s.id === id)!;
    const inside = (a: string, b: string) =>
      box(a).x >= box(b).x &&
      box(a).y >= box(b).y &&
      box(a).x + box(a).width <= box(b).x + box(b).width &&
      box(a).y + box(a).height <= box(b).y + box(b).height;
    expect(box('m.online').type).toBe('parallel');
    expect(inside('m.online.heartbeat', 'm.online')).toBe(true);
    expect(inside('m.online.heartbeat.missed', 'm.online.heartbeat')).toBe(true);
    expect(inside('m.online.receive.listening', 'm.online.receive')).toBe(true);
    expect(inside('m.online.heartbeat', 'm.online.receive')).toBe(false);
    // every transition is drawn: 2 for go, after, stop, after 500, always, frame (a self-loop: no target)
    const edges = chart.edges.filter((e) => !e.initial);
    expect(edges).toHaveLength(7);
    for (const e of chart.edges) expect(e.points.length).toBeGreaterThanOrEqual(2);
    const frame = edges.find((e) => e.label === 'frame')!;
    expect(frame.source).toBe('m.online.receive.listening');
  });

  it('finds the active states of a value, ancestors and parallel regions included', () => {
    expect([...activeIds(definition, 'idle')]).toEqual(['m', 'm.idle']);
    expect([...activeIds(definition, { online: { heartbeat: 'missed', receive: 'listening' } })].sort()).toEqual([
      'm',
      'm.online',
      'm.online.heartbeat',
      'm.online.heartbeat.missed',
      'm.online.receive',
      'm.online.receive.listening',
    ]);
  });
});

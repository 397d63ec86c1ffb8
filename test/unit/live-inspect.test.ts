/**
 * Live inspection. `createActorSystem({ inspect })` hands an XState inspection
 * observer to every journaled actor beside the journal, which sees each event first.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMachine, sendParent, setup, type AnyActorRef, type InspectionEvent } from 'xstate';
import { createActorSystem, type EventRecord } from 'actorlog';
import { tempStore } from '../support/kit/index.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

const child = createMachine({
  id: 'child',
  initial: 'waiting',
  states: { waiting: { on: { 'child.go': { target: 'done', actions: sendParent({ type: 'child.finished' }) } } }, done: {} },
});
const parent = setup({ actors: { child } }).createMachine({
  id: 'parent',
  initial: 'idle',
  states: {
    idle: { on: { start: 'running' } },
    running: { invoke: { id: 'kid', src: 'child' }, on: { 'child.finished': 'finished' } },
    finished: { type: 'final' },
  },
});

/** What the observer saw of one `@xstate.event`, and what the log held at that moment. */
interface Seen {
  actor: string;
  type: string;
  logged: EventRecord | undefined;
}

describe('createActorSystem({ inspect })', () => {
  it('a user observer sees the events of a root and of its child machine, each already in the log', async () => {
    const log = tempStore();
    const seen: Seen[] = [];
    const kinds = new Set<string>();
    const inspect = (ev: InspectionEvent) => {
      kinds.add(ev.type);
      if (ev.type !== '@xstate.event' || ev.event.type === 'xstate.init') return;
      seen.push({ actor: (ev.actorRef as AnyActorRef).id, type: ev.event.type, logged: log.readStream('p-1').at(-1) });
    };
    const system = createActorSystem({ store: log, machines: { parent }, inspect });
    const actor = system.spawn('parent', { id: 'p-1' });
    actor.send({ type: 'start' });
    (actor.getSnapshot().children as Record<string, { send(e: { type: string }): void }>).kid!.send({ type: 'child.go' });
    expect(actor.getSnapshot().value).toBe('finished');

    expect(seen.map(({ actor, type }) => `${actor} ${type}`)).toEqual(['p-1 start', 'kid child.go', 'p-1 child.finished']);
    // the journal saw each first: the log's last record is that very event when the observer is called
    expect(seen.map(({ logged }) => [logged?.type, logged?.meta.target])).toEqual([
      ['start', undefined],
      ['child.go', 'kid'],
      ['child.finished', undefined],
    ]);
    expect([...kinds]).toEqual(expect.arrayContaining(['@xstate.actor', '@xstate.event', '@xstate.snapshot']));
    await system.close();
  });

  it('an Observer object works too, and a recovered actor is inspected as a spawned one', async () => {
    const log = tempStore();
    const first = createActorSystem({ store: log, machines: { parent } });
    first.spawn('parent', { id: 'p-1' }).send({ type: 'start' });
    await first.close();
    const types: string[] = [];
    const system = createActorSystem({
      store: log,
      machines: { parent },
      inspect: {
        next: (ev) => {
          if (ev.type === '@xstate.event') types.push(`${(ev.actorRef as AnyActorRef).id} ${ev.event.type}`);
        },
      },
    });
    const [actor] = (await system.recover()).recovered;
    (actor!.getSnapshot().children as Record<string, { send(e: { type: string }): void }>).kid!.send({ type: 'child.go' });
    expect(types.filter((t) => !t.endsWith('xstate.init'))).toEqual(['kid child.go', 'p-1 child.finished']);
    await system.close();
  });

  it('an observer that throws never stops the actor nor the journal; it is reported once on stderr', async () => {
    const log = tempStore();
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => {});
    const system = createActorSystem({
      store: log,
      machines: { parent },
      inspect: () => {
        throw new Error('inspector bug');
      },
    });
    const actor = system.spawn('parent', { id: 'p-1' });
    actor.send({ type: 'start' });
    expect(actor.getSnapshot().value).toBe('running');
    expect(log.readStream('p-1').map((r) => r.type)).toEqual(['start']);
    expect(stderr).toHaveBeenCalledTimes(1);
    expect(String(stderr.mock.calls[0]![0])).toMatch(/inspect observer threw on actor p-1 .*inspector bug/);
    await system.close();
  });
});

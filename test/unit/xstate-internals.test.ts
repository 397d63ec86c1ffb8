import { describe, expect, it } from 'vitest';
import { createActor, setup, SimulatedClock } from 'xstate';
import { ingressClock, installIngress } from '../../src/runtime/ingress.ts';

/**
 * The mailbox stands on two XState internals (5.33): every delivery goes through
 * `system._relay(source, target, event)`, and delayed events are scheduled through
 * `system.scheduler.schedule` and relayed from the system clock's `setTimeout`. This fails first
 * when an XState upgrade changes either.
 */
describe('the XState internals the mailbox wraps', () => {
  it('relays an external send and a fired timer through system._relay, and schedules through scheduler.schedule', () => {
    const machine = setup({}).createMachine({ initial: 'a', states: { a: { on: { go: 'b' } }, b: { after: { 5: 'c' } }, c: {} } });
    const time = new SimulatedClock();
    const clock = ingressClock(time);
    const actor = createActor(machine, { clock });
    const system = actor.system as unknown as { _relay: unknown; scheduler: { schedule: unknown } };
    expect(typeof system._relay).toBe('function');
    expect(typeof system.scheduler.schedule).toBe('function');
    const seen: Array<{ type: string; timer: boolean }> = [];
    const ingress = installIngress(actor, clock, (source, target, event, timer) => {
      seen.push({ type: event.type, timer: timer !== undefined });
      return false; // let XState deliver it now
    });
    expect(typeof ingress.relay).toBe('function');
    actor.start();
    actor.send({ type: 'go' });
    time.increment(5);
    expect(actor.getSnapshot().value).toBe('c');
    expect(seen).toEqual([
      { type: 'go', timer: false },
      { type: 'xstate.after.5.(machine).b', timer: true },
    ]);
  });
});

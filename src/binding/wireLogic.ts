import { throwError } from 'rxjs';
import { fromEventObservable, type ObservableActorLogic } from 'xstate';
import { ActorlogError } from '../errors.ts';
import type { EventMeta } from '../log/types.ts';

/**
 * Where a wire event came from, as a binding's actor marks it in `event.meta`: the runtime copies
 * `source` (`poll`, `sse`, `ws`, `webhook`) and `cursor` (the resume point, a string or a finite
 * number) into the logged event's meta. The one declaration; the machines' event types re-export it.
 */
export type WireMeta = Pick<EventMeta, 'source' | 'cursor'>;

/**
 * The logic of one protocol actor a binding gives a generic machine: an observable of the machine's
 * wire events for an input (`submit`, `follow`, `poll`… of the job machine; `open`, `events`… of the
 * session machine). Made with XState's `fromEventObservable`.
 */
export type WireLogic<TEvent extends { type: string }, TInput> = ObservableActorLogic<TEvent, TInput>;

/**
 * The placeholder a generic machine declares for an actor its bindings provide: when the machine
 * runs without one, the actor fails at once with `INVALID_OPTIONS` naming the missing actor.
 *
 * @param machine the generic machine's name, for the message (`job`, `session`, `connection`)
 * @param name the actor's name (`submit`, `open`, …)
 * @example
 * ```ts
 * setup({ actors: { submit: unboundActor<JobWireEvent, SubmitInput>('job', 'submit') } })
 * ```
 */
export function unboundActor<TEvent extends { type: string }, TInput = never>(machine: string, name: string): WireLogic<TEvent, TInput> {
  return fromEventObservable<TEvent, TInput>(() =>
    throwError(() => new ActorlogError('INVALID_OPTIONS', `the ${machine} machine has no "${name}" actor: give it a binding with .provide({ actors })`)),
  );
}

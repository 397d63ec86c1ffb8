import type { AnyStateMachine } from 'xstate';
import { connectionMachine } from './machine.ts';

/**
 * The connection machine under the names its bindings register it as, for the replay CLI:
 * `npx actorlog replay <db> <streamId> --machines machines/connection/machines.ts`. Bindings only
 * provide actors, so one definition (one hash) replays every binding's streams.
 */
export const machines: Record<string, AnyStateMachine> = {
  connection: connectionMachine,
  molecule: connectionMachine,
  yoi: connectionMachine,
};

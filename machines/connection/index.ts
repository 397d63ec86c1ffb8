/** The generic connection machine and its wire contract (subpath export `actorlog/machines/connection`). */
export { connectionMachine, type ConnectionActors, type ConnectionLogic, type ConnectionMachine, type ConnectionOutput } from './machine.ts';
export { type ConnectionContext, type ConnectionCounts, type ConnectionInput, type DeliverMode, type ReceiveMode } from './context.ts';
export { backendDispatch, fromRequest, type Backend, type BackendFunction, type DispatchContext } from './actors.ts';
export type * from './events.ts';

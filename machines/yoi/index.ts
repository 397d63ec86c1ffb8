import { connectionMachine } from '../connection/machine.ts';
import { yoiConnectionActors } from './actors.ts';
import type { YoiBindingOptions } from './options.ts';

/**
 * The connection machine bound to a yoi Workspace Backend (seed 004, Backend Runtime API worker
 * observation): transcript snapshot, observation WebSocket resumed from the logged cursor,
 * sequence dedupe, cursor reset on `backend.cursor_unknown_or_expired`, console commands. Same
 * definition (and hash) as `connectionMachine`: only the actors differ.
 *
 * @example
 * ```ts
 * const system = createActorSystem({ store, machines: { yoi: yoiConnectionMachine() } });
 * const conn = system.spawn('yoi', { id: 'yoi-r1-w1', input: yoiConnectionInput({ baseUrl, runtimeId: 'r1', workerId: 'w1' }) });
 * conn.send({ type: 'connection.command', command: { method: 'run', input: [{ type: 'text', text: 'hello' }] } });
 * ```
 */
export function yoiConnectionMachine(options: YoiBindingOptions = {}) {
  return connectionMachine.provide({ actors: yoiConnectionActors(options) });
}

export { yoiConnectionActors, yoiDelivery } from './actors.ts';
export { createYoiClient, type YoiCallOptions, type YoiClient, type YoiClientOptions } from './client.ts';
export type { BackendCommand, YoiMethod, YoiSegment } from './commands.ts';
export { yoiConnectionInput, type YoiBindingOptions, type YoiConnectionOptions, type YoiDelivery } from './options.ts';
export {
  CURSOR_EXPIRED,
  FrameSchema,
  TranscriptSchema,
  OperationResultSchema,
  YoiEventSchema,
  type YoiEvent,
  type YoiFrame,
  type YoiTranscript,
} from './schemas.ts';
export { decodeBackendCursor, encodeBackendCursor, validateYoiTarget, TRANSCRIPT_SNAPSHOT_LIMIT, type YoiTarget } from './target.ts';

import { sessionMachine } from '../session/machine.ts';
import { opencodeSessionActors, type OpencodeBindingOptions } from './actors.ts';

/**
 * The session machine bound to an OpenCode server (`opencode serve`; seed 001 and its OpenAPI at
 * `GET /doc`), by default at seed 001's `http://127.0.0.1:4096` with its 30 s request timeout. Same states and transitions as {@link sessionMachine}: only the actors differ
 * (they count in `machineHash`), so register it under the name `session`.
 *
 * @example
 * ```ts
 * const system = createActorSystem({ store, machines: { session: opencodeSessionMachine({ url: 'http://127.0.0.1:4096' }) } });
 * const chat = system.spawn('session', { id: 'chat-1', input: { sessionKey: 'chat-1' } });
 * chat.send({ type: 'session.prompt', prompt: { kind: 'text', text: 'summarise README.md' } });
 * await chat.waitFor((s) => s.context.turns === 1);
 * ```
 */
export function opencodeSessionMachine(options: OpencodeBindingOptions = {}) {
  return sessionMachine.provide({ actors: opencodeSessionActors(options) });
}

export { opencodeSessionActors, type OpencodeBindingOptions, type OpencodeSessionActors } from './actors.ts';
export {
  createOpencodeClient,
  opencodeMessageId,
  opencodeSessionId,
  toServerModel,
  toServerTools,
  OPENCODE_DEFAULT_URL,
  OPENCODE_DEFAULT_TIMEOUT_MS,
  type OpencodeClient,
  type OpencodeClientOptions,
  type PromptBody,
} from './client.ts';

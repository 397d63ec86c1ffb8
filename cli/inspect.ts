import type { AnyStateMachine } from 'xstate';
import WebSocket from 'ws';
import { ActorlogError, describeError, isActorlogError } from '../src/errors.ts';
import type { StreamRecord } from '../src/log/types.ts';
import { openLogCopy } from './openLog.ts';
import { inspectionEvents, type InspectorEvent } from './inspectEvents.ts';
import { Command } from 'commander';
import { ignoreHashOption, machinesOption, type CommandContext } from './command.ts';
import { ExitCodes, jsonLine, parseCount, type Out } from './output.ts';
import type { MachineRegistry } from './registry.ts';

/** Where `actorlog inspect` sends by default: the WebSocket server `@statelyai/inspect` uses (its `createInspectorServer()`). */
export const DEFAULT_INSPECTOR_URL = 'ws://localhost:8080';

/** Options of `actorlog inspect`. */
export interface InspectCommandOptions {
  /** Stop after this stream version (one stream) or global position (all streams). */
  to?: number;
  /** The inspector's WebSocket server. @default DEFAULT_INSPECTOR_URL */
  url?: string;
  /** Replay with the registered machine even when its hash differs from the logged one. */
  ignoreHash?: boolean;
  /** Print the summary as one JSON object. */
  json?: boolean;
  /** How long to wait for the WebSocket handshake (ms). @default 10000 */
  connectTimeoutMs?: number;
}

/** What was sent. */
export interface InspectSummary {
  url: string;
  streams: number;
  actors: number;
  events: number;
  snapshots: number;
}

/** Frames sent between two waits for the socket to take them (bounds what sits in memory). */
const WINDOW = 500;

/** Opens a WebSocket client to `url`. @throws ActorlogError `TRANSIENT` when it cannot connect, `INVALID_OPTIONS` for a URL that is not ws:// or wss:// */
function connect(url: string, timeoutMs: number): Promise<WebSocket> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new ActorlogError('INVALID_OPTIONS', `--url ${url} is not a URL`, { cause: err, details: { url } });
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')
    throw new ActorlogError('INVALID_OPTIONS', `--url must be a ws:// or wss:// URL, not ${url}`, { details: { url } });
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { handshakeTimeout: timeoutMs });
    socket.once('open', () => resolve(socket));
    socket.once('error', (err) => {
      reject(
        new ActorlogError('TRANSIENT', `cannot connect to the inspector at ${url}: ${describeError(err).message} (is its server running?)`, {
          cause: err,
          details: { url },
        }),
      );
    });
  });
}

function send(socket: WebSocket, frame: string): Promise<void> {
  return new Promise((resolve, reject) => socket.send(frame, (err) => (err ? reject(err) : resolve())));
}

/** Closes the socket once everything sent has gone out, and waits for the close handshake. */
function close(socket: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) return resolve();
    socket.once('close', () => resolve());
    socket.close(1000, 'actorlog inspect: done');
  });
}

/** The machine of each stream, and a warning per stream that gets no snapshots. */
async function machinesOf(streams: StreamRecord[], registry: MachineRegistry, ignoreHash: boolean, err: Out): Promise<Map<string, AnyStateMachine>> {
  const machines = new Map<string, AnyStateMachine>();
  for (const stream of streams) {
    try {
      const { machine, mismatch } = await registry.resolve(stream, { ignoreHash });
      if (mismatch)
        err.write(
          `actorlog: warning: replaying ${stream.streamId} with another definition of "${stream.machine.name}" (logged ${mismatch.logged}, registered ${mismatch.registered})\n`,
        );
      machines.set(stream.streamId, machine);
    } catch (e) {
      if (!isActorlogError(e, 'MACHINE_NOT_REGISTERED') && !isActorlogError(e, 'MACHINE_MISMATCH')) throw e;
      err.write(`actorlog: warning: ${e.message}; sending its events without snapshots (${e.code})\n`);
    }
  }
  return machines;
}

/**
 * `actorlog inspect <db> [streamId]`: re-sends the recorded run of one actor (with its children),
 * or of every actor of the log in the log's order, to the Stately Inspector, as the inspection
 * events of `@statelyai/inspect` over its WebSocket transport (one JSON text frame per event, see
 * {@link inspectionEvents}): each actor's registration with its statechart (from the definition
 * stored in the log), the events it received with their senders, and its snapshots, replayed with
 * the stream's machine as `actorlog replay` does. A stream whose machine is not registered or differs
 * (without `ignoreHash`) is sent without snapshots, with a warning. The log is opened read-only.
 * Start the inspector's server first (`createInspectorServer()` from `@statelyai/inspect/server`
 * listens on `ws://localhost:8080` and buffers the last 200 events for the inspector page).
 *
 * @returns 0, after printing what was sent
 * @throws ActorlogError `STREAM_NOT_FOUND`, `STORE_UNAVAILABLE`, `SCHEMA_VERSION`, `INVALID_OPTIONS`
 *   (`--url` not ws:// or wss://), `TRANSIENT` (the inspector's server cannot be reached)
 * @example
 * ```sh
 * actorlog inspect ./actorlog.db job-7 --to 12
 * actorlog inspect ./actorlog.db --url ws://127.0.0.1:8080
 * ```
 */
export async function runInspect(
  dbPath: string,
  streamId: string | undefined,
  registry: MachineRegistry,
  options: InspectCommandOptions,
  out: Out,
  err: Out,
): Promise<number> {
  const url = options.url ?? DEFAULT_INSPECTOR_URL;
  const log = await openLogCopy(dbPath);
  const store = log.store;
  try {
    let streams: StreamRecord[];
    if (streamId === undefined) streams = store.listStreams();
    else {
      const stream = store.getStream(streamId);
      if (!stream) throw new ActorlogError('STREAM_NOT_FOUND', `no stream "${streamId}" in ${dbPath}`, { details: { streamId } });
      streams = [stream];
    }
    const machines = await machinesOf(streams, registry, options.ignoreHash ?? false, err);
    const socket = await connect(url, options.connectTimeoutMs ?? 10_000);
    const summary: InspectSummary = { url, streams: streams.length, actors: 0, events: 0, snapshots: 0 };
    const count: Record<InspectorEvent['type'], keyof InspectSummary> = {
      '@xstate.actor': 'actors',
      '@xstate.event': 'events',
      '@xstate.snapshot': 'snapshots',
    };
    try {
      let pending: Promise<void> = Promise.resolve();
      let n = 0;
      for (const event of inspectionEvents(store, { streamId, to: options.to, machines })) {
        pending = send(socket, JSON.stringify(event));
        (summary[count[event.type]] as number)++;
        if (++n % WINDOW === 0) await pending;
      }
      await pending;
    } catch (e) {
      throw isActorlogError(e)
        ? e
        : new ActorlogError('TRANSIENT', `sending to the inspector at ${url} failed: ${describeError(e).message}`, { cause: e, details: { url } });
    } finally {
      await close(socket);
    }
    out.write(
      options.json
        ? jsonLine(summary)
        : `sent ${summary.actors} actor(s), ${summary.events} event(s), ${summary.snapshots} snapshot(s) of ${summary.streams} stream(s) to ${url}\n`,
    );
    return ExitCodes.OK;
  } finally {
    await log.close();
  }
}

/** `actorlog inspect <db> [streamId] [--to N] [--url ws-url] [--machines m] [--ignore-hash] [--json]`: its arguments, options and help. */
export function inspectCommand(ctx: CommandContext): Command {
  return new Command('inspect')
    .description('re-send the recorded run of an actor (or of all) to the Stately Inspector over its WebSocket protocol')
    .argument('<db>', 'the log file or postgres:// URL')
    .argument('[streamId]', 'only this stream (its actor and children); default every stream, in log order')
    .option('--to <n>', 'stop after this stream version (with streamId) or global position (without)', parseCount)
    .option('--url <ws-url>', "the inspector's WebSocket server", DEFAULT_INSPECTOR_URL)
    .addOption(machinesOption())
    .addOption(ignoreHashOption('replay snapshots'))
    .option('--json', 'print the summary as one JSON object')
    .action(async (db: string, streamId: string | undefined, opts: InspectCommandOptions & { machines?: string }) => {
      ctx.result.code = await runInspect(db, streamId, await ctx.registry(opts.machines), opts, ctx.io.out, ctx.io.err);
    });
}

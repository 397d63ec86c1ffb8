/**
 * A GraphQL subscription over graphql-ws (`npm run example:graphql-ws`), journaled: a real
 * `graphql-ws` server (test/servers/graphql-ws-server.ts, started detached so it outlives this
 * process) emits numbered ticks; the WebSocket source logs in with `connection_init` on every
 * open (`onOpen`), then, on the server's `connection_ack`, subscribes with `after` = the last
 * tick delivered (sent through the source's `outgoing` Subject, as the server's `ping`s are answered), and each tick is appended to the log before the machine counts it.
 * Kill it at any moment (kill -9 too) and start it again on the same file: it recovers the stream
 * and finishes with every tick once, none lost, none doubled.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Subject } from 'rxjs';
import { assign, fromCallback, sendTo, setup } from 'xstate';
import { z } from 'zod';
import { createActorSystem, describeError, type ErrorInfo } from '../src/index.ts';
import { webSocket, type WebSocketEvent, type WebSocketSourceOptions } from '../src/sources/webSocket/index.ts';
import { decodeJson, keepRaw, keepRawBytes } from '../src/transport/index.ts';
import { openLogStore, shownLog } from './openLogStore.ts';
import { ensureServer } from './server-process.ts';

/** graphql-ws messages from the server (the `graphql-transport-ws` protocol). */
const ServerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('connection_ack') }),
  z.object({ type: z.literal('ping') }),
  z.object({ type: z.literal('pong') }),
  z.object({
    type: z.literal('next'),
    id: z.string(),
    payload: z.object({
      data: z.object({ ticks: z.object({ seq: z.number().int(), text: z.string() }) }).nullish(),
      errors: z.array(z.object({ message: z.string() })).optional(),
    }),
  }),
  z.object({ type: z.literal('error'), id: z.string(), payload: z.array(z.object({ message: z.string() })) }),
  z.object({ type: z.literal('complete'), id: z.string() }),
]);

const WS = { source: 'ws' } as const;
type Meta = { source: 'ws'; cursor?: string };
export type TicksEvent =
  | { type: 'tick'; seq: number; text: string; meta?: Meta }
  | { type: 'ticks.complete'; meta?: Meta }
  | { type: 'ticks.closed'; code: number; reason: string; delivered: number; reconnect: boolean; meta?: Meta }
  | { type: 'ticks.invalid'; raw: string; error: string; meta?: Meta }
  | { type: 'ticks.failed'; message: string; meta?: Meta }
  | { type: 'ticks.stop' };

/** The largest frame read and decoded by default, bytes: the WebSocket source's own default (16 MiB). */
export const GRAPHQL_WS_MAX_FRAME_BYTES = 16 * 1024 * 1024;

const SUBSCRIPTION = 'subscription Ticks($after: Int, $count: Int!) { ticks(after: $after, count: $count) { seq text } }';
const ID = 'ticks';

/**
 * One source event as the machine's events: a tick (its seq the cursor), the end, an invalid
 * frame (also a message for an operation id other than ours), a close; an open, the `connection_ack` and pings are not logged, so a refused login
 * leaves one event per try (its close). The ack is answered with the subscribe, a ping with a pong.
 */
function toEvents(e: WebSocketEvent, reply: (what: 'pong' | 'subscribe') => void, maxBytes: number): TicksEvent[] {
  if (e.type === 'close') return [{ type: 'ticks.closed', code: e.code, reason: e.reason, delivered: e.delivered, reconnect: e.reconnect, meta: WS }];
  if (e.type === 'invalid') return [{ type: 'ticks.invalid', raw: e.bytes ? keepRawBytes(e.bytes).raw : '', error: e.error, meta: WS }];
  if (e.type !== 'message') return [];
  if (e.text === undefined) return [{ type: 'ticks.invalid', raw: keepRawBytes(e.bytes ?? Buffer.alloc(0)).raw, error: 'a binary frame', meta: WS }];
  const m = decodeJson(e.text, ServerMessage, { maxBytes }); // a frame the socket took decodes: the same bound
  if (!m.ok) return [{ type: 'ticks.invalid', raw: m.raw, error: m.error, meta: WS }];
  const msg = m.value;
  // A next, error or complete for an operation id that is not ours (a server that reuses or mixes up
  // ids) is recorded, never taken as a tick or as our end.
  if ('id' in msg && msg.id !== ID)
    return [{ type: 'ticks.invalid', raw: keepRaw(e.text), error: `a ${msg.type} for operation "${msg.id}", not ours ("${ID}")`, meta: WS }];
  if (msg.type === 'ping') reply('pong');
  if (msg.type === 'connection_ack') reply('subscribe');
  if (msg.type === 'next' && msg.payload.data?.ticks) {
    const { seq, text } = msg.payload.data.ticks;
    return [{ type: 'tick', seq, text, meta: { source: 'ws', cursor: String(seq) } }];
  }
  if (msg.type === 'next' || msg.type === 'error') {
    const errors = msg.type === 'error' ? msg.payload : (msg.payload.errors ?? []);
    return [
      {
        type: 'ticks.failed',
        message:
          errors
            .map((x) => x.message)
            .join('; ')
            .slice(0, 500) || 'a next without data',
        meta: WS,
      },
    ];
  }
  if (msg.type === 'complete') return [{ type: 'ticks.complete', meta: WS }];
  return [];
}

/** Options of {@link graphqlTicksMachine}; the token stays in this closure, never in the log. */
export interface GraphqlTicksOptions {
  url: string;
  token?: string;
  /** The socket's options; `maxPayloadBytes` (16 MiB by default) also bounds the decode of a frame: a tick over 1 MiB is ordinary. */
  webSocket?: Pick<WebSocketSourceOptions, 'reconnect' | 'scheduler' | 'pingIntervalMs' | 'stallTimeoutMs' | 'maxPayloadBytes'>;
}

/**
 * The journaled subscriber: `subscribed` (the receive actor: the WebSocket source in message
 * mode, resuming with `after` = its input cursor) -> `done` after the server's `complete`, or
 * `failed` with the error (a refused login, 4403, ends it at once: a permanent close). A tick at
 * or below the last one is counted as a duplicate, never applied twice. `ticks.stop` sends the
 * graphql-ws `complete` (a command from the machine, through the receive actor) and stops.
 */
export function graphqlTicksMachine(options: GraphqlTicksOptions) {
  return setup({
    types: {
      context: {} as {
        count: number;
        lastSeq: number;
        received: number;
        duplicates: number;
        invalid: number;
        closes: number;
        lastClose?: string;
        error?: ErrorInfo;
      },
      events: {} as TicksEvent,
      input: {} as { count: number },
    },
    actors: {
      receive: fromCallback<{ type: 'ws.send'; data: string }, { count: number; cursor?: string }>(({ input, sendBack, receive }) => {
        const outgoing = new Subject<string>();
        const maxBytes = options.webSocket?.maxPayloadBytes ?? GRAPHQL_WS_MAX_FRAME_BYTES;
        receive((e) => outgoing.next(e.data));
        let after = input.cursor === undefined ? null : Number(input.cursor); // the last tick delivered
        const subscribe = () => JSON.stringify({ type: 'subscribe', id: ID, payload: { query: SUBSCRIPTION, variables: { after, count: input.count } } });
        const sub = webSocket(options.url, {
          ...options.webSocket,
          protocols: ['graphql-transport-ws'],
          cursor: input.cursor,
          // every open logs in; the subscribe (after the last tick delivered) follows the server's connection_ack
          onOpen: () => [JSON.stringify({ type: 'connection_init', payload: options.token === undefined ? {} : { token: options.token } })],
          outgoing,
        }).subscribe({
          next: (e) => {
            for (const ev of toEvents(e, (reply) => outgoing.next(reply === 'pong' ? JSON.stringify({ type: 'pong' }) : subscribe()), maxBytes)) {
              if (ev.type === 'tick') after = ev.seq;
              sendBack(ev);
            }
          },
          error: (err) => sendBack({ type: 'ticks.failed', message: describeError(err).message, meta: WS }),
        });
        return () => sub.unsubscribe();
      }),
    },
    guards: {
      fresh: ({ context, event }) => event.type === 'tick' && event.seq > context.lastSeq,
      allReceived: ({ context }) => context.lastSeq >= context.count,
    },
  }).createMachine({
    id: 'graphqlTicks',
    context: ({ input }) => ({ count: input.count, lastSeq: 0, received: 0, duplicates: 0, invalid: 0, closes: 0 }),
    initial: 'subscribed',
    states: {
      subscribed: {
        invoke: {
          id: 'receive',
          src: 'receive',
          input: ({ context }) => ({ count: context.count, cursor: context.lastSeq === 0 ? undefined : String(context.lastSeq) }),
        },
        on: {
          tick: [
            {
              guard: 'fresh',
              actions: assign({ lastSeq: ({ event }) => (event.type === 'tick' ? event.seq : 0), received: ({ context }) => context.received + 1 }),
            },
            { actions: assign({ duplicates: ({ context }) => context.duplicates + 1 }) },
          ],
          'ticks.complete': [
            { guard: 'allReceived', target: 'done' },
            {
              target: 'failed',
              actions: assign({
                error: ({ context }) => ({
                  name: 'ActorlogError',
                  code: 'INVALID_PAYLOAD',
                  message: `the server completed at tick ${context.lastSeq} of ${context.count}`,
                }),
              }),
            },
          ],
          'ticks.invalid': { actions: assign({ invalid: ({ context }) => context.invalid + 1 }) },
          'ticks.closed': {
            actions: assign({
              closes: ({ context }) => context.closes + 1,
              lastClose: ({ event }) => (event.type === 'ticks.closed' ? `${event.code} ${event.reason}`.trim() : undefined),
            }),
          },
          'ticks.failed': {
            target: 'failed',
            actions: assign({ error: ({ event }) => ({ name: 'ActorlogError', message: event.type === 'ticks.failed' ? event.message : '' }) }),
          },
          'ticks.stop': { target: 'stopped', actions: sendTo('receive', { type: 'ws.send', data: JSON.stringify({ type: 'complete', id: ID }) }) },
        },
      },
      done: { type: 'final' },
      stopped: { type: 'final' },
      failed: { type: 'final' },
    },
  });
}

/**
 * The machines of this example's streams, for `actorlog replay --verify --machines examples/graphql-ws.ts`
 * (the URL and token are closure values: they do not count in the machine's hash).
 */
export const machines = { ticks: graphqlTicksMachine({ url: 'ws://127.0.0.1:0/graphql' }) };

async function main() {
  const { Command, InvalidArgumentError } = await import('commander');
  const int = (name: string) => (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number >= 1`);
    return n;
  };
  const opts = new Command('graphql-ws-example')
    .description(
      'Follow a graphql-ws subscription into a journaled actor; recover whatever the log holds first. ' +
        'The login token is read from GQL_TOKEN, the token a started server accepts from GQL_SERVER_TOKEN (both default example-token): never from the command line.',
    )
    .option('--db <path>', 'the SQLite log (env ACTORLOG_DB)', process.env.ACTORLOG_DB ?? './graphql-ws.db')
    .option('--count <n>', 'ticks the subscription delivers', int('--count'), 50)
    .option('--step-ms <ms>', 'delay between ticks of a started server', int('--step-ms'), 50)
    .option('--server-url <url>', 'use this graphql-ws endpoint instead of starting the example server')
    .option('--max-attempts <n>', 'reconnects in a row before the subscription fails', int('--max-attempts'), 3)
    .option('--stream <id>', 'the stream id', 'graphql-ticks')
    .parse()
    .opts<{ db: string; count: number; stepMs: number; serverUrl?: string; maxAttempts: number; stream: string }>();
  const token = process.env.GQL_TOKEN ?? 'example-token';

  const store = await openLogStore(opts.db);
  const server = opts.serverUrl
    ? undefined
    : await ensureServer({
        db: opts.db,
        name: 'graphql-ws',
        module: fileURLToPath(new URL('../test/servers/graphql-ws-server.ts', import.meta.url)),
        env: { PORT: '0', GQL_TOKEN: process.env.GQL_SERVER_TOKEN ?? 'example-token', GQL_STEP_MS: String(opts.stepMs) },
      });
  const url = opts.serverUrl ?? server!.url;
  console.log(`graphql-ws example: log ${shownLog(opts.db)}, server ${url}${server?.reused ? ' (left by an earlier run)' : ''}`);
  const machine = graphqlTicksMachine({ url, token, webSocket: { reconnect: { maxAttempts: opts.maxAttempts, baseMs: 200 } } });
  const system = createActorSystem({ store, machines: { ticks: machine } });
  const report = await system.recover();
  console.log(`recovered ${report.recovered.length} actors${report.finished.length ? `, ${report.finished.length} found finished` : ''}`);
  let actor = system.get<typeof machine>(opts.stream);
  if (!actor && !(await store.getStream(opts.stream))) actor = system.spawn('ticks', { id: opts.stream, input: { count: opts.count } });
  if (!actor) {
    // Finished by an earlier run (a kill may have landed in its shutdown): its server is no longer needed.
    console.log(`stream ${opts.stream} is already ${(await store.getStream(opts.stream))?.status}; use another --db or --stream`);
    await server?.stop();
  } else {
    // The process exits once the system has closed (its pending appends committed) and the store with it;
    // a close that fails is printed, and the process exits all the same.
    process.once('SIGINT', () => {
      void (async () => {
        try {
          await system.close();
          await store.close();
          console.log('\nstopped; start again to finish');
        } catch (err) {
          console.error(`graphql-ws example: ${(err as Error).message}`);
        } finally {
          process.exit(130);
        }
      })();
    });
    let shown = -1;
    actor.subscribe((s) => {
      if (s.context.received !== shown && s.context.received % 10 === 0) {
        shown = s.context.received;
        console.log(`ticks ${s.context.lastSeq}/${s.context.count}`);
      }
    });
    const end = await actor.waitFor((s) => s.status !== 'active');
    const c = end.context;
    console.log(
      `${String(end.value)}: ${c.received} ticks (last ${c.lastSeq}), ${c.duplicates} duplicates, ${c.invalid} invalid, ${c.closes} closes${c.error ? `; ${c.error.message}` : ''}`,
    );
    const seqs = (await store.readStream(opts.stream)).filter((r) => r.type === 'tick').map((r) => (r.data as { seq: number }).seq);
    const once = seqs.length === new Set(seqs).size && seqs.every((s, i) => s === i + 1);
    console.log(`log: ${seqs.length} ticks, ${once ? 'each once and in order' : 'NOT each once in order'}`);
    await server?.stop(); // the stream has ended (done, stopped or failed): a later start finds it finished
    console.log(`replay it: npm run -s actorlog -- replay ${shownLog(opts.db)} ${opts.stream} --verify --machines examples/graphql-ws.ts`);
    process.exitCode = end.value === 'done' && once ? 0 : 1;
  }
  await system.close();
  await store.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();

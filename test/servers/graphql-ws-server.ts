import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';

/**
 * A real graphql-ws server (the `graphql-ws` package over `ws`, subprotocol
 * `graphql-transport-ws`) on 127.0.0.1, for the graphql-ws example and its tests: nobody here
 * wrote its protocol handling. One subscription, `ticks(after: Int, count: Int!)`, emits the
 * numbered events `after + 1 … count` (`{ seq, text: "tick <seq>" }`), one every `stepMs`, then
 * completes: a client resumes by subscribing again with the last `seq` it holds as `after`.
 * `connection_init` must carry `{ token }` when a token is set; otherwise the server closes the
 * socket with 4403 Forbidden after accepting it, as graphql-ws does for a refused `onConnect`.
 *
 * As strict as a real peer (`faults`, live): ticks slower than a client's stall bound (`stepMs`),
 * ticks over 1 MiB (`bigTicks`), a frame sent twice with its operation id and seq (`repeatTicks`),
 * and a `next` for an operation id that is not the client's (`foreignNexts`: an id reused from
 * another subscription, as a server that mixes up operations would send).
 *
 * Run directly (`node --import tsx test/servers/graphql-ws-server.ts`) it listens on `PORT`
 * (default 0), with `GQL_TOKEN` and `GQL_STEP_MS`, and prints `listening on ws://127.0.0.1:<port>/graphql`.
 */
export interface GraphqlWsServerOptions {
  port?: number;
  /** The token `connection_init` must carry (`payload.token`); undefined: any client is accepted. */
  token?: string;
  /** Delay between two ticks, ms. @default 20 */
  stepMs?: number;
}

/** Faults of the graphql-ws test server, each a count consumed one tick at a time. */
export interface GraphqlWsServerFaults {
  /** The next N ticks are each sent twice (same operation id, same seq). */
  repeatTicks?: number;
  /** Before each of the next N ticks, a `next` for operation id `other` (seq `count`, the last) is sent. */
  foreignNexts?: number;
  /** The next N ticks carry a text of `bigTickBytes` (default 1.5 MiB): a frame over 1 MiB. */
  bigTicks?: number;
  bigTickBytes?: number;
}

export interface GraphqlWsServerHandle {
  /** `ws://127.0.0.1:<port>/graphql`. */
  url: string;
  stats: {
    /** Every connection_init, accepted or not. */
    connects: number;
    rejected: number;
    /** The `after` argument of every subscribe, in order. */
    subscribes: Array<number | null>;
    /** Ticks sent. */
    sent: number;
  };
  /** Live faults (see {@link GraphqlWsServerFaults}). */
  faults: GraphqlWsServerFaults;
  /** Drops every socket (a network failure, 1006 at the client). */
  dropAll(): void;
  close: () => Promise<void>;
}

// graphql-ws imports `graphql` as Node resolves it (graphql 16 has no exports map: its CommonJS
// index.js); a bundler would pick index.mjs, a second copy whose schema graphql-ws refuses ("from
// another module or realm"). Load the same copy graphql-ws uses.
const { buildSchema } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

const schema = buildSchema(`
  type Tick { seq: Int!, text: String! }
  type Query { ready: Boolean! }
  type Subscription { ticks(after: Int, count: Int!): Tick! }
`);

export async function startGraphqlWsServer(options: GraphqlWsServerOptions = {}): Promise<GraphqlWsServerHandle> {
  const stepMs = options.stepMs ?? 20;
  const stats: GraphqlWsServerHandle['stats'] = { connects: 0, rejected: 0, subscribes: [], sent: 0 };
  const faults: GraphqlWsServerFaults = {};
  const take = (key: 'repeatTicks' | 'foreignNexts' | 'bigTicks') => {
    const n = faults[key] ?? 0;
    if (n > 0) faults[key] = n - 1;
    return n > 0;
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const roots = {
    query: { ready: () => true },
    subscription: {
      async *ticks({ after, count }: { after?: number | null; count: number }) {
        stats.subscribes.push(after ?? null);
        for (let seq = (after ?? 0) + 1; seq <= count; seq++) {
          await sleep(stepMs);
          stats.sent += 1;
          const text = take('bigTicks') ? `tick ${seq} `.padEnd(faults.bigTickBytes ?? 1.5 * 1024 * 1024, 'x') : `tick ${seq}`;
          yield { ticks: { seq, text } };
        }
      },
    },
  };
  const http = createServer((_req, res) => {
    res.writeHead(404);
    res.end();
  });
  const wss = new WebSocketServer({ server: http, path: '/graphql' });
  useServer(
    {
      schema,
      roots,
      onConnect: (ctx) => {
        stats.connects += 1;
        const ok = options.token === undefined || (ctx.connectionParams as { token?: unknown } | undefined)?.token === options.token;
        if (!ok) stats.rejected += 1;
        return ok;
      },
      // Faults are sent on the socket as raw frames, beside the one the library sends after this hook.
      onNext: (ctx, id, _payload, args, result) => {
        const socket = (ctx.extra as { socket: { send(data: string): void } }).socket;
        const count = (args.variableValues as { count?: number } | undefined)?.count ?? 0;
        if (take('foreignNexts')) socket.send(JSON.stringify({ id: 'other', type: 'next', payload: { data: { ticks: { seq: count, text: 'not yours' } } } }));
        if (take('repeatTicks')) socket.send(JSON.stringify({ id, type: 'next', payload: result }));
      },
    },
    wss,
  );
  await new Promise<void>((r) => http.listen(options.port ?? 0, '127.0.0.1', r));
  return {
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/graphql`,
    stats,
    faults,
    dropAll: () => {
      for (const c of wss.clients) c.terminate();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        http.closeAllConnections();
        http.close(() => r());
      }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = await startGraphqlWsServer({
    port: Number(process.env.PORT ?? 0),
    token: process.env.GQL_TOKEN || undefined,
    stepMs: process.env.GQL_STEP_MS ? Number(process.env.GQL_STEP_MS) : undefined,
  });
  console.log(`listening on ${server.url}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { createParser } from 'eventsource-parser';
import { concatMap, EMPTY, lastValueFrom, map, of } from 'rxjs';
import { request } from 'undici';
import { fromEventObservable } from 'xstate';
import { sessionMachine } from '../machines/session/index.ts';
import type { SessionWireEvent } from '../machines/session/events.ts';
import { createActorSystem, type CommitMode } from '../src/index.ts';
import { sse } from '../src/sources/sse/index.ts';
import { openSqliteStore } from '../stores/sqlite/index.ts';

/** Options of {@link measureSse}. */
export interface MeasureSseOptions {
  /** Events the server streams per measurement. @default 20000 */
  events?: number;
  /** Events per run of the source alone and of the bare loop. @default max(events, 50000) */
  sourceEvents?: number;
  /** Alternated runs of each (the median reported). @default 5 */
  sourceRuns?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** Events per run of the source alone and of the bare loop (at least): a run of fewer lasts a few ms. */
const SOURCE_EVENTS = 50_000;
/** Alternated runs of the source alone and of the bare loop; the median of each is reported. */
const SOURCE_RUNS = 5;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

/** What {@link measureSse} reports, in events per second. */
export interface SseFigures {
  /** Events per journaled run. */
  events: number;
  /** Events per run of the source alone and of the bare loop (at least 50,000 by default). */
  sourceEvents: number;
  /** Alternated runs of the source alone and of the bare loop; the median of each is reported. */
  sourceRuns: number;
  /** Events from a local HTTP server through the SSE source (undici + eventsource-parser), a journaled session actor and the SQLite log (commit each). */
  journaledPerSec: number;
  /** The same with group commit (`commit: 'tick'`). */
  journaledTickPerSec: number;
  /** The same events through the SSE source alone (no actor, no log). */
  sourcePerSec: number;
  /** The same events read by a bare eventsource-parser loop over undici (the baseline). */
  barePerSec: number;
  /** journaledPerSec / barePerSec. */
  ratio: number;
  /** sourcePerSec / barePerSec. */
  sourceRatio: number;
}

/** A local server that streams `events` SSE events (`id:` n, a small JSON `data:`), 200 per write, then ends. */
async function eventServer(events: number): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let chunk = '';
    for (let i = 1; i <= events; i++) {
      chunk += `id: ${i}\ndata: {"type":"tick","n":${i}}\n\n`;
      if (i % 200 === 0) {
        res.write(chunk);
        chunk = '';
      }
    }
    res.end(chunk);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, server };
}

async function bare(url: string, events: number): Promise<number> {
  const start = performance.now();
  let n = 0;
  const parser = createParser({
    onEvent: () => {
      n += 1;
    },
  });
  const res = await request(url, { headers: { accept: 'text/event-stream' } });
  const decoder = new TextDecoder();
  for await (const chunk of res.body) parser.feed(decoder.decode(chunk as Buffer, { stream: true }));
  if (n !== events) throw new Error(`bare loop read ${n} of ${events} events`);
  return events / ((performance.now() - start) / 1000);
}

async function sourceOnly(url: string, events: number): Promise<number> {
  const start = performance.now();
  let n = 0;
  await lastValueFrom(
    sse({ request: url, reconnectOnEnd: false }).pipe(
      map((item) => {
        if (item.kind === 'message') n += 1;
      }),
    ),
    { defaultValue: undefined },
  );
  if (n !== events) throw new Error(`source delivered ${n} of ${events} events`);
  return events / ((performance.now() - start) / 1000);
}

async function journaled(url: string, events: number, commit: CommitMode, dir: string): Promise<number> {
  const store = openSqliteStore(join(dir, `sse-${commit}.db`));
  // The session machine with a bench binding: opened at once, every SSE event a `session.event` with its id as cursor.
  const machine = sessionMachine.provide({
    actors: {
      open: fromEventObservable(() => of<SessionWireEvent>({ type: 'session.opened', remoteId: 'bench', status: 'idle' })),
      events: fromEventObservable(() =>
        sse({ request: url, reconnectOnEnd: false }).pipe(
          concatMap((item) =>
            item.kind === 'message' ? of<SessionWireEvent>({ type: 'session.event', kind: 'tick', meta: { source: 'sse', cursor: item.cursor } }) : EMPTY,
          ),
        ),
      ),
    } as never,
  });
  const system = createActorSystem({ store, machines: { session: machine }, commit });
  try {
    const start = performance.now();
    const actor = system.spawn('session', { id: `bench-${commit}`, input: { sessionKey: `bench-${commit}` } });
    await actor.waitFor((s) => s.context.events >= events, { timeoutMs: 600_000 });
    const perSec = events / ((performance.now() - start) / 1000);
    await system.close();
    const logged = store.readStream(`bench-${commit}`).filter((r) => r.meta.source === 'sse').length;
    if (logged !== events) throw new Error(`the log holds ${logged} of ${events} events`);
    return perSec;
  } finally {
    store.close();
  }
}

/**
 * SSE throughput: `events` Server-Sent Events from a local HTTP server (127.0.0.1) through the SSE
 * source, a journaled session actor and the SQLite log, against the same events read by a bare
 * eventsource-parser loop over undici, measured in the same run (and the source alone, to tell the
 * parsing cost from the journal's: at least 50,000 events per run, the median of 5 runs alternated
 * with the bare loop's, both warmed up). Temporary files are removed afterwards. Nothing asserts speed.
 *
 * @example
 * ```ts
 * const f = await measureSse({ events: 20_000 });
 * console.log(f.journaledPerSec, f.barePerSec, f.ratio);
 * ```
 */
export async function measureSse(options: MeasureSseOptions = {}): Promise<SseFigures> {
  const events = options.events ?? 20_000;
  const sourceEvents = options.sourceEvents ?? Math.max(events, SOURCE_EVENTS);
  const sourceRuns = options.sourceRuns ?? SOURCE_RUNS;
  const log = options.log ?? (() => undefined);
  const { url, server } = await eventServer(events);
  const source = await eventServer(sourceEvents);
  const dir = mkdtempSync(join(tmpdir(), 'actorlog-bench-sse-'));
  try {
    // the source alone against the bare loop: both warmed up, then alternated, the median of each
    // (a run is a few ms: one run alone says more about the machine's other load than about the code)
    await bare(source.url, sourceEvents);
    await sourceOnly(source.url, sourceEvents);
    const bares: number[] = [];
    const sources: number[] = [];
    for (let r = 0; r < sourceRuns; r++) {
      bares.push(await bare(source.url, sourceEvents));
      sources.push(await sourceOnly(source.url, sourceEvents));
    }
    const barePerSec = median(bares);
    const sourcePerSec = median(sources);
    log(
      `sse: bare eventsource-parser loop ${Math.round(barePerSec)}/s, source ${Math.round(sourcePerSec)}/s (${sourceEvents} events, median of ${sourceRuns})`,
    );
    const journaledPerSec = await journaled(url, events, 'each', dir);
    log(`sse: journaled (commit each) ${Math.round(journaledPerSec)}/s`);
    const journaledTickPerSec = await journaled(url, events, 'tick', dir);
    log(`sse: journaled (commit tick) ${Math.round(journaledTickPerSec)}/s`);
    return {
      events,
      sourceEvents,
      sourceRuns,
      journaledPerSec,
      journaledTickPerSec,
      sourcePerSec,
      barePerSec,
      ratio: journaledPerSec / barePerSec,
      sourceRatio: sourcePerSec / barePerSec,
    };
  } finally {
    await new Promise((r) => server.close(r));
    await new Promise((r) => source.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const events = Number(process.argv[2]) || undefined;
  const figures = await measureSse({ events, log: (l) => process.stderr.write(`${l}\n`) });
  console.log(JSON.stringify(figures, null, 2));
}

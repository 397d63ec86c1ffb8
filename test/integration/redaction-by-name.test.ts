// Secrets are named where they enter (binding closures, transports' credential
// headers, the raw of `*.invalid` frames), never guessed from words in the data.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { map } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assign, fromEventObservable, setup } from 'xstate';
import { z } from 'zod';
import { createActorSystem, verifyReplay } from 'actorlog';
import { sse } from 'actorlog/sources/sse';
import { parseJsonFrame, REDACTED } from 'actorlog/transport';
import { openSqliteStore } from 'actorlog/stores/sqlite';
import { tempDb } from '../support/tempDb.ts';

/** Every byte of the log: the file and its -wal and -shm companions. */
function logBytes(path: string): string {
  return ['', '-wal', '-shm'].map((s) => (existsSync(path + s) ? readFileSync(path + s).toString('latin1') : '')).join('');
}

type Ev =
  | { type: 'search'; query: string }
  | { type: 'page'; next_page_token: string; tokenizer: string }
  | { type: 'progress'; params: { progressToken: string; progress: number } };

/** A user's machine that keeps whatever it is told: the log must not change it. */
const keeper = setup({
  types: { input: {} as { query: string; next_page_token: string }, context: {} as { input: unknown; seen: unknown[] }, events: {} as Ev },
}).createMachine({
  id: 'keeper',
  context: ({ input }) => ({ input, seen: [] }),
  on: { '*': { actions: assign({ seen: ({ context, event }) => [...context.seen, event] }) } },
});

describe('ordinary data is logged and delivered as sent', () => {
  const db = tempDb();
  afterAll(() => db.cleanup());

  it('"Basic usage of git", next_page_token, tokenizer and progressToken reach the machine and the SQLite file unchanged', async () => {
    const store = openSqliteStore(db.path);
    const system = createActorSystem({ store, machines: { keeper } });
    const input = { query: 'Basic usage of git', next_page_token: 'npt-input-1' };
    const events: Ev[] = [
      { type: 'search', query: 'Basic usage of git' },
      { type: 'page', next_page_token: 'npt-page-2', tokenizer: 'cl100k_base' },
      { type: 'progress', params: { progressToken: 'job-1:p1', progress: 3 } },
    ];
    const actor = system.spawn('keeper', { id: 'k-1', input });
    for (const e of events) actor.send(e);

    expect(actor.getSnapshot().context).toEqual({ input, seen: events });
    expect(store.getStream('k-1')!.input).toEqual(input);
    expect(store.readStream('k-1').map((r) => ({ type: r.type, ...(r.data as object) }))).toEqual(events);
    system.stop('k-1');
    expect(await verifyReplay(store, keeper, 'k-1')).toMatchObject({ ok: true });
    const bytes = logBytes(db.path);
    for (const text of ['Basic usage of git', 'npt-input-1', 'npt-page-2', 'cl100k_base', 'job-1:p1']) expect(bytes).toContain(text);
    expect(bytes).not.toContain(REDACTED);
    store.close();
  });
});

// A small binding of the user's: an SSE feed behind a bearer token. The token is an option (kept in
// the closure); the server answers with a session cookie and a declared secret header, and one frame
// that is not JSON and quotes the token and a JWT.
const TOKEN = 'tok-SECRET-bearer-1';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJTRUNSRVQtNCJ9.c2lnLVNFQ1JFVC00';
const FrameSchema = z.object({ kind: z.string(), text: z.string().optional() });
type FeedEvent =
  | { type: 'feed.open'; headers: Record<string, string> }
  | { type: 'feed.frame'; frame: z.infer<typeof FrameSchema> }
  | { type: 'feed.invalid'; raw: string; error: string };

function feedMachine(options: { url: string; token: string }) {
  return setup({
    types: { context: {} as { frames: string[]; invalid: number }, events: {} as FeedEvent },
    actors: {
      feed: fromEventObservable(() =>
        sse({ request: options.url, headers: { authorization: `Bearer ${options.token}` }, secretHeaders: ['X-Session-Token'], reconnectOnEnd: false }).pipe(
          map((item): FeedEvent => {
            if (item.kind === 'open') return { type: 'feed.open', headers: item.headers };
            if (item.kind !== 'message') throw new Error(`unexpected ${item.kind}`);
            const frame = parseJsonFrame(item.data, FrameSchema);
            return frame.ok ? { type: 'feed.frame', frame: frame.value } : { type: 'feed.invalid', raw: frame.raw, error: frame.error };
          }),
        ),
      ),
    },
  }).createMachine({
    id: 'feed',
    context: { frames: [], invalid: 0 },
    initial: 'reading',
    states: {
      reading: {
        invoke: { id: 'feed', src: 'feed', onDone: 'done' },
        on: {
          'feed.frame': { actions: assign({ frames: ({ context, event }) => [...context.frames, event.frame.text ?? event.frame.kind] }) },
          'feed.invalid': { actions: assign({ invalid: ({ context }) => context.invalid + 1 }) },
        },
      },
      done: { type: 'final' },
    },
  });
}

describe('a binding-declared secret never reaches the file', () => {
  let server: Server;
  let url = '';
  const db = tempDb();
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'set-cookie': 'sid=cookie-SECRET-2; HttpOnly',
        'x-session-token': 'hdr-SECRET-3',
        'x-request-id': 'req-42',
      });
      res.write('id: 1\ndata: {"kind":"hello","text":"Basic usage of git"}\n\n');
      res.write(`id: 2\ndata: Authorization: Bearer ${TOKEN}, session ${JWT}\n\n`);
      res.end('id: 3\ndata: {"kind":"bye"}\n\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    db.cleanup();
  });

  it('redacts the credential and declared headers and scrubs the invalid frame; ordinary text stays', async () => {
    const store = openSqliteStore(db.path);
    const machine = feedMachine({ url, token: TOKEN });
    const system = createActorSystem({ store, machines: { feed: machine } });
    const actor = system.spawn('feed', { id: 'f-1' });
    const final = await actor.waitFor((s) => s.status === 'done', { timeoutMs: 5_000 });
    expect(final.context).toEqual({ frames: ['Basic usage of git', 'bye'], invalid: 1 });

    const records = store.readStream('f-1');
    const open = records.find((r) => r.type === 'feed.open')!.data as { headers: Record<string, string> };
    expect(open.headers).toMatchObject({ 'set-cookie': REDACTED, 'x-session-token': REDACTED, 'x-request-id': 'req-42' });
    const invalid = records.find((r) => r.type === 'feed.invalid')!.data as { raw: string; error: string };
    expect(invalid.raw).toBe(`Authorization: Bearer ${REDACTED}, session ${REDACTED}`);
    expect(invalid.error).not.toContain('SECRET');
    expect(await verifyReplay(store, machine, 'f-1')).toMatchObject({ ok: true });

    const before = logBytes(db.path); // with the WAL in place
    store.close();
    for (const bytes of [before, logBytes(db.path)]) {
      expect(bytes).toContain('Basic usage of git');
      expect(bytes).not.toContain('SECRET');
      expect(bytes).not.toContain(TOKEN);
    }
  });
});

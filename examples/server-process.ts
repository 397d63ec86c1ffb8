/**
 * The examples' servers as processes of their own, so a client killed with kill -9 finds its
 * server again when it starts over on the same log file (the main job's agent, the molecule
 * platform, the yoi backend, the MCP server, OpenCode with its model stub).
 *
 * Imported, it starts a server detached ({@link ensureServer}) and records it beside the db.
 * Run as a script (that is how {@link ensureServer} runs a server module with a `start` export),
 * it hosts one server: it imports the module, calls its start function with the options, prints
 * `listening on <url>`, and answers control requests (read a field of the server's handle, set
 * one, call a method: what the examples do to the platform in their script) until SIGTERM.
 */
import { localPathOf } from './openLogStore.ts';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { request } from 'undici';

const TSX = import.meta.resolve('tsx');
const SELF = fileURLToPath(import.meta.url);
const URL_LINE = /listening on ((?:http|ws):\/\/127\.0\.0\.1:\d+\S*)/;
const CONTROL_LINE = /control on (http:\/\/127\.0\.0\.1:\d+)/;
const CHILD_LINE = /child pid (\d+)/;

/** What a server module's start function returns: its URL and a way to close it (other fields are reachable by control). */
interface Hosted {
  url: string;
  pid?: number;
  close(): Promise<void>;
}

/** A control request to a hosted server: read, set or call the field at `path` (dots: `stub.options.chunkDelayMs`) of its handle. */
interface ControlRequest {
  op: 'get' | 'set' | 'call';
  path: string;
  value?: unknown;
  args?: unknown[];
  once?: string;
}

/** Control of a hosted server's handle, from another process. Values travel as JSON. */
export interface ServerControl {
  /** The value of the handle's field at `path`. */
  get<T = unknown>(path: string): Promise<T>;
  /** Sets the field at `path`. With `once`, a second request with that key does nothing (the server remembers it). */
  set(path: string, value: unknown, options?: { once?: string }): Promise<void>;
  /** Calls the method at `path` with `args`, and answers its (awaited) result. With `once`, a repeated key answers the first result without calling again. */
  call<T = unknown>(path: string, args?: unknown[], options?: { once?: string }): Promise<T>;
}

/** A server running as its own process (detached: it outlives the client that started it). */
export interface ServerProcess<TOptions = unknown> {
  /** The server's URL, as it printed it (`listening on <url>`). */
  url: string;
  /** The PID of the server process. */
  pid: number;
  /** The PID of a process the server runs itself (OpenCode's `opencode serve`), when it has one. */
  childPid?: number;
  /** True when a server left by an earlier run was found alive and reused. */
  reused: boolean;
  /** The options it was started with (read back from the record when reused): a password chosen then, for instance. */
  options: TOptions;
  /** Control of the server's handle; only for a module started by its `start` export. */
  control: ServerControl;
  /** Stops the server (SIGTERM to its PID; SIGKILL after 10 s) and removes its record. Resolves once the process is gone. */
  stop(): Promise<void>;
}

/** What {@link ensureServer} starts. */
export interface ServerSpec<TOptions> {
  /** The log file the server belongs to: its record is `<db>.<name>.json` (mode 0600), its output `<db>.<name>.log`. */
  db: string;
  name: string;
  /** The server module (a path). */
  module: string;
  /**
   * The module's export that starts the server: called with `options`, it resolves to a handle
   * with `url` and `close()`. Omitted: the module is run as a script and prints
   * `listening on <url>` itself (examples/a2a-agent-server.ts).
   */
  start?: string;
  /** JSON handed to `start` (through the environment, not the command line). Used only when a new server starts. */
  options?: TOptions;
  /** Extra environment of a new server process. */
  env?: Record<string, string>;
  /** Whether a recorded server still serves (beyond its PID being alive). @default a control request for a hosted module, else only the PID */
  answers?: (url: string) => Promise<boolean>;
  /** How long a new server may take to print its URL, ms. @default 20000 */
  startTimeoutMs?: number;
}

/**
 * What `<db>.<name>.json` holds. It is written before the server is spawned (`tag` only), again
 * with its `pid` right after, and with its `url` once it listens: a run killed at any point leaves
 * a record the next run can find the server by.
 */
interface ServerRecord {
  tag?: string;
  url?: string;
  pid?: number;
  childPid?: number;
  controlUrl?: string;
  controlToken?: string;
  options?: unknown;
}

/**
 * The processes whose environment carries `ACTORLOG_SERVER_TAG=<tag>`: a server spawned with that
 * tag (and what it spawned), found when the run that spawned it was killed before it could record
 * the PID. Reads `/proc` (Linux); elsewhere, none are found.
 */
function processesTagged(tag: string): number[] {
  if (!existsSync('/proc')) return [];
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`ACTORLOG_SERVER_TAG=${tag}`)) found.push(Number(entry));
    } catch {
      /* gone, or not ours */
    }
  }
  return found;
}

/**
 * Ends a server process and everything it started: SIGTERM to its process group (it was spawned
 * detached, so it leads one; OpenCode's `opencode serve` is in it), SIGKILL after 10 s.
 */
async function stopGroup(pid: number): Promise<void> {
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-pid, s);
    } catch {
      if (alive(pid)) process.kill(pid, s);
    }
  };
  if (alive(pid)) signal('SIGTERM');
  for (let waited = 0; alive(pid) && waited < 10_000; waited += 50) await sleep(50);
  if (alive(pid)) signal('SIGKILL');
  for (let waited = 0; alive(pid) && waited < 2_000; waited += 50) await sleep(50);
}

/** True while a process with this PID exists (signal 0 probes it). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function controlOf(record: ServerRecord): ServerControl {
  const send = async (body: ControlRequest): Promise<unknown> => {
    if (!record.controlUrl) throw new Error(`the server at ${record.url} has no control endpoint (it was not started by a start export)`);
    const res = await request(record.controlUrl, {
      method: 'POST',
      body: JSON.stringify(body),
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${record.controlToken}` },
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`control ${body.op} ${body.path} answered ${res.statusCode}: ${text}`);
    return text ? (JSON.parse(text) as { value?: unknown }).value : undefined;
  };
  return {
    get: async <T>(path: string) => (await send({ op: 'get', path })) as T,
    set: async (path, value, o = {}) => {
      await send({ op: 'set', path, value, once: o.once });
    },
    call: async <T>(path: string, args: unknown[] = [], o: { once?: string } = {}) => (await send({ op: 'call', path, args, once: o.once })) as T,
  };
}

/**
 * Reuses the server an earlier run left for this db (recorded in `<db>.<name>.json`) when its
 * process is alive and it answers, or starts a new one: `node --import tsx <module>` (or this file
 * hosting the module's `start` export), detached in its own process group with its output in
 * `<db>.<name>.log`, and records its URL and PID. A client killed at any point thus finds its
 * server, and the server's state (sessions, event buffers, what it executed), again.
 *
 * @throws Error when a new server does not print its URL within `startTimeoutMs` (its output is in `<db>.<name>.log`).
 * @example
 * ```ts
 * const platform = await ensureServer({ db, name: 'molecule', module: 'test/servers/molecule-server.ts', start: 'startMoleculeServer' });
 * await platform.control.call('addMessage', ['ws-1', 'ping'], { once: 'ping' });
 * // … at the end of the example:
 * await platform.stop();
 * ```
 */
export async function ensureServer<TOptions = unknown>(spec: ServerSpec<TOptions>): Promise<ServerProcess<TOptions>> {
  const recordFile = `${localPathOf(spec.db)}.${spec.name}.json`;
  const logFile = `${localPathOf(spec.db)}.${spec.name}.log`;
  const handle = (record: ServerRecord & { url: string; pid: number }, reused: boolean): ServerProcess<TOptions> => ({
    url: record.url,
    pid: record.pid,
    childPid: record.childPid,
    reused,
    options: record.options as TOptions,
    control: controlOf(record),
    async stop() {
      await stopGroup(record.pid);
      rmSync(recordFile, { force: true });
    },
  });
  const answers = async (record: ServerRecord & { url: string }) => {
    if (spec.answers) return spec.answers(record.url);
    if (!record.controlUrl) return true;
    try {
      return (await controlOf(record).get('url')) === record.url;
    } catch {
      return false;
    }
  };

  if (existsSync(recordFile)) {
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as ServerRecord;
    const ready = record.url !== undefined && record.pid !== undefined;
    if (ready && alive(record.pid!) && (await answers(record as ServerRecord & { url: string })))
      return handle(record as ServerRecord & { url: string; pid: number }, true);
    // A server an earlier run started but never saw ready (killed in its first second), or one that
    // no longer answers: stop it (and what it started) rather than leave it running for good.
    const pids = new Set([...(record.pid !== undefined ? [record.pid] : []), ...(record.tag ? processesTagged(record.tag) : [])]);
    for (const pid of pids) await stopGroup(pid);
    rmSync(recordFile, { force: true });
  }

  const controlToken = spec.start ? randomBytes(16).toString('hex') : undefined;
  const module = resolve(spec.module);
  const tag = randomBytes(8).toString('hex');
  const env: NodeJS.ProcessEnv = { ...process.env, ...spec.env, ACTORLOG_SERVER_TAG: tag };
  // The record comes first: a kill from here on leaves a server the next run finds (by its tag, then its PID) and stops or reuses.
  writeFileSync(recordFile, JSON.stringify({ tag, options: spec.options } satisfies ServerRecord), { mode: 0o600 });
  if (spec.start) {
    env.ACTORLOG_SERVER_MODULE = module;
    env.ACTORLOG_SERVER_START = spec.start;
    env.ACTORLOG_SERVER_OPTIONS = JSON.stringify(spec.options ?? {});
    env.ACTORLOG_CONTROL_TOKEN = controlToken;
  }
  const out = openSync(logFile, 'w', 0o600);
  const child = spawn(process.execPath, ['--import', TSX, spec.start ? SELF : module], { detached: true, stdio: ['ignore', out, out], env });
  closeSync(out);
  child.unref();
  const pid = child.pid!;
  writeFileSync(recordFile, JSON.stringify({ tag, pid, options: spec.options } satisfies ServerRecord), { mode: 0o600 });
  const timeoutMs = spec.startTimeoutMs ?? 20_000;
  for (let waited = 0; waited < timeoutMs; waited += 100) {
    const text = readFileSync(logFile, 'utf8');
    const url = URL_LINE.exec(text)?.[1];
    if (url) {
      const record: ServerRecord & { url: string; pid: number } = {
        tag,
        url,
        pid,
        childPid: CHILD_LINE.exec(text) ? Number(CHILD_LINE.exec(text)![1]) : undefined,
        controlUrl: CONTROL_LINE.exec(text)?.[1],
        controlToken,
        options: spec.options,
      };
      writeFileSync(recordFile, JSON.stringify(record), { mode: 0o600 });
      return handle(record, false);
    }
    if (!alive(pid)) break;
    await sleep(100);
  }
  await stopGroup(pid);
  rmSync(recordFile, { force: true });
  throw new Error(`the ${spec.name} server did not start within ${timeoutMs} ms; see ${logFile}`);
}

/** The run of an example on one log file: its stable id, and whether an earlier (killed) process started it. */
export interface ExampleRun {
  /** The run's id (the examples derive their stream ids from it). */
  id: string;
  /** True when the id was read from the record an earlier, unfinished run left. */
  resumed: boolean;
  /** Forgets the run (removes its record): the next start on this db begins a new run. */
  finish(): void;
}

/**
 * The id of this example's run on `db`, stable across kills: the one recorded in
 * `<db>.<name>.run.json` by an earlier run that did not finish, or a new one from `make()`,
 * recorded before anything else happens (mode 0600).
 * @example
 * ```ts
 * const run = exampleRun(db, 'mcp', () => `mcp-${Date.now().toString(36)}`);
 * // … spawn or recover the stream run.id, finish the script …
 * run.finish();
 * ```
 */
export function exampleRun(db: string, name: string, make: () => string): ExampleRun {
  const file = `${localPathOf(db)}.${name}.run.json`;
  const finish = () => rmSync(file, { force: true });
  if (existsSync(file)) return { id: (JSON.parse(readFileSync(file, 'utf8')) as { id: string }).id, resumed: true, finish };
  const id = make();
  writeFileSync(file, JSON.stringify({ id }), { mode: 0o600 });
  return { id, resumed: false, finish };
}

/** Walks `path` (dots) from `root`: the field's parent and its name. */
function resolvePath(root: object, path: string): { parent: Record<string, unknown>; key: string } {
  const keys = path.split('.');
  let parent = root as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) {
    const next = parent[key];
    if (next === null || typeof next !== 'object') throw new Error(`no object at ${key} of ${path}`);
    parent = next as Record<string, unknown>;
  }
  return { parent, key: keys.at(-1)! };
}

/** Host mode: the detached process that runs one server module and answers control requests. */
async function host(): Promise<void> {
  const { ACTORLOG_SERVER_MODULE: module, ACTORLOG_SERVER_START: start, ACTORLOG_SERVER_OPTIONS: options, ACTORLOG_CONTROL_TOKEN: token } = process.env;
  const exports = (await import(pathToFileURL(module!).href)) as Record<string, (o: unknown) => Promise<Hosted>>;
  const server = await exports[start!](JSON.parse(options ?? '{}'));
  const done = new Map<string, unknown>();
  const apply = async (req: ControlRequest): Promise<unknown> => {
    if (req.once !== undefined && done.has(req.once)) return done.get(req.once);
    const { parent, key } = resolvePath(server, req.path);
    let value: unknown;
    if (req.op === 'get') value = parent[key];
    else if (req.op === 'set') parent[key] = req.value;
    else value = await (parent[key] as (...a: unknown[]) => unknown).apply(parent, req.args ?? []);
    if (req.once !== undefined) done.set(req.once, value);
    return value;
  };
  const control = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401).end('unauthorized');
      Promise.resolve()
        .then(() => apply(JSON.parse(body) as ControlRequest))
        .then(
          (value) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value })),
          (err: unknown) => res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err)),
        );
    });
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  console.log(`control on http://127.0.0.1:${(control.address() as AddressInfo).port}`);
  if (server.pid !== undefined) console.log(`child pid ${server.pid}`);
  console.log(`${start} listening on ${server.url}`);
  const stop = () => {
    control.close();
    void server.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await host();

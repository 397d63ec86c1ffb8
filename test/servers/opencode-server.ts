import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { opencodeBinary } from '../support/opencodeBinary.ts';
import { startOpenAIStub, type OpenAIStub, type OpenAIStubOptions } from './openai-stub.ts';

/** The real `opencode` binary (dev dependency `opencode-linux-x64`, see test/support/opencodeBinary.ts). */
export const OPENCODE_BIN = opencodeBinary();

/** Options of {@link startOpencodeServer}. */
export interface OpencodeServerOptions {
  /** Basic auth password (OPENCODE_SERVER_PASSWORD); none when omitted. */
  password?: string;
  /** Settings of the model stub (its words and their pace). */
  stub?: OpenAIStubOptions;
  /** How long to wait for the server to answer /global/health, ms. @default 30000 */
  startTimeoutMs?: number;
}

/** A running `opencode serve` with its own temporary HOME and a local model stub. */
export interface OpencodeServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The model: change `stub.options` to make answers slower or longer. */
  stub: OpenAIStub;
  /** The server process id. */
  pid: number;
  /** What the server printed (stdout and stderr). */
  output(): string;
  /** Stops the server (by its own handle), the stub, and removes the temporary HOME. */
  close(): Promise<void>;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS's pick for port 0). */
async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * Runs one throwaway prompt (POST /session, then the synchronous POST /session/:id/message) until
 * one is answered: the first prompt after start loads OpenCode's plugins and provider catalog and
 * may take seconds or fail ("HTTP transport failed"), which tests must not mistake for their own.
 */
async function warmUp(url: string, auth: Record<string, string> | undefined, deadline: number, output: () => string): Promise<void> {
  const headers = { 'content-type': 'application/json', ...auth };
  let last = '';
  for (let attempt = 1; attempt <= 4 && Date.now() < deadline; attempt++) {
    const session = ((await (await fetch(`${url}/api/session`, { method: 'POST', headers, body: '{}' })).json()) as { data: { id: string } }).data.id;
    await fetch(`${url}/api/session/${session}/prompt`, { method: 'POST', headers, body: JSON.stringify({ prompt: { text: 'warm up' } }) });
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), Math.min(8_000, Math.max(0, deadline - Date.now())));
    last = '';
    try {
      const res = await fetch(`${url}/api/session/${session}/event`, { headers, signal: abort.signal });
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        last += Buffer.from(chunk).toString('utf8');
        if (/"session\.next\.step\.(ended|failed)"/.test(last)) break;
      }
    } catch {
      /* timed out: try a new session */
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
    if (last.includes('"session.next.step.ended"')) return;
  }
  throw new Error(`opencode at ${url} could not answer a warm-up prompt: ${last.slice(-300)}\n${output()}`);
}

/**
 * Starts the real OpenCode server (PEERS.md) on 127.0.0.1 with a free port, its state in a fresh
 * temporary HOME (XDG dirs under it), models fetching and autoupdate off, and an
 * `opencode.json` whose only provider is the OpenAI-compatible stub (test/servers/openai-stub.ts),
 * with two models, `fake/slow` (the default) and `fake/fast` (for prompts that name a model), so
 * prompts run offline. Resolves once GET /global/health answers healthy and a warm-up prompt
 * was answered.
 *
 * @example
 * ```ts
 * const oc = await startOpencodeServer({ stub: { chunkDelayMs: 100 } });
 * // … talk to oc.url …
 * await oc.close();
 * ```
 */
export async function startOpencodeServer(options: OpencodeServerOptions = {}): Promise<OpencodeServer> {
  const stub = await startOpenAIStub(options.stub);
  const home = mkdtempSync(join(tmpdir(), 'actorlog-opencode-'));
  mkdirSync(join(home, '.config/opencode'), { recursive: true });
  writeFileSync(
    join(home, '.config/opencode/opencode.json'),
    JSON.stringify({
      provider: {
        fake: { npm: '@ai-sdk/openai-compatible', options: { baseURL: stub.baseURL, apiKey: 'x' }, models: { slow: { name: 'slow' }, fast: { name: 'fast' } } },
      },
      model: 'fake/slow',
      small_model: 'fake/slow',
      autoupdate: false,
      share: 'disabled',
    }),
  );
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_STATE_HOME: join(home, '.local/state'),
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_DISABLE_AUTOUPDATE: '1',
  };
  if (options.password) env.OPENCODE_SERVER_PASSWORD = options.password;
  // --port 0 tries 4096 first (and fails when another opencode holds it): a port the OS just gave is free.
  const port = await freePort();
  const child: ChildProcess = spawn(OPENCODE_BIN, ['serve', '--port', String(port), '--hostname', '127.0.0.1'], {
    cwd: home,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killed = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000))]);
      if (!killed) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    await stub.close();
    rmSync(home, { recursive: true, force: true });
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`opencode did not start within ${options.startTimeoutMs ?? 30_000} ms:\n${out}`)),
        options.startTimeoutMs ?? 30_000,
      );
      const onData = (d: Buffer) => {
        out += d;
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`opencode exited (${code}):\n${out}`));
      });
    });
    const auth = options.password ? { authorization: `Basic ${Buffer.from(`opencode:${options.password}`).toString('base64')}` } : undefined;
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    for (;;) {
      try {
        const res = await fetch(`${url}/global/health`, { headers: auth });
        if (res.ok && ((await res.json()) as { healthy?: boolean }).healthy) break;
      } catch {
        /* not yet */
      }
      if (Date.now() > deadline) throw new Error(`opencode at ${url} never became healthy:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await warmUp(url, auth, deadline, () => out);
    return { url, stub, pid: child.pid!, output: () => out, close };
  } catch (err) {
    await close();
    throw err;
  }
}

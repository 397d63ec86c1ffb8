import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { readBody } from './readBody.ts';

/**
 * A small OpenAI-compatible chat completions server (POST /v1/chat/completions), the model of the
 * OpenCode server in tests and examples, so prompts run offline. It answers `stream: true` requests
 * with `text/event-stream` chunks (`data: {chat.completion.chunk}` … `data: [DONE]`, as the OpenAI
 * API streams them) and `stream: false` ones with one `chat.completion` object.
 *
 * The reply is the configured words, one chunk each, `chunkDelayMs` apart, so an abort test can catch
 * the session busy. Settings are live: change `stub.options` between prompts.
 */
export interface OpenAIStubOptions {
  /** The words of every answer, one chunk each. @default ['Hello', ' from', ' the', ' stub.'] */
  words?: string[];
  /** Delay before each chunk, ms. @default 20 */
  chunkDelayMs?: number;
  /** A title request (OpenCode asks its small model for a title) answers at once with this text. @default 'Stub session' */
  title?: string;
}

/** A running stub. */
export interface OpenAIStub {
  /** The base URL to configure as the provider's `baseURL`: `http://127.0.0.1:<port>/v1`. */
  baseURL: string;
  /** Live settings. */
  options: Required<OpenAIStubOptions>;
  /** Completions requested since start (title requests included). */
  requests(): number;
  /** Streamed answers cut short because the client went away (an abort reached the model). */
  cancelled(): number;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True when the request asks for a session title (OpenCode's title agent), answered fast. */
function isTitleRequest(body: { messages?: Array<{ role?: string; content?: unknown }> }): boolean {
  const system =
    body.messages
      ?.filter((m) => m.role === 'system')
      .map((m) => JSON.stringify(m.content))
      .join(' ') ?? '';
  return /title/i.test(system) && /generat/i.test(system);
}

/**
 * Starts the stub on 127.0.0.1 (a free port).
 *
 * @example
 * ```ts
 * const stub = await startOpenAIStub({ chunkDelayMs: 200 });
 * // opencode.json: { provider: { fake: { npm: '@ai-sdk/openai-compatible', options: { baseURL: stub.baseURL, apiKey: 'x' }, models: { slow: {} } } } }
 * await stub.close();
 * ```
 */
export async function startOpenAIStub(options: OpenAIStubOptions = {}): Promise<OpenAIStub> {
  const settings: Required<OpenAIStubOptions> = {
    words: options.words ?? ['Hello', ' from', ' the', ' stub.'],
    chunkDelayMs: options.chunkDelayMs ?? 20,
    title: options.title ?? 'Stub session',
  };
  let requests = 0;
  let cancelled = 0;
  const sockets = new Set<Socket>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    requests += 1;
    const body = JSON.parse((await readBody(req)) || '{}') as { stream?: boolean; model?: string; messages?: Array<{ role?: string; content?: unknown }> };
    const model = body.model ?? 'slow';
    const title = isTitleRequest(body);
    const words = title ? [settings.title] : settings.words;
    const id = `chatcmpl-${requests}`;
    const usage = { prompt_tokens: 10, completion_tokens: words.length, total_tokens: 10 + words.length };
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created: 0,
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: words.join('') }, finish_reason: 'stop' }],
          usage,
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunk = (delta: object, finish: string | null, extra: object = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
    let gone = false;
    res.on('close', () => {
      if (!res.writableFinished) gone = true;
    });
    res.write(chunk({ role: 'assistant', content: '' }, null));
    for (const word of words) {
      if (!title) await sleep(settings.chunkDelayMs);
      if (gone) {
        cancelled += 1;
        return;
      }
      res.write(chunk({ content: word }, null));
    }
    res.write(chunk({}, 'stop', { usage }));
    res.end('data: [DONE]\n\n');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: String(err) } }));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    options: settings,
    requests: () => requests,
    cancelled: () => cancelled,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

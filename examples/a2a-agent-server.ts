import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import express, { type RequestHandler, type Response } from 'express';
import { AGENT_CARD_PATH, Role, TaskState, type AgentCard, type Message, type Part } from '@a2a-js/sdk';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore, type AgentExecutor, type ExecutionEventBus, type RequestContext } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express';

/**
 * Faults the server injects, for tests. Counts are "remaining": each use decrements them, and the
 * handle's `faults` object is live, so a test arms one right before the call it targets.
 */
export interface A2AServerFaults {
  /** SSE responses (message/stream, tasks/resubscribe) that get one malformed `data:` frame right after their first frame: the 1st, 3rd… injected frame is not JSON, the 2nd, 4th… is JSON failing the schema. */
  malformedStreamFrames?: number;
  /** tasks/get calls answered 200 with an HTML (non-JSON) body. */
  nonJsonGet?: number;
  /** message/send calls answered 200 with an HTML body (no task is created). */
  nonJsonSend?: number;
  /** Cut the SSE connection (socket destroyed) after this many frames, once per task. Not a count. */
  dropStreamAfterFrames?: number;
  /** JSON-RPC requests answered HTTP 503. */
  unavailable?: number;
  /** The `Retry-After` header of the `unavailable` answers (seconds or an HTTP date), when set. Not a count. */
  retryAfter?: string;
  /** Hold every message/send this long (ms) after counting it and before handling it, so a test can crash the caller with the request in flight. Not a count. */
  holdSendMs?: number;
  /** message/send answers cut short after the agent handled them (the task exists): HTTP 200 with the first half of the JSON body, correctly framed. */
  truncatedSendAnswers?: number;
  /** SSE responses (message/stream, tasks/resubscribe) that go silent after their first frame: nothing more is written and the stream is never ended (a stall). */
  stallStreams?: number;
  /** tasks/get calls never answered (a stall). */
  stallGet?: number;
  /** message/send calls handled (the task is made), then the connection cut before any byte of the answer (a lost answer). */
  loseSendAnswers?: number;
  /** tasks/get calls answered 200 with headers, then a byte every 20 ms for ever (a trickled body). */
  dripGet?: number;
  /**
   * message/send calls answered with the task made last, as if their messageId were that task's (an
   * agent that mixes up ids, or keys by a messageId another sender reused): no task is made for them.
   */
  answerWithLastTask?: number;
}

/** Options of {@link startA2AServer}. */
export interface A2AServerOptions {
  /** TCP port on 127.0.0.1. @default 0 (a free port) */
  port?: number;
  /** Duration of one task step, ms; a task takes 4 steps, "slow" ones 10x longer. @default 500 */
  stepMs?: number;
  /**
   * Take `messageId` as an idempotency key: a message/send whose messageId was seen returns that
   * task. `false`: like the SDK's own request handler, every message/send makes a new task. @default true
   */
  dedupeMessageIds?: boolean;
  faults?: A2AServerFaults;
}
/** Counters since start. */
export interface A2AServerStats {
  tasksCreated: number;
  messagesReceived: number;
  duplicateMessageIds: number;
}
/** A running example agent. */
export interface A2AServerHandle {
  /** The A2A v0.3 JSON-RPC endpoint, `http://127.0.0.1:<port>/a2a/jsonrpc`. */
  url: string;
  /** Live fault settings (see {@link A2AServerFaults}). */
  faults: A2AServerFaults;
  stats(): A2AServerStats;
  /** Stops running tasks and closes every connection. */
  close(): Promise<void>;
}

const RPC_PATH = '/a2a/jsonrpc';
const MALFORMED = [
  'data: {"jsonrpc":"2.0","id":null,"result":{"kind":"task",\n\n',
  'data: {"jsonrpc":"2.0","id":null,"result":{"kind":"status-update","taskId":42}}\n\n',
];
const textPart = (value: string): Part => ({ content: { $case: 'text', value }, metadata: undefined, filename: '', mediaType: 'text/plain' });
const textOf = (parts: Part[] = []) =>
  parts
    .map((p) => (p.content?.$case === 'text' ? p.content.value : ''))
    .join(' ')
    .toLowerCase();

/** The first artifact chunk of a "big" task, characters: 1.5 MiB, an answer (and stream event) over 1 MiB. */
export const BIG_CHUNK_CHARS = 1.5 * 1024 * 1024;

/** The demo agent: behaviour chosen by words in the first prompt (`fail…`, `ask…`, `slow…`, `big…`). */
class DemoExecutor implements AgentExecutor {
  private readonly tasks = new Map<string, { contextId: string; abort?: AbortController }>();
  constructor(
    private readonly stepMs: number,
    private readonly onExecute: (ctx: RequestContext) => void,
  ) {}

  async execute(ctx: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { taskId, contextId, task } = ctx;
    this.onExecute(ctx);
    const prompt = textOf((task?.history[0] ?? ctx.userMessage).parts);
    const abort = new AbortController();
    this.tasks.set(taskId, { contextId, abort });
    const ms = /\bslow/.test(prompt) ? this.stepMs * 10 : this.stepMs;
    const step = () => sleep(ms, undefined, { signal: abort.signal });
    const status = (state: TaskState, text?: string) =>
      bus.publish(AgentEvent.statusUpdate({ taskId, contextId, metadata: undefined, status: this.status(taskId, contextId, state, text) }));
    const chunk = (value: string, append: boolean) =>
      bus.publish(
        AgentEvent.artifactUpdate({
          taskId,
          contextId,
          append,
          lastChunk: append,
          metadata: undefined,
          artifact: { artifactId: `${taskId}-result`, name: 'result', description: '', parts: [textPart(value)], metadata: undefined, extensions: [] },
        }),
      );
    try {
      // §7.1: the first event is the Task; a non-blocking message/send returns it at once.
      bus.publish(
        AgentEvent.task({
          id: taskId,
          contextId,
          metadata: undefined,
          artifacts: task?.artifacts ?? [],
          history: task?.history ?? [ctx.userMessage],
          status: this.status(taskId, contextId, task ? TaskState.TASK_STATE_WORKING : TaskState.TASK_STATE_SUBMITTED),
        }),
      );
      if (!task) {
        await step();
        status(TaskState.TASK_STATE_WORKING);
        if (/\bfail/.test(prompt)) {
          await step();
          return status(TaskState.TASK_STATE_FAILED, 'failed on purpose: the prompt asked for it');
        }
        if (/\bask/.test(prompt)) {
          await step();
          return status(TaskState.TASK_STATE_INPUT_REQUIRED, 'Which colour should it be?');
        }
      }
      await step();
      chunk(/\bbig/.test(prompt) ? 'chunk one;'.padEnd(BIG_CHUNK_CHARS, '.') : 'chunk one;', false); // "big": an answer over 1 MiB
      await step();
      chunk(' chunk two.', true);
      await step();
      status(TaskState.TASK_STATE_COMPLETED, 'done');
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    } finally {
      const entry = this.tasks.get(taskId);
      if (entry?.abort === abort) entry.abort = undefined;
    }
  }

  async cancelTask(taskId: string, bus: ExecutionEventBus): Promise<void> {
    const entry = this.tasks.get(taskId);
    entry?.abort?.abort();
    const contextId = entry?.contextId ?? '';
    bus.publish(
      AgentEvent.statusUpdate({ taskId, contextId, metadata: undefined, status: this.status(taskId, contextId, TaskState.TASK_STATE_CANCELED, 'canceled') }),
    );
  }

  stopAll(): void {
    for (const entry of this.tasks.values()) entry.abort?.abort();
  }

  private status(taskId: string, contextId: string, state: TaskState, text?: string) {
    const message: Message | undefined =
      text === undefined
        ? undefined
        : {
            role: Role.ROLE_AGENT,
            messageId: randomUUID(),
            taskId,
            contextId,
            parts: [textPart(text)],
            metadata: undefined,
            extensions: [],
            referenceTaskIds: [],
          };
    return { state, message, timestamp: new Date().toISOString() };
  }
}

/** messageId -> taskId; a pending first request is awaited by its duplicates. */
function messageIdRegistry() {
  const known = new Map<string, Promise<string | undefined>>();
  const pending = new Map<string, (taskId: string | undefined) => void>();
  return {
    /** The task an earlier message with this id made, or undefined after registering this one as the first. */
    async claim(messageId: string, res: Response): Promise<string | undefined> {
      for (let seen = known.get(messageId); seen; seen = known.get(messageId)) {
        const taskId = await seen;
        if (taskId) return taskId;
      }
      known.set(messageId, new Promise((resolve) => pending.set(messageId, resolve)));
      res.on('close', () => {
        if (pending.has(messageId)) {
          known.delete(messageId);
          this.bind(messageId, undefined);
        }
      });
      return undefined;
    },
    bind(messageId: string, taskId: string | undefined): void {
      pending.get(messageId)?.(taskId);
      pending.delete(messageId);
    },
  };
}

/** Express middleware in front of the SDK: faults, stats and messageId idempotency. */
function front(
  faults: A2AServerFaults,
  stats: A2AServerStats,
  ids: ReturnType<typeof messageIdRegistry>,
  dedupe: boolean,
  lastTask: () => string | undefined,
): RequestHandler {
  const take = (
    name:
      | 'malformedStreamFrames'
      | 'nonJsonGet'
      | 'nonJsonSend'
      | 'unavailable'
      | 'truncatedSendAnswers'
      | 'stallStreams'
      | 'stallGet'
      | 'loseSendAnswers'
      | 'dripGet'
      | 'answerWithLastTask',
  ) => ((faults[name] ?? 0) > 0 ? ((faults[name] = faults[name]! - 1), true) : false);
  const dropped = new Set<string>();
  let malformedSent = 0;
  const html = (res: Response) => res.status(200).type('text/html').send('<html><body>upstream hiccup (injected)</body></html>');

  function tapStream(res: Response, taskIdHint: string | undefined): void {
    const malformed = take('malformedStreamFrames') ? MALFORMED[malformedSent++ % 2] : undefined;
    const stall = take('stallStreams');
    const dropAfter = faults.dropStreamAfterFrames;
    let frames = 0;
    let cut = false;
    let taskId = taskIdHint;
    const write = res.write.bind(res) as (chunk: string, cb?: () => void) => boolean;
    if (stall) res.end = (() => res) as Response['end']; // a stalled stream is never ended
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (cut || (stall && frames >= 1)) return true;
      const text = String(chunk);
      if (!text.startsWith('data:')) return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
      frames += 1;
      try {
        const r = JSON.parse(text.slice(5)).result;
        taskId ??= r?.kind === 'task' ? r.id : r?.taskId;
      } catch {
        /* keep hint */
      }
      if (dropAfter && frames >= dropAfter && taskId && !dropped.has(taskId)) {
        dropped.add(taskId);
        cut = true;
        return write(text, () => res.socket?.destroy());
      }
      const ok = write(text);
      if (malformed && frames === 1) write(malformed);
      return ok;
    }) as Response['write'];
  }

  return async (req, res, next) => {
    const body = req.body as { method?: unknown; params?: { id?: string; message?: { messageId?: unknown } } } | undefined;
    if (typeof body?.method !== 'string') return next();
    const method = body.method;
    if (take('unavailable')) {
      if (faults.retryAfter !== undefined) res.set('retry-after', faults.retryAfter);
      return void res.status(503).type('text/plain').send('unavailable (injected)');
    }
    if (method === 'tasks/get' && take('nonJsonGet')) return void html(res);
    if (method === 'tasks/get' && take('stallGet')) return; // never answered
    if (method === 'tasks/get' && take('dripGet')) {
      res.status(200).type('application/json');
      res.flushHeaders();
      const t = setInterval(() => res.write(' '), 20); // whitespace for ever: the JSON never comes
      res.on('close', () => clearInterval(t));
      return;
    }
    if (method === 'message/send' && take('loseSendAnswers')) {
      res.json = (() => {
        res.socket?.destroy();
        return res;
      }) as Response['json']; // handled, answer lost
    }
    if (method === 'message/send' && take('truncatedSendAnswers')) {
      res.json = ((payload: unknown) => {
        const text = JSON.stringify(payload);
        return res.type('application/json').send(text.slice(0, Math.floor(text.length / 2)));
      }) as Response['json'];
    }
    if (method === 'message/send' && take('nonJsonSend')) return void html(res);
    const lastTaskId = lastTask();
    if (method === 'message/send' && lastTaskId && take('answerWithLastTask')) {
      stats.messagesReceived += 1;
      body.method = 'tasks/get';
      body.params = { id: lastTaskId };
      return next();
    }
    if (method === 'message/send' || method === 'message/stream') {
      stats.messagesReceived += 1;
      const messageId = body.params?.message?.messageId;
      const taskId = typeof messageId === 'string' && dedupe ? await ids.claim(messageId, res) : undefined;
      if (method === 'message/send' && faults.holdSendMs) await sleep(faults.holdSendMs);
      if (taskId) {
        // seen before: answer with the existing task, create nothing
        stats.duplicateMessageIds += 1;
        body.method = method === 'message/send' ? 'tasks/get' : 'tasks/resubscribe';
        body.params = { id: taskId };
      }
    }
    if (body.method === 'message/stream' || body.method === 'tasks/resubscribe') tapStream(res, body.params?.id);
    next();
  };
}

function agentCard(url: string): AgentCard {
  const jsonRpc = (protocolVersion: string) => ({ url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion });
  return {
    name: 'actorlog example agent',
    description: 'Demo tasks: words "fail", "ask", "slow" in the prompt choose the outcome.',
    supportedInterfaces: [jsonRpc('0.3'), jsonRpc('1.0')],
    provider: undefined,
    version: '1.0.0',
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['text'],
    defaultOutputModes: ['text'],
    signatures: [],
    skills: [
      {
        id: 'demo',
        name: 'demo',
        description: 'Two artifact chunks, then completed.',
        tags: ['demo'],
        examples: ['hello', 'please fail', 'ask me', 'slow one'],
        inputModes: ['text'],
        outputModes: ['text'],
        securityRequirements: [],
      },
    ],
  };
}

/**
 * Starts the example A2A agent on 127.0.0.1: the real `@a2a-js/sdk` 1.3.0 `DefaultRequestHandler` and
 * `jsonRpcHandler` with `legacyCompat`, serving A2A v0.3 JSON-RPC (message/send, message/stream,
 * tasks/get, tasks/cancel, tasks/resubscribe; A2A v0.3.0 §7) at `url` (v1.0 with `A2A-Version: 1.0`)
 * and the agent card at `/.well-known/agent-card.json`.
 *
 * A task goes submitted -> working -> two artifact chunks (the second `append: true`) -> completed,
 * one `stepMs` apart. A prompt with a word starting "fail" ends `failed` with a status message; "ask"
 * goes `input-required` (a follow-up message on the task, new messageId, resumes it to completed);
 * "slow" takes 10x longer; "big" makes the first artifact chunk 1.5 MiB (an answer over 1 MiB). A message whose `messageId` was seen returns the existing task (tasks/get;
 * message/stream: tasks/resubscribe) and counts in `duplicateMessageIds`.
 * @throws the listen error (e.g. EADDRINUSE) when the port is taken.
 * @example
 * ```ts
 * const agent = await startA2AServer({ stepMs: 25, faults: { nonJsonGet: 1 } });
 * try { ... } finally { await agent.close(); }
 * ```
 */
export async function startA2AServer(options: A2AServerOptions = {}): Promise<A2AServerHandle> {
  const stats: A2AServerStats = { tasksCreated: 0, messagesReceived: 0, duplicateMessageIds: 0 };
  const faults: A2AServerFaults = { ...options.faults };
  const ids = messageIdRegistry();
  let lastTaskId: string | undefined; // the task made last (faults.answerWithLastTask)
  const executor = new DemoExecutor(options.stepMs ?? 500, (ctx) => {
    if (!ctx.task) {
      stats.tasksCreated += 1;
      lastTaskId = ctx.taskId;
    }
    ids.bind(ctx.userMessage.messageId, ctx.taskId);
  });
  const app = express();
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${RPC_PATH}`;
  const requestHandler = new DefaultRequestHandler(agentCard(url), new InMemoryTaskStore(), executor);
  const legacyCompat = { enabled: true };
  app.use(`/${AGENT_CARD_PATH}`, agentCardHandler({ agentCardProvider: requestHandler, legacyCompat }));
  app.use(
    RPC_PATH,
    express.json(),
    front(faults, stats, ids, options.dedupeMessageIds ?? true, () => lastTaskId),
    jsonRpcHandler({ requestHandler, userBuilder: UserBuilder.noAuthentication, legacyCompat }),
  );
  return {
    url,
    faults,
    stats: () => ({ ...stats }),
    close: () => {
      executor.stopAll();
      server.closeAllConnections();
      return new Promise<void>((done) => server.close(() => done()));
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const agent = await startA2AServer({ port: Number(process.env.PORT ?? 0), stepMs: process.env.A2A_STEP_MS ? Number(process.env.A2A_STEP_MS) : undefined });
  console.log(`A2A v0.3 JSON-RPC agent listening on ${agent.url}`);
  const stop = () => void agent.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

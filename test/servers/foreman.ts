import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { request } from 'undici';
import { readBody } from './readBody.ts';

/**
 * A protocol-faithful foreman daemon for tests and examples (seed 000, foreman Go client): the
 * async job API `POST /jobs` -> 202 `{job_id}`, `GET /jobs/{id}`, state webhooks to the job's
 * `state_webhook_url` (HMAC-SHA256 over the body when a secret is set), bearer auth,
 * `GET /api/tags`, and `POST /api/embed`, which bypasses the job queue.
 *
 * Jobs run one at a time per worker: queued -> running (attempt 1) -> done | failed. A prompt with
 * "fail" fails; "flaky" fails its first attempt and is retried (running, attempt 2); "slow" takes
 * 10x longer. Each state change is POSTed to the job's webhook URL (retried on network errors and
 * 5xx, never on 4xx).
 *
 * Like the seed's daemon, it ignores `Idempotency-Key` by default (seed 000 never sends one): a
 * repeated POST /jobs creates a second job. `honourIdempotencyKey: true` makes it a daemon that
 * answers a repeated key with the first job_id. Either way it records the key each job came with.
 */
export interface ForemanServerOptions {
  /** Require `Authorization: Bearer <token>`. */
  token?: string;
  /** Sign webhooks: `<signatureHeader>: sha256=<hex HMAC-SHA256 of the body>`. */
  webhookSecret?: string;
  /** @default 'x-foreman-signature' (machines/foreman `FOREMAN_SIGNATURE_HEADER`) */
  signatureHeader?: string;
  /** Answer a POST /jobs whose `Idempotency-Key` was seen before with that job's id (not in seed 000). @default false */
  honourIdempotencyKey?: boolean;
  /** Duration of one step (queued and each running phase), ms. @default 60 */
  stepMs?: number;
  /** Jobs run at once. @default 1 */
  workers?: number;
  /** Bytes of the inline artifact (`big.bin`, base64 in `data`) a done job carries besides its answer: results over 1 MiB, as seed 000 allows. @default 0 (none) */
  resultBytes?: number;
  port?: number;
}

/** Faults, armed live on the handle; counts decrement per use. */
export interface ForemanServerFaults {
  /** Next N submits: the job runs to its end, its webhooks are delivered, and only then is the 202 written. */
  webhookBeforeAccept?: number;
  /** Next N jobs: every webhook is delivered twice. */
  duplicateWebhooks?: number;
  /** Next N jobs: no webhook while running; at the end: running, queued (stale), running (duplicate), the end, running (late). */
  outOfOrderWebhooks?: number;
  /** Next N webhook deliveries are signed with a wrong key. */
  badSignatures?: number;
  /** Next N webhook deliveries carry no signature. */
  unsignedWebhooks?: number;
  /** Next N requests to /jobs (POST or GET) answer 503. */
  unavailable?: number;
  /** Next N GET /jobs/{id} answer 200 with a body cut short (not JSON), as a broken proxy would. */
  malformedGets?: number;
  /** Next N POST /jobs create the job, then answer 202 with a body cut short (not JSON). */
  malformedAccepts?: number;
  /** Hold every POST /jobs this long (ms) after creating the job and before answering. Not a count. */
  holdAcceptMs?: number;
  /** Next N POST /jobs create the job, then cut the connection without an answer (the answer is lost). */
  dropAccepts?: number;
  /** Hold every GET /jobs/{id} this long (ms) before answering (slower than a client's timeout). Not a count. */
  holdGetMs?: number;
  /** Next N GET /jobs/{id} answer 200 and then drip their body, a byte every 20 ms, for ever. */
  dripGets?: number;
  /** Next N POST /jobs answer 503 with `Retry-After: <retryAfter>` (and create nothing). */
  busyWithRetryAfter?: number;
  /** The `Retry-After` value of `busyWithRetryAfter` answers (seconds or an HTTP date). @default '1' */
  retryAfter?: string;
  /**
   * Next N POST /jobs give the new job the id of the job created last (a daemon whose id generator
   * repeats, e.g. a counter restarted): the new job replaces the old one in `GET /jobs/{id}`, while the
   * old one runs on and still POSTs its webhooks (with that id) to its own URL.
   */
  reuseJobIds?: number;
}

interface Job {
  job_id: string;
  state: string;
  model: string;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  attempt: number;
  result: unknown;
  error: string | null;
  artifacts: unknown[];
  prompt: string;
  webhook?: string;
  scramble: boolean;
  duplicate: boolean;
  chain: Promise<void>;
  /** The `Idempotency-Key` header the submit carried, if any. */
  idempotencyKey?: string;
  /** process.hrtime.bigint() when the job was created, and when its 202 was handed to the socket (ns). */
  createdNs: bigint;
  answeredNs?: bigint;
}

export interface ForemanServerStats {
  jobsCreated: number;
  duplicateSubmits: number;
  gets: number;
  malformed: number;
  unauthorized: number;
  embeds: number;
  tags: number;
  webhooks: { sent: number; delivered: number; rejected: number; failed: number };
}

export interface ForemanServer {
  url: string;
  faults: ForemanServerFaults;
  stats(): ForemanServerStats;
  job(jobId: string): Readonly<Job> | undefined;
  /** Every job created, in order. */
  jobs(): ReadonlyArray<Readonly<Job>>;
  /** Resolves when every webhook scheduled so far has been delivered or given up. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export const MODELS = [
  {
    name: 'llama3:8b',
    model: 'llama3:8b',
    modified_at: '2026-05-01T10:00:00Z',
    size: 4_661_224_676,
    digest: 'sha256:365c0bd3c000',
    details: { family: 'llama' },
  },
  {
    name: 'nomic-embed-text:latest',
    model: 'nomic-embed-text:latest',
    modified_at: '2026-05-02T10:00:00Z',
    size: 274_302_450,
    digest: 'sha256:0a109f422b47',
    details: { family: 'nomic-bert' },
  },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** `bytes` of a repeating pattern, base64: what a job's big inline artifact holds. */
const bigArtifact = (bytes: number) => Buffer.alloc(bytes, 'foreman-artifact:').toString('base64');
const now = () => new Date().toISOString();
type CountedFault = { [K in keyof ForemanServerFaults]-?: ForemanServerFaults[K] extends number | undefined ? K : never }[keyof ForemanServerFaults];
const take = (faults: ForemanServerFaults, key: Exclude<CountedFault, 'holdAcceptMs' | 'holdGetMs'>) => {
  const n = faults[key] ?? 0;
  if (n > 0) faults[key] = n - 1;
  return n > 0;
};

/** Starts a foreman test daemon on 127.0.0.1 (port 0 by default). */
export async function startForemanServer(options: ForemanServerOptions = {}): Promise<ForemanServer> {
  const stepMs = options.stepMs ?? 60;
  const header = options.signatureHeader ?? 'x-foreman-signature';
  const faults: ForemanServerFaults = {};
  const jobs = new Map<string, Job>();
  let lastJobId: string | undefined;
  const byKey = new Map<string, string>();
  const stats: ForemanServerStats = {
    jobsCreated: 0,
    duplicateSubmits: 0,
    gets: 0,
    malformed: 0,
    unauthorized: 0,
    embeds: 0,
    tags: 0,
    webhooks: { sent: 0, delivered: 0, rejected: 0, failed: 0 },
  };
  const queue: Job[] = [];
  const pending = new Set<Promise<unknown>>();
  let running = 0;
  let closed = false;
  let base = '';

  const status = (j: Job) => ({
    job_id: j.job_id,
    state: j.state,
    model: j.model,
    created_at: j.created_at,
    started_at: j.started_at,
    completed_at: j.completed_at,
    attempt: j.attempt,
    result: j.result,
    error: j.error,
    artifacts: j.artifacts,
  });

  async function deliver(url: string, body: string): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-foreman-delivery': randomUUID() };
    if (options.webhookSecret && !take(faults, 'unsignedWebhooks')) {
      const key = take(faults, 'badSignatures') ? `${options.webhookSecret}-wrong` : options.webhookSecret;
      headers[header] = `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
    }
    for (let attempt = 1; attempt <= 4 && !closed; attempt++) {
      stats.webhooks.sent++;
      try {
        const res = await request(url, { method: 'POST', headers, body, headersTimeout: 2_000, bodyTimeout: 2_000 });
        await res.body.dump();
        if (res.statusCode < 300) {
          stats.webhooks.delivered++;
          return;
        }
        if (res.statusCode < 500) {
          stats.webhooks.rejected++;
          return;
        }
      } catch {
        /* network: retry */
      }
      await sleep(25 * attempt);
    }
    stats.webhooks.failed++;
  }

  /** Queues the job's current status for its webhook, in order (or scrambled, when the fault is armed). */
  function notify(j: Job, extra?: object): void {
    if (!j.webhook || j.scramble) return;
    const body = JSON.stringify({ ...status(j), ...extra });
    const send = () => deliver(j.webhook!, body).then(() => (j.duplicate ? deliver(j.webhook!, body) : undefined));
    const chain = j.chain.then(send);
    j.chain = chain;
    pending.add(chain);
    void chain.finally(() => pending.delete(chain));
  }

  function finish(j: Job): void {
    if (j.scramble && j.webhook) {
      // Out of order, after the fact: running, a stale queued, running again (duplicate), the end, a late running.
      const url = j.webhook;
      const at = (state: string, attempt: number) =>
        JSON.stringify({ ...status(j), state, attempt, result: null, error: null, artifacts: [], completed_at: null });
      const end = JSON.stringify(status(j));
      const p = (async () => {
        for (const b of [at('running', 1), at('queued', 0), at('running', 1), end, at('running', 1)]) await deliver(url, b);
      })();
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
    running--;
    pump();
  }

  async function run(j: Job, fast: boolean): Promise<void> {
    const step = fast ? 0 : j.prompt.includes('slow') ? stepMs * 10 : stepMs;
    const attempts = j.prompt.includes('flaky') ? 2 : 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (closed) return;
      j.state = 'running';
      j.attempt = attempt;
      j.started_at ??= now();
      notify(j);
      if (step) await sleep(step * 2);
      if (closed) return;
      const fails = j.prompt.includes('fail') ? true : attempt < attempts;
      if (fails && attempt < attempts) continue;
      j.completed_at = now();
      if (fails) {
        j.state = 'failed';
        j.error = 'model runner crashed: exit status 2';
      } else {
        const answer = `echo: ${j.prompt}`;
        j.state = 'done';
        j.result = { model: j.model, message: { role: 'assistant', content: answer }, done: true };
        j.artifacts = [
          { name: 'answer.txt', content_type: 'text/plain', size: Buffer.byteLength(answer), data: Buffer.from(answer).toString('base64') },
          { name: 'trace.json', content_type: 'application/json', size: 2048, url: `${base}/artifacts/${j.job_id}/trace.json` },
        ];
        if (options.resultBytes)
          j.artifacts.push({ name: 'big.bin', content_type: 'application/octet-stream', size: options.resultBytes, data: bigArtifact(options.resultBytes) });
      }
      notify(j);
    }
  }

  function pump(): void {
    while (!closed && running < (options.workers ?? 1) && queue.length > 0) {
      const j = queue.shift()!;
      running++;
      setTimeout(() => void run(j, false).then(() => finish(j)), stepMs);
    }
  }

  const send = (res: ServerResponse, code: number, body?: unknown) => {
    res.writeHead(code, body === undefined ? {} : { 'content-type': 'application/json' }).end(body === undefined ? undefined : JSON.stringify(body));
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (options.token) {
      const auth = req.headers.authorization;
      if (auth !== `Bearer ${options.token}`) {
        stats.unauthorized++;
        return send(res, 401, { error: auth ? 'invalid token' : 'missing bearer token' });
      }
    }
    if (path.startsWith('/jobs') && take(faults, 'unavailable')) return send(res, 503, { error: 'queue unavailable' });
    if (req.method === 'POST' && path === '/jobs' && take(faults, 'busyWithRetryAfter')) {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': faults.retryAfter ?? '1' }).end(JSON.stringify({ error: 'queue full' }));
      return;
    }
    if (req.method === 'POST' && path === '/jobs') {
      let body: { model?: string; messages?: Array<{ content?: unknown }>; state_webhook_url?: string };
      try {
        body = JSON.parse(await readBody(req));
      } catch {
        return send(res, 400, { error: 'invalid JSON' });
      }
      if (!body.model) return send(res, 400, { error: 'model is required' });
      if (!Array.isArray(body.messages) || body.messages.length === 0) return send(res, 400, { error: 'messages are required' });
      const key = req.headers['idempotency-key'] as string | undefined;
      if (key && options.honourIdempotencyKey && byKey.has(key)) {
        stats.duplicateSubmits++;
        return send(res, 202, { job_id: byKey.get(key) });
      }
      const reused = take(faults, 'reuseJobIds') ? lastJobId : undefined;
      const j: Job = {
        job_id: reused ?? randomUUID(),
        state: 'queued',
        model: body.model,
        created_at: now(),
        started_at: null,
        completed_at: null,
        attempt: 0,
        result: null,
        error: null,
        artifacts: [],
        prompt: body.messages.map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? ''))).join(' '),
        webhook: body.state_webhook_url,
        scramble: take(faults, 'outOfOrderWebhooks'),
        duplicate: take(faults, 'duplicateWebhooks'),
        chain: Promise.resolve(),
        ...(key ? { idempotencyKey: key } : {}),
        createdNs: process.hrtime.bigint(),
      };
      jobs.set(j.job_id, j);
      lastJobId = j.job_id;
      if (key && !byKey.has(key)) byKey.set(key, j.job_id);
      stats.jobsCreated++;
      if (take(faults, 'webhookBeforeAccept')) {
        notify(j);
        await run(j, true);
        await j.chain;
      } else {
        notify(j);
        queue.push(j);
        pump();
      }
      if (faults.holdAcceptMs) await sleep(faults.holdAcceptMs);
      if (take(faults, 'dropAccepts')) {
        res.socket?.destroy();
        return;
      } // created, but the answer is lost
      res.once('finish', () => {
        j.answeredNs = process.hrtime.bigint();
      });
      if (take(faults, 'malformedAccepts')) {
        stats.malformed++;
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ job_id: j.job_id }).slice(0, 12));
        return;
      }
      return send(res, 202, { job_id: j.job_id });
    }
    const m = /^\/jobs\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && m) {
      stats.gets++;
      const j = jobs.get(decodeURIComponent(m[1]));
      if (faults.holdGetMs) await sleep(faults.holdGetMs);
      if (j && take(faults, 'dripGets')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        const body = JSON.stringify(status(j));
        let i = 0;
        const t = setInterval(() => {
          if (i < body.length - 1) res.write(body[i++]);
        }, 20); // never the last byte
        res.on('close', () => clearInterval(t));
        return;
      }
      if (j && take(faults, 'malformedGets')) {
        stats.malformed++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status(j)).slice(0, 40));
        return;
      }
      return j ? send(res, 200, status(j)) : send(res, 404, { error: 'job not found' });
    }
    if (req.method === 'GET' && path === '/api/tags') {
      stats.tags++;
      return send(res, 200, { models: MODELS });
    }
    if (req.method === 'POST' && path === '/api/embed') {
      stats.embeds++;
      const body = JSON.parse(await readBody(req)) as { model?: string; input?: unknown };
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      return send(res, 200, { model: body.model, embeddings: inputs.map((t) => [String(t).length, 0.5, -0.25]) });
    }
    return send(res, 404, { error: 'not found' });
  }

  const server = createServer((req, res) => void handle(req, res).catch(() => send(res, 500, { error: 'internal' })));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    faults,
    stats: () => structuredClone(stats),
    job: (id) => jobs.get(id),
    jobs: () => [...jobs.values()],
    async settled() {
      for (let rounds = 0; pending.size > 0 && rounds < 100; rounds++) await Promise.allSettled(pending);
    },
    async close() {
      closed = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Runs the server as its own process: `npx tsx test/servers/foreman.ts` (env PORT, FOREMAN_TOKEN, FOREMAN_WEBHOOK_SECRET, FOREMAN_STEP_MS). */
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = await startForemanServer({
    port: Number(process.env.PORT ?? 0),
    token: process.env.FOREMAN_TOKEN,
    webhookSecret: process.env.FOREMAN_WEBHOOK_SECRET,
    stepMs: Number(process.env.FOREMAN_STEP_MS ?? 60),
  });
  console.log(`foreman test server listening on ${server.url}`);
}

import type { ServerResponse } from 'node:http';
import type { Subscription } from 'rxjs';
import type { LogStore } from '../../src/log/types.ts';
import { eventRow } from './snapshotView.ts';
import type { LiveRow } from './types.ts';

/** Options of {@link LiveFeed}. */
export interface LiveFeedOptions {
  /** How often to look for events other processes append (ms). */
  pollIntervalMs: number;
  /** Appends are sent at most this often, batched (ms). @default 100 */
  batchMs?: number;
  /** How often stream statuses are compared when nothing is appended (ms): a status change is no event. @default 2000 */
  statusEveryMs?: number;
  /** Most clients at once; one more is refused. @default 32 */
  maxClients?: number;
}

/**
 * `GET /api/live`: a Server-Sent Events feed of what is appended to the log after the page
 * connected, by any process (`store.subscribe()`), batched: at most one `event: appends` frame per
 * `batchMs` with every new event's timeline row and stream (`{ head, rows }`), and `event: streams`
 * when a stream's status or version changed. It reads the log only while a client is connected,
 * and compares statuses after appends and every `statusEveryMs` otherwise.
 */
export class LiveFeed {
  private readonly clients = new Set<ServerResponse>();
  private live?: Subscription;
  private timers: NodeJS.Timeout[] = [];
  private buffer: LiveRow[] = [];
  private head = 0;
  private signature = '';
  private checking = false;

  constructor(
    private readonly store: LogStore,
    private readonly options: LiveFeedOptions,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** True when one more client would pass {@link LiveFeedOptions.maxClients}. */
  get full(): boolean {
    return this.clients.size >= (this.options.maxClients ?? 32);
  }

  /** Takes a client's response: the `hello` frame now, the feed from here on, until it closes. */
  async add(res: ServerResponse): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stop();
    });
    await this.start();
    res.write(`event: hello\ndata: ${JSON.stringify({ head: this.head })}\n\n`);
  }

  private send(event: string, data: unknown): void {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of this.clients) res.write(frame);
  }

  private async start(): Promise<void> {
    if (this.live) return;
    this.head = await this.store.headPosition();
    this.signature = await this.streamsSignature();
    this.live = this.store.subscribe({ after: this.head, pollIntervalMs: this.options.pollIntervalMs }).subscribe({
      next: (r) => {
        this.head = Math.max(this.head, r.globalPosition);
        this.buffer.push({ streamId: r.streamId, ...eventRow(r) });
      },
      error: () => undefined,
    });
    this.timers = [
      setInterval(() => this.flush(), this.options.batchMs ?? 100),
      setInterval(() => void this.checkStreams(), this.options.statusEveryMs ?? 2_000),
    ];
  }

  private flush(): void {
    if (this.buffer.length === 0) return;
    const rows = this.buffer;
    this.buffer = [];
    this.send('appends', { head: this.head, rows });
    void this.checkStreams();
  }

  private async streamsSignature(): Promise<string> {
    return (await this.store.listStreams()).map((s) => `${s.streamId}:${s.status}:${s.version}`).join('|');
  }

  private async checkStreams(): Promise<void> {
    if (this.checking || !this.live) return;
    this.checking = true;
    try {
      const next = await this.streamsSignature();
      if (next !== this.signature) {
        this.signature = next;
        this.send('streams', { head: this.head });
      }
    } finally {
      this.checking = false;
    }
  }

  /** Stops reading the log (the last client left, or the server closes). */
  stop(): void {
    this.live?.unsubscribe();
    this.live = undefined;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.buffer = [];
  }

  /** Ends every client's feed and stops. */
  close(): void {
    this.stop();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

import { Worker } from 'node:worker_threads';
import { ActorlogError, type ErrorCode } from '../../src/errors.ts';
import type { FoldWorkerData } from './foldWorker.ts';
import type { ReadCall, StreamReads } from './streamReads.ts';

/** The worker's module: the compiled `.js` beside this one, or in a checkout the `.ts` source run through tsx. */
function startWorker(data: FoldWorkerData): Worker {
  const source = import.meta.url.endsWith('.ts');
  const target = new URL(source ? './foldWorker.ts' : './foldWorker.js', import.meta.url);
  if (!source) return new Worker(target, { workerData: data });
  // a worker does not inherit the loader tsx registered in this thread: it registers its own first
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => m.register()).then(() => import(${JSON.stringify(target.href)}))`, {
    eval: true,
    workerData: data,
  });
}

/** One worker thread and the calls it has not answered yet; a worker that dies fails them and is started again on the next call. */
class Lane {
  private worker?: Worker;
  private next = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();

  constructor(private readonly data: FoldWorkerData) {}

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker(this.data);
    worker.unref();
    worker.on('message', (m: { id?: number; result?: unknown; error?: { code: string; message: string } }) => {
      const waiting = m.id === undefined ? undefined : this.pending.get(m.id);
      if (!waiting) return;
      this.pending.delete(m.id!);
      if (m.error) waiting.reject(new ActorlogError(m.error.code as ErrorCode, m.error.message));
      else waiting.resolve(m.result);
    });
    const fail = (reason: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(new Error(`the viewer's fold worker ${reason}`));
    };
    worker.on('error', (err) => fail(`failed: ${err.message}`));
    worker.on('exit', (code) => fail(`exited (${code})`));
    this.worker = worker;
    return worker;
  }

  private failAll(err: unknown): void {
    for (const [id, waiting] of this.pending) {
      this.pending.delete(id);
      waiting.reject(err);
    }
  }

  /** Starts the worker now (it loads its modules and opens the log before the first call needs it). */
  warm(): void {
    this.ensure();
  }

  call<T>(call: ReadCall, args: unknown[]): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.ensure().postMessage({ id, call, args });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new ActorlogError('STORE_UNAVAILABLE', 'the viewer is closed'));
    await worker?.terminate();
  }
}

/**
 * {@link StreamReads} answered by worker threads (cli/view/foldWorker.ts), each with its own
 * read-only connection and `ViewApi`: the server's thread only sends a call and waits. The selected
 * stream's reads (its snapshots, events, chart, sequence) go to one worker, the service at a
 * position (which folds many streams) to another, so on two cores neither waits for the other.
 */
export class WorkerReads implements StreamReads {
  private readonly streams: Lane;
  private readonly service_: Lane;
  private closed = false;

  constructor(data: FoldWorkerData) {
    this.streams = new Lane(data);
    this.service_ = new Lane(data);
  }

  private call<T>(lane: Lane, call: ReadCall, ...args: unknown[]): Promise<T> {
    if (this.closed) return Promise.reject(new ActorlogError('STORE_UNAVAILABLE', 'the viewer is closed'));
    return lane.call<T>(call, args);
  }

  streamInfo(streamId: string) {
    return this.call<Awaited<ReturnType<StreamReads['streamInfo']>>>(this.streams, 'streamInfo', streamId);
  }
  events(streamId: string, query: string) {
    return this.call<Awaited<ReturnType<StreamReads['events']>>>(this.streams, 'events', streamId, query);
  }
  at(streamId: string, version: number, actor: string) {
    return this.call<Awaited<ReturnType<StreamReads['at']>>>(this.streams, 'at', streamId, version, actor);
  }
  definition(streamId: string, actor: string, version: number) {
    return this.call<Awaited<ReturnType<StreamReads['definition']>>>(this.streams, 'definition', streamId, actor, version);
  }
  kinds(streamId: string) {
    return this.call<Awaited<ReturnType<StreamReads['kinds']>>>(this.streams, 'kinds', streamId);
  }
  sequence(streamId: string, query: string) {
    return this.call<Awaited<ReturnType<StreamReads['sequence']>>>(this.streams, 'sequence', streamId, query);
  }
  service(query: string) {
    return this.call<Awaited<ReturnType<StreamReads['service']>>>(this.service_, 'service', query);
  }
  exportTo(path: string, streamIds: string[], to?: number) {
    return this.call<Awaited<ReturnType<StreamReads['exportTo']>>>(this.service_, 'exportTo', path, streamIds, to);
  }

  /** Starts the selected stream's worker now, so the first reads do not wait for it to load (the service's starts on its first read). */
  warm(): void {
    this.streams.warm();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.streams.close(), this.service_.close()]);
  }
}

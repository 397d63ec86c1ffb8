import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { startYoiServer, type YoiServerHandle } from '../test/servers/yoi-server.ts';

/** What the load server answers over IPC: its URL once listening, the frames sent after a rate, or nothing after `close`. */
export interface ServerReply {
  url?: string;
  sent?: number;
}

/** A request to the load server: send `rate` frames/s in total for `seconds`, round robin over `workers`; or close. */
export interface ServerRequest {
  rate?: number;
  seconds?: number;
  workers?: string[];
  close?: boolean;
}

/**
 * Sends `rate` frames per second in total for `seconds`, round robin over `workers`, on a 5 ms
 * timer (the frames due so far each tick). Each frame is a yoi `text_delta` whose text is the
 * epoch time it was sent, ms, so the client can tell send-to-commit from arrival-to-commit.
 * Resolves with the count sent. Bounded: it stops at `seconds` whatever the loop's delay.
 */
export function offer(server: YoiServerHandle, rate: number, seconds: number, workers: string[]): Promise<number> {
  const total = Math.floor(rate * seconds);
  let sent = 0;
  let next = 0;
  const start = performance.now();
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const elapsed = (performance.now() - start) / 1000;
      const due = Math.min(total, Math.floor(rate * elapsed));
      while (sent < due) {
        server.emit('load', workers[next]!, { type: 'text_delta', text: String(performance.timeOrigin + performance.now()) });
        next = (next + 1) % workers.length;
        sent += 1;
      }
      if (sent >= total || elapsed >= seconds + 1) {
        clearInterval(timer);
        resolve(sent);
      }
    }, 5);
  });
}

/** The child process of bench/wsLoad.ts: a yoi test server on 127.0.0.1, driven over IPC. */
async function serve(): Promise<void> {
  const server = await startYoiServer({ retention: 200 });
  const reply = (m: ServerReply) => process.send!(m);
  process.on('message', (m: ServerRequest) => {
    if (m.close) {
      void server
        .close()
        .catch(() => undefined)
        .then(() => process.send!({}, () => process.exit(0)));
      return;
    }
    void offer(server, m.rate!, m.seconds!, m.workers!).then((sent) => reply({ sent }));
  });
  process.on('disconnect', () => process.exit(0)); // the bench went away: its sockets close with this process
  reply({ url: server.url });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.argv.includes('--serve')) await serve();

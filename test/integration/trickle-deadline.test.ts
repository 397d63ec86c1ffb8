import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { requestText } from '../../src/sources/poll/index.ts';
import { openSseConnection } from '../../src/sources/sse/connection.ts';
import { until, virtualTime } from '../support/kit/index.ts';

/** A server that answers headers at once, then drips one byte every 5 ms and never ends; `drips()` counts them. */
async function drippingServer(contentType: string, chunk = ' '): Promise<{ url: string; server: Server; drips: () => number }> {
  let drips = 0;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': contentType });
    res.flushHeaders();
    const t = setInterval(() => {
      res.write(chunk);
      drips++;
    }, 5);
    res.on('close', () => clearInterval(t));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server, drips: () => drips };
}

/** Lets real I/O run until `cond` holds. */
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('a trickled answer is bounded', () => {
  it('requestText: the overall deadline ends a call whose body drips, as TRANSIENT cause timeout', async () => {
    const { url, server, drips } = await drippingServer('application/json');
    servers.push(server);
    const vt = virtualTime();
    let settled = false;
    const call = requestText('molecule activity', { url }, { timeoutMs: 10_000, scheduler: vt.scheduler })
      .catch((e: unknown) => e)
      .finally(() => {
        settled = true;
      });
    for (const ms of [6_000, 3_999]) {
      // bytes keep coming between the steps
      const seen = drips();
      await until(() => drips() >= seen + 2, 'two more drips');
      vt.advance(ms);
    }
    expect(settled).toBe(false);
    vt.advance(1);
    expect(await call).toMatchObject({ code: 'TRANSIENT', details: { cause: 'timeout', timeoutMs: 10_000 } });
  });

  it('SSE: bytes that never complete an event do not re-arm the stall timer', async () => {
    const { url, server, drips } = await drippingServer('text/event-stream', 'x');
    servers.push(server);
    const vt = virtualTime();
    const items: string[] = [];
    let error: unknown;
    openSseConnection({ url }, { label: 'OpenCode /event', stallTimeoutMs: 1_000, scheduler: vt.scheduler }).subscribe({
      next: (i) => items.push(i.kind),
      error: (e) => {
        error = e;
      },
    });
    await until(() => items.length > 0, 'the first item');
    // "xxxx…" drips into one event that never ends: 600 ms, more bytes, 400 ms more is the stall bound
    for (const ms of [600, 400]) {
      const seen = drips();
      await until(() => drips() >= seen + 2, 'two more drips');
      vt.advance(ms);
    }
    await until(() => error !== undefined, 'the error');
    expect(items).toEqual(['open']);
    expect(error).toMatchObject({ code: 'TRANSIENT', details: { cause: 'stall', stallTimeoutMs: 1_000 } });
  });
});

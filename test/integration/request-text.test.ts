/** requestText (undici) against a real HTTP server on 127.0.0.1: failures classified once, bodies capped. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { requestText } from '../../src/sources/poll/index.ts';

describe('requestText (undici) classifies failures once', () => {
  it('503/429 TRANSIENT, 404/410 PERMANENT with the status, refused TRANSIENT, body capped', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/hang') return;
      const status = Number(req.url!.slice(1)) || 200;
      res.writeHead(status);
      res.end(status === 200 ? 'x'.repeat(5_000) : 'no');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const [status, code] of [
        [503, 'TRANSIENT'],
        [429, 'TRANSIENT'],
        [404, 'PERMANENT'],
        [410, 'PERMANENT'],
      ] as const) {
        await expect(requestText('t', { url: `${base}/${status}` })).rejects.toMatchObject({ code, details: { status } });
      }
      expect((await requestText('t', { url: `${base}/200` }, { maxBytes: 1_000 })).text).toHaveLength(1_000);
      // no answer within timeoutMs (seed 003: the client's 30 s timeout) is TRANSIENT
      await expect(requestText('t', { url: `${base}/hang` }, { timeoutMs: 100 })).rejects.toMatchObject({
        code: 'TRANSIENT',
        details: { cause: 'timeout', timeoutMs: 100 },
      });
    } finally {
      await new Promise((r) => server.close(r));
    }
    await expect(requestText('t', { url: `${base}/200` })).rejects.toMatchObject({ code: 'TRANSIENT', message: expect.stringMatching(/^t: network error/) });
  });
});

/** Transports redact credential and declared headers in what they describe, against a real HTTP server on 127.0.0.1 (invariant 7). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { firstValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActorlogError } from '../../src/index.ts';
import { REDACTED } from '../../src/transport/index.ts';
import { openSseConnection } from '../../src/sources/sse/connection.ts';
import { requestText } from '../../src/sources/poll/index.ts';

describe('transports redact credential headers in what they describe', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/denied') {
        res.writeHead(401, { 'content-type': 'text/plain' }).end(`denied, as sent:\nAuthorization: ${req.headers.authorization}`);
        return;
      }
      const type = req.url === '/stream' ? 'text/event-stream' : 'application/json';
      res.writeHead(200, { 'content-type': type, 'set-cookie': ['sid=SECRET-1', 'lang=en'], 'x-session-token': 'SECRET-2', 'x-request-id': 'req-1' });
      res.end(type === 'text/event-stream' ? 'data: {"tokenizer":"bpe"}\n\n' : '{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('requestText: the answer keeps its ordinary headers, credential and declared ones redacted', async () => {
    const res = await requestText('probe', { url: `${base}/json`, headers: { authorization: 'Bearer SECRET-0' } }, { secretHeaders: ['X-Session-Token'] });
    expect(res.headers).toMatchObject({ 'set-cookie': REDACTED, 'x-session-token': REDACTED, 'x-request-id': 'req-1' });
    expect(res.text).toBe('{"ok":true}');
  });

  it('SSE: open and body items carry redacted headers; an error keeps the server text scrubbed', async () => {
    const items = await firstValueFrom(openSseConnection({ url: `${base}/stream` }, { label: 'probe', secretHeaders: ['x-session-token'] }).pipe(toArray()));
    expect(items[0]).toMatchObject({ kind: 'open', headers: { 'set-cookie': REDACTED, 'x-session-token': REDACTED, 'x-request-id': 'req-1' } });
    expect(items[1]).toMatchObject({ kind: 'message', message: { data: '{"tokenizer":"bpe"}' } });
    const body = await firstValueFrom(openSseConnection({ url: `${base}/json` }, { label: 'probe' }));
    expect(body).toMatchObject({ kind: 'body', headers: { 'set-cookie': REDACTED, 'x-session-token': 'SECRET-2' } }); // not declared here
    const failed = await firstValueFrom(openSseConnection({ url: `${base}/denied`, headers: { authorization: 'Bearer SECRET-3' } }, { label: 'probe' })).catch(
      (e: ActorlogError) => e,
    );
    expect(failed).toMatchObject({ code: 'PERMANENT', details: { status: 401 } });
    const described = `${(failed as ActorlogError).message} ${JSON.stringify((failed as ActorlogError).details)}`;
    expect(described).toContain(`Authorization: Bearer ${REDACTED}`);
    expect(described).not.toContain('SECRET-3');
  });
});

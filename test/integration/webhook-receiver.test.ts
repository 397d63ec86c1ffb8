/** The webhook receiver, a local HTTP source, on real sockets (127.0.0.1). */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { SimulatedClock } from 'xstate';
import { isActorlogError } from '../../src/errors.ts';
import { createWebhookReceiver, signBody, type WebhookDelivery, type WebhookReceiver } from '../../src/sources/webhook/index.ts';

const SECRET = 'whsec-unit-test';

describe('webhook receiver (local HTTP source)', () => {
  const open: Array<WebhookReceiver | Server> = [];
  afterEach(async () => {
    for (const x of open.splice(0)) {
      if ('urlFor' in x) await x.close();
      else await new Promise((r) => x.close(r));
    }
  });
  async function receiver(options: Parameters<typeof createWebhookReceiver>[0] = {}) {
    const r = createWebhookReceiver({ secret: SECRET, ...options });
    open.push(r);
    await r.listen();
    return r;
  }
  const post = async (url: string, payload: string | Buffer, headers: Record<string, string> = {}, method = 'POST') => {
    const res = await request(url, { method, body: method === 'POST' ? payload : undefined, headers: { 'content-type': 'application/json', ...headers } });
    await res.body.dump();
    return res.statusCode;
  };
  const signed = (payload: string | Buffer) => ({ 'x-foreman-signature': signBody(SECRET, payload) });

  it('reads the signature from x-foreman-signature by default, the header foreman signs in; another header counts as missing', async () => {
    const r = await receiver();
    expect(r.signature.header).toBe('x-foreman-signature');
    const seen: WebhookDelivery[] = [];
    r.deliveries('k').subscribe((d) => seen.push(d));
    const payload = '{"job_id":"j-1","state":"done"}';
    expect(await post(r.urlFor('k'), payload, { 'X-Foreman-Signature': signBody(SECRET, payload) })).toBe(204);
    expect(await post(r.urlFor('k'), payload, { 'x-signature-256': signBody(SECRET, payload) })).toBe(401);
    expect(seen.map((d) => d.signature)).toEqual(['verified', 'missing-signature']);
    const github = await receiver({ signature: { header: 'X-Hub-Signature-256' } });
    expect(github.signature.header).toBe('x-hub-signature-256');
    expect(await post(github.urlFor('k'), payload, { 'x-hub-signature-256': signBody(SECRET, payload) })).toBe(202);
  });

  it('routes by key: live deliveries (204), buffered ones (202) delivered first on subscribe, in order', async () => {
    const r = await receiver();
    const early = '{"n":1}';
    expect(await post(r.urlFor('job 1/x'), early, signed(early))).toBe(202);
    const seen: WebhookDelivery[] = [];
    const sub = r.deliveries('job 1/x').subscribe((d) => seen.push(d));
    expect(seen.map((d) => d.body)).toEqual([early]);
    const live = '{"n":2}';
    expect(await post(r.urlFor('job 1/x'), live, signed(live))).toBe(204);
    expect(seen.map((d) => [d.body, d.signature, d.key])).toEqual([
      [early, 'verified', 'job 1/x'],
      [live, 'verified', 'job 1/x'],
    ]);
    expect(seen[1].seq).toBeGreaterThan(seen[0].seq);
    sub.unsubscribe();
    expect(r.stats()).toMatchObject({ received: 2, accepted: 2, rejected: 0, buffered: 0 });
  });

  it('answers 401 to a missing or bad signature and reports it to the follower as rejected, never accepted', async () => {
    const r = await receiver();
    const seen: WebhookDelivery[] = [];
    r.deliveries('k').subscribe((d) => seen.push(d));
    expect(await post(r.urlFor('k'), '{"a":1}')).toBe(401);
    expect(await post(r.urlFor('k'), '{"a":1}', { 'x-foreman-signature': signBody('wrong', '{"a":1}') })).toBe(401);
    expect(seen.map((d) => d.signature)).toEqual(['missing-signature', 'bad-signature']);
    expect(r.stats()).toMatchObject({ rejected: 2, accepted: 0 });
  });

  it('refuses wrong paths (404), methods (405) and bodies over maxBodyBytes (413) without buffering them', async () => {
    const r = await receiver({ maxBodyBytes: 64 });
    const base = r.urlFor('k').replace(/\/webhooks\/k$/, '');
    expect(await post(`${base}/elsewhere/k`, '{}', signed('{}'))).toBe(404);
    expect(await post(`${base}/webhooks/a/b`, '{}', signed('{}'))).toBe(404);
    expect(await post(r.urlFor('k'), '', {}, 'GET')).toBe(405);
    const big = JSON.stringify({ pad: 'x'.repeat(200) });
    expect(await post(r.urlFor('k'), big, signed(big))).toBe(413);
    // the refusal is reported to the key's follower (buffered until one follows), its body unread
    expect(r.stats()).toMatchObject({ tooLarge: 1, refused: 3, buffered: 1, accepted: 0 });
    const seen: WebhookDelivery[] = [];
    r.deliveries('k').subscribe((d) => seen.push(d));
    expect(seen).toMatchObject([{ key: 'k', body: '', signature: 'unread', refused: { reason: 'too-large', bytes: big.length, maxBodyBytes: 64 } }]);
  });

  it("raises its body bound to a binding's (never lowers it): a body refused 413 before is then read and verified", async () => {
    const r = await receiver({ maxBodyBytes: 64 });
    const big = JSON.stringify({ pad: 'x'.repeat(200) });
    expect(await post(r.urlFor('k'), big, signed(big))).toBe(413);
    r.acceptBodiesUpTo(1024);
    r.acceptBodiesUpTo(10);
    expect(r.maxBodyBytes).toBe(1024);
    expect(await post(r.urlFor('k2'), big, signed(big))).toBe(202);
    expect(() => r.acceptBodiesUpTo(0)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });

  it('answers 503 when the buffer is full, and forgets buffered webhooks after ttlMs (injected clock)', async () => {
    const clock = new SimulatedClock();
    clock.set(1_000_000);
    const r = await receiver({ clock, buffer: { maxPerKey: 1, ttlMs: 5_000 } });
    expect(await post(r.urlFor('k'), '{"n":1}', signed('{"n":1}'))).toBe(202);
    expect(await post(r.urlFor('k'), '{"n":2}', signed('{"n":2}'))).toBe(503);
    clock.increment(5_000);
    expect(r.stats()).toMatchObject({ buffered: 0, expired: 1, overflow: 1 });
    const seen: string[] = [];
    r.deliveries('k').subscribe((d) => seen.push(d.body));
    expect(seen).toEqual([]);
  });

  /** Writes raw bytes to the receiver in the given pieces and returns the status line of the answer. */
  async function raw(url: string, pieces: Buffer[]): Promise<string> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        // one piece per turn of the event loop; nothing here rejects (a write that fails is the socket's 'error': reject below)
        void (async () => {
          for (const piece of pieces) {
            socket.write(piece);
            await new Promise((r) => setImmediate(r));
          }
        })();
      });
      let answer = '';
      socket.on('data', (d) => {
        answer += d;
        if (answer.includes('\r\n')) {
          socket.destroy();
          resolve(answer.split('\r\n')[0]);
        }
      });
      socket.on('error', reject);
    });
  }

  it('reads a chunked body from raw bytes split anywhere, verifies it, and stops reading one over the limit (413)', async () => {
    const r = await receiver({ maxBodyBytes: 64 });
    const seen: WebhookDelivery[] = [];
    r.deliveries('k').subscribe((d) => seen.push(d));
    const path = new URL(r.urlFor('k')).pathname;
    const payload = '{"job_id":"j-1","state":"done"}';
    const head = `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Foreman-Signature: ${signBody(SECRET, payload)}\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const chunked = `${head}a\r\n${payload.slice(0, 10)}\r\n${(payload.length - 10).toString(16)}\r\n${payload.slice(10)}\r\n0\r\n\r\n`;
    const bytes = Buffer.from(chunked);
    const pieces = [bytes.subarray(0, 7), bytes.subarray(7, 60), bytes.subarray(60, 61), bytes.subarray(61)];
    expect(await raw(r.urlFor('k'), pieces)).toBe('HTTP/1.1 204 No Content');
    expect(seen.map((d) => [d.body, d.signature])).toEqual([[payload, 'verified']]);

    const big = 'x'.repeat(100);
    const over = Buffer.from(`${head}${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`);
    expect(await raw(r.urlFor('k'), [over.subarray(0, 150), over.subarray(150)])).toBe('HTTP/1.1 413 Payload Too Large');
    expect(seen).toHaveLength(2); // the refusal is reported with the head of what was read, never acted on
    expect(seen[1]).toMatchObject({ signature: 'unread', body: expect.stringMatching(/^x+$/), refused: { reason: 'too-large', maxBodyBytes: 64 } });
    expect(r.stats().tooLarge).toBe(1);
  });

  it('accepts unsigned webhooks when no secret is configured', async () => {
    const r = await receiver({ secret: undefined });
    const seen: WebhookDelivery[] = [];
    r.deliveries('k').subscribe((d) => seen.push(d));
    expect(await post(r.urlFor('k'), '{}')).toBe(204);
    expect(seen[0].signature).toBe('unsigned');
  });

  it('fails to bind a port in use with INVALID_OPTIONS (the caller then polls), and completes followers on close', async () => {
    const taken = createServer();
    open.push(taken);
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as AddressInfo).port;
    const r = createWebhookReceiver({ port });
    const err = await r.listen().catch((e: unknown) => e);
    expect(isActorlogError(err, 'INVALID_OPTIONS')).toBe(true);
    expect((err as { details: { cause: string } }).details.cause).toBe('EADDRINUSE');
    expect(r.listening).toBe(false);
    expect(() => r.urlFor('k')).toThrow(/not listening/);

    const ok = await receiver();
    let completed = false;
    ok.deliveries('k').subscribe({ complete: () => (completed = true) });
    await ok.close();
    expect(completed).toBe(true);
    expect(ok.listening).toBe(false);
  });

  it('checks its options before binding anything', () => {
    expect(() => createWebhookReceiver({ port: -1 })).toThrow(/port/);
    expect(() => createWebhookReceiver({ path: 'hooks' })).toThrow(/path/);
    expect(() => createWebhookReceiver({ secret: '' })).toThrow(/secret/);
    expect(() => createWebhookReceiver({ maxBodyBytes: 0 })).toThrow(/maxBodyBytes/);
  });
});

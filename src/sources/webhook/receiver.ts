import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Observable, type Subscriber } from 'rxjs';
import { ActorlogError } from '../../errors.ts';
import { readBoundedBody } from './body.ts';
import { KeyedBuffer } from './buffer.ts';
import { resolveReceiverOptions, type WebhookDelivery, type WebhookReceiverOptions, type WebhookReceiverStats } from './options.ts';
import { verifySignature, type SignatureScheme } from './signature.ts';

/** A local HTTP server that receives webhooks for many followers, routed by key. See {@link createWebhookReceiver}. */
export interface WebhookReceiver {
  /**
   * Binds the server. Resolves with the base URL (`publicUrl` or `http://<host>:<port>`); a second
   * call resolves with the same URL.
   * @throws ActorlogError `INVALID_OPTIONS` when the address cannot be bound (`details.cause`: `EADDRINUSE`, `EACCES`…):
   *   callers fall back to polling (seed 000, `Submit`: "If the webhook listener failed to bind, fall back to polling")
   */
  listen(): Promise<string>;
  /** True between a successful `listen()` and `close()`. */
  readonly listening: boolean;
  /** The largest body accepted now, bytes (`maxBodyBytes`, or more once a binding raised it). */
  readonly maxBodyBytes: number;
  /**
   * Raises the largest body accepted to at least `bytes` (never lowers it): a binding whose webhooks
   * carry big payloads (foreman results with inline artifacts) makes the receiver's bound follow its own.
   * @throws ActorlogError `INVALID_OPTIONS` for a bound that is not a whole number >= 1
   */
  acceptBodiesUpTo(bytes: number): void;
  /** Where this receiver reads signatures (header lower case, prefix), so a binding can check it is where its sender signs. */
  readonly signature: Readonly<SignatureScheme>;
  /**
   * The URL a remote POSTs `key`'s webhooks to: `<base><path>/<encodeURIComponent(key)>`.
   * @throws ActorlogError `INVALID_OPTIONS` when the receiver is not listening
   */
  urlFor(key: string): string;
  /**
   * The webhooks of `key`: first those buffered before anyone followed it (oldest first), then live
   * ones, until `close()` (which completes it). Rejected requests (`signature` not `verified` /
   * `unsigned`) are delivered too, at most `maxRejectedPerKey` per key, so the follower records
   * them; they were answered 401 and must not be acted on.
   */
  deliveries(key: string): Observable<WebhookDelivery>;
  /** Counters, and what the buffer holds now. */
  stats(): WebhookReceiverStats & { buffered: number };
  /** Stops the server, closes its connections and completes every follower. Idempotent. */
  close(): Promise<void>;
}

/**
 * Creates the webhook receiver source (docs/architecture.md, "Stream source": `webhook({ path, secret })`):
 * one local HTTP server per actor system, many followers routed by the key in the URL
 * (`POST <path>/<key>`, e.g. a job's id).
 *
 * Per request: wrong path 404, wrong method 405, body over `maxBodyBytes` 413 (not read further),
 * a missing or bad HMAC-SHA256 signature 401 (constant-time check, {@link verifySignature}; the
 * request is reported to the key's follower as rejected, never accepted). An accepted webhook is
 * handed to the key's live followers (204), or, when none follows the key yet, kept in a bounded
 * buffer (202) for `buffer.ttlMs` so a webhook that arrives before its job knows its id is not lost;
 * a full buffer answers 503 so the sender retries. No timers: expiry is checked against the injected clock.
 *
 * SOURCE: seed 000 (foreman client), `Submit` / `submitWithWebhook`: "Webhook receiver (preferred):
 * ephemeral HTTP server on random port, pushes results immediately, verifies HMAC when configured".
 *
 * @throws ActorlogError `INVALID_OPTIONS` for bad options (before binding anything)
 * @example
 * ```ts
 * const receiver = createWebhookReceiver({ secret: process.env.WEBHOOK_SECRET });
 * await receiver.listen();                                  // 'http://127.0.0.1:41913'
 * const url = receiver.urlFor('job-7');                     // give this to the remote
 * receiver.deliveries('job-7').subscribe((d) => console.log(d.signature, d.body));
 * ```
 */
export function createWebhookReceiver(options: WebhookReceiverOptions = {}): WebhookReceiver {
  const o = resolveReceiverOptions(options);
  const buffer = new KeyedBuffer<WebhookDelivery>(o.buffer);
  const followers = new Map<string, Set<Subscriber<WebhookDelivery>>>();
  const rejectedPerKey = new Map<string, number>();
  const counts: WebhookReceiverStats = { received: 0, accepted: 0, rejected: 0, tooLarge: 0, overflow: 0, expired: 0, refused: 0 };
  let server: Server | undefined;
  let base: string | undefined;
  let listening: Promise<string> | undefined;
  let seq = 0;

  const reply = (res: ServerResponse, status: number, headers: Record<string, string> = {}) => {
    res.writeHead(status, headers).end();
  };

  const keyOf = (url: string | undefined): string | undefined => {
    const pathname = (url ?? '').split('?')[0];
    if (!pathname.startsWith(`${o.path}/`)) return undefined;
    const rest = pathname.slice(o.path.length + 1);
    if (rest.length === 0 || rest.includes('/')) return undefined;
    try {
      return decodeURIComponent(rest);
    } catch {
      return undefined;
    }
  };

  const hand = (delivery: WebhookDelivery): boolean => {
    const live = followers.get(delivery.key);
    if (!live || live.size === 0) return false;
    // a copy: a subscriber that unsubscribes (or another that subscribes) while it is handed the delivery does not change who gets it
    for (const subscriber of Array.from(live)) subscriber.next(delivery);
    return true;
  };

  /** A refused request (bad signature, too large) goes to the key's follower, at most `maxRejectedPerKey` per key. */
  function reportRefused(delivery: WebhookDelivery): void {
    const n = rejectedPerKey.get(delivery.key) ?? 0;
    if (rejectedPerKey.size > o.buffer.maxKeys) rejectedPerKey.clear();
    if (n >= o.maxRejectedPerKey) return;
    rejectedPerKey.set(delivery.key, n + 1);
    if (!hand(delivery)) buffer.push(delivery.key, delivery, Buffer.byteLength(delivery.body), delivery.receivedAt);
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const key = keyOf(req.url);
    if (key === undefined) {
      counts.refused++;
      return reply(res, 404);
    }
    if (req.method !== 'POST') {
      counts.refused++;
      return reply(res, 405, { allow: 'POST' });
    }
    counts.received++;
    const read = await readBoundedBody(req, o.maxBodyBytes);
    if (!read.ok) {
      res.shouldKeepAlive = false;
      if (read.reason === 'too-large') {
        counts.tooLarge++;
        // reported, never silent: the follower records it (its job would otherwise wait for a webhook that never comes)
        reportRefused({
          key,
          seq: ++seq,
          receivedAt: o.clock.now(),
          body: read.head.toString('utf8'),
          signature: 'unread',
          refused: { reason: 'too-large', bytes: read.bytes, maxBodyBytes: o.maxBodyBytes },
        });
      }
      return reply(res, read.reason === 'too-large' ? 413 : 400, { connection: 'close' });
    }
    const signature = verifySignature(o.secret, read.body, req.headers[o.scheme.header], o.scheme);
    const contentType = req.headers['content-type'];
    const delivery: WebhookDelivery = {
      key,
      seq: ++seq,
      receivedAt: o.clock.now(),
      body: read.body.toString('utf8'),
      signature,
      ...(contentType ? { contentType } : {}),
    };
    const now = delivery.receivedAt;
    if (signature !== 'verified' && signature !== 'unsigned') {
      counts.rejected++;
      reportRefused(delivery);
      return reply(res, 401, { 'www-authenticate': 'HMAC-SHA256' });
    }
    if (hand(delivery)) {
      counts.accepted++;
      return reply(res, 204);
    }
    const refusal = buffer.push(key, delivery, read.body.length, now);
    if (refusal) {
      counts.overflow++;
      return reply(res, 503, { 'retry-after': '1' });
    }
    counts.accepted++;
    return reply(res, 202);
  }

  const receiver: WebhookReceiver = {
    get listening() {
      return base !== undefined;
    },
    signature: Object.freeze({ ...o.scheme }),
    get maxBodyBytes() {
      return o.maxBodyBytes;
    },
    acceptBodiesUpTo(bytes) {
      if (!Number.isInteger(bytes) || bytes < 1)
        throw new ActorlogError('INVALID_OPTIONS', `webhook receiver: acceptBodiesUpTo needs a whole number >= 1 (got ${bytes})`, {
          details: { option: 'maxBodyBytes' },
        });
      o.maxBodyBytes = Math.max(o.maxBodyBytes, bytes);
    },
    listen() {
      listening ??= new Promise<string>((resolve, reject) => {
        const s = createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => {
          onRequest(req, res).catch(() => {
            if (!res.headersSent) reply(res, 500);
          });
        });
        s.once('error', (err: NodeJS.ErrnoException) => {
          listening = undefined;
          reject(
            new ActorlogError('INVALID_OPTIONS', `webhook receiver cannot bind ${o.host}:${o.port} (${err.code ?? err.message})`, {
              cause: err,
              details: { host: o.host, port: o.port, cause: err.code },
            }),
          );
        });
        s.listen(o.port, o.host, () => {
          server = s;
          const { port } = s.address() as AddressInfo;
          base = o.publicUrl ?? `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
          resolve(base);
        });
      });
      return listening;
    },
    urlFor(key) {
      if (base === undefined) throw new ActorlogError('INVALID_OPTIONS', 'webhook receiver is not listening', { details: { key } });
      return `${base}${o.path}/${encodeURIComponent(key)}`;
    },
    deliveries(key) {
      return new Observable<WebhookDelivery>((subscriber) => {
        for (const delivery of buffer.take(key, o.clock.now())) subscriber.next(delivery);
        if (subscriber.closed) return;
        let set = followers.get(key);
        if (!set) followers.set(key, (set = new Set()));
        set.add(subscriber);
        return () => {
          set.delete(subscriber);
          if (set.size === 0 && followers.get(key) === set) followers.delete(key);
        };
      });
    },
    stats() {
      const size = buffer.size(o.clock.now());
      return { ...counts, expired: buffer.expired, buffered: size.entries };
    },
    async close() {
      const s = server;
      server = undefined;
      base = undefined;
      listening = undefined;
      // copies: a subscriber that completes leaves its set while the set is walked
      for (const set of followers.values()) for (const subscriber of Array.from(set)) subscriber.complete();
      followers.clear();
      buffer.clear();
      if (!s) return;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    },
  };
  return receiver;
}

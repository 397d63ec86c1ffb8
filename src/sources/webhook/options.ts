import { ActorlogError } from '../../errors.ts';
import { systemClock, type Clock } from '../../clock.ts';
import { DEFAULT_BUFFER_LIMITS, type KeyedBufferLimits } from './buffer.ts';
import { DEFAULT_SIGNATURE_SCHEME, type SignatureCheck, type SignatureScheme } from './signature.ts';

/** Options of {@link createWebhookReceiver}. Sizes in bytes, durations in ms. */
export interface WebhookReceiverOptions {
  /** Interface to bind. Keep it on loopback unless a remote must reach it. @default '127.0.0.1' */
  host?: string;
  /** TCP port; 0 takes a free one. A fixed port keeps the URLs given to remotes valid across restarts. @default 0 */
  port?: number;
  /** The path prefix webhooks are POSTed under: `<path>/<key>`. @default '/webhooks' */
  path?: string;
  /** The base URL remotes reach (a tunnel or proxy in front of the receiver). @default `http://<host>:<port>` */
  publicUrl?: string;
  /** The shared HMAC-SHA256 secret. Without it, bodies are not verified (`'unsigned'`). Kept in this closure only. */
  secret?: string;
  /** Where the signature travels. @default {@link DEFAULT_SIGNATURE_SCHEME} (`x-foreman-signature: sha256=<hex>`, what foreman daemons send) */
  signature?: Partial<SignatureScheme>;
  /**
   * Largest body accepted; a larger one is answered 413, not read further, and reported to the key's
   * follower (`refused: 'too-large'`). A binding raises it to its own bound (`acceptBodiesUpTo`:
   * foreman's results are 64 MiB). @default 1048576 (1 MiB)
   */
  maxBodyBytes?: number;
  /** Bounds of the buffer that holds webhooks for keys nobody follows yet. @default {@link DEFAULT_BUFFER_LIMITS} */
  buffer?: Partial<KeyedBufferLimits>;
  /** Rejected (badly signed) requests reported per key; more are only counted. @default 16 */
  maxRejectedPerKey?: number;
  /** Time source of `receivedAt` and of the buffer's expiry. @default systemClock */
  clock?: Clock;
}

/** One request the receiver took, as its follower sees it. JSON-safe. */
export interface WebhookDelivery {
  /** The routing key: the path segment after the prefix (URL-decoded). */
  key: string;
  /** 1, 2, 3… over the receiver's life: the order of arrival. */
  seq: number;
  /** ms since the Unix epoch. */
  receivedAt: number;
  /** The raw body, UTF-8 (at most `maxBodyBytes`; for a `too-large` one its first 4 KiB at most). */
  body: string;
  /**
   * `verified` or `unsigned` deliveries were accepted (2xx); the others were answered 401 (or 413,
   * `unread`: a body over `maxBodyBytes` is not checked) and must never be acted on.
   */
  signature: SignatureCheck | 'unread';
  /** Set when the body was over `maxBodyBytes`: answered 413 and reported so the follower records it. */
  refused?: { reason: 'too-large'; bytes: number; maxBodyBytes: number };
  /** The request's content type, if any. */
  contentType?: string;
}

/** Counters of a receiver since it was created. */
export interface WebhookReceiverStats {
  /** Requests that reached the webhook path. */
  received: number;
  /** Accepted (signature verified or not configured) and handed to a follower or the buffer. */
  accepted: number;
  /** Answered 401: missing or bad signature. */
  rejected: number;
  /** Answered 413: body over `maxBodyBytes`. */
  tooLarge: number;
  /** Answered 503: the buffer was full (the sender should retry). */
  overflow: number;
  /** Buffered webhooks dropped after `ttlMs` with no follower. */
  expired: number;
  /** Answered 404 or 405: wrong path or method. */
  refused: number;
}

/** Options with defaults applied. */
export interface ResolvedReceiverOptions {
  host: string;
  port: number;
  path: string;
  publicUrl?: string;
  secret?: string;
  scheme: SignatureScheme;
  maxBodyBytes: number;
  buffer: KeyedBufferLimits;
  maxRejectedPerKey: number;
  clock: Clock;
}

const positive = (name: string, value: number | undefined, fallback: number, min = 1): number => {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min)
    throw new ActorlogError('INVALID_OPTIONS', `webhook receiver: ${name} must be an integer >= ${min} (got ${v})`, { details: { option: name } });
  return v;
};

/**
 * Applies defaults and checks the options before anything binds.
 * @throws ActorlogError `INVALID_OPTIONS` for a bad port, path, size or limit
 */
export function resolveReceiverOptions(options: WebhookReceiverOptions = {}): ResolvedReceiverOptions {
  const path = (options.path ?? '/webhooks').replace(/\/+$/, '');
  if (!path.startsWith('/'))
    throw new ActorlogError('INVALID_OPTIONS', `webhook receiver: path must start with "/" (got ${options.path})`, { details: { option: 'path' } });
  if (options.secret !== undefined && options.secret.length === 0) {
    throw new ActorlogError('INVALID_OPTIONS', 'webhook receiver: secret must not be empty (omit it to accept unsigned webhooks)', {
      details: { option: 'secret' },
    });
  }
  const b = options.buffer ?? {};
  return {
    host: options.host ?? '127.0.0.1',
    port: positive('port', options.port, 0, 0),
    path,
    publicUrl: options.publicUrl?.replace(/\/+$/, ''),
    secret: options.secret,
    scheme: {
      header: (options.signature?.header ?? DEFAULT_SIGNATURE_SCHEME.header).toLowerCase(),
      prefix: options.signature?.prefix ?? DEFAULT_SIGNATURE_SCHEME.prefix,
    },
    maxBodyBytes: positive('maxBodyBytes', options.maxBodyBytes, 1024 * 1024),
    buffer: {
      ttlMs: positive('buffer.ttlMs', b.ttlMs, DEFAULT_BUFFER_LIMITS.ttlMs),
      maxPerKey: positive('buffer.maxPerKey', b.maxPerKey, DEFAULT_BUFFER_LIMITS.maxPerKey),
      maxKeys: positive('buffer.maxKeys', b.maxKeys, DEFAULT_BUFFER_LIMITS.maxKeys),
      maxBytes: positive('buffer.maxBytes', b.maxBytes, DEFAULT_BUFFER_LIMITS.maxBytes),
    },
    maxRejectedPerKey: positive('maxRejectedPerKey', options.maxRejectedPerKey, 16, 0),
    clock: options.clock ?? systemClock,
  };
}

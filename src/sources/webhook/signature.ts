import { createHmac, timingSafeEqual } from 'node:crypto';

/** How a webhook signature is carried: the header and the text before the hex digest. */
export interface SignatureScheme {
  /** The request header holding the signature, lower case. @default 'x-foreman-signature' */
  header: string;
  /** The text before the hex HMAC in that header. @default 'sha256=' */
  prefix: string;
}

/**
 * The scheme used when none is given: `X-Foreman-Signature: sha256=<hex>`, the header foreman
 * daemons sign state webhooks in (machines/foreman `FOREMAN_SIGNATURE_HEADER`), so
 * `createWebhookReceiver({ secret })` accepts them. Other senders: set `signature.header`
 * (GitHub style: `x-hub-signature-256`).
 */
export const DEFAULT_SIGNATURE_SCHEME: SignatureScheme = { header: 'x-foreman-signature', prefix: 'sha256=' };

/** The outcome of checking one request's signature. */
export type SignatureCheck = 'verified' | 'unsigned' | 'missing-signature' | 'bad-signature';

/**
 * The signature header value for `body`: `prefix` + hex HMAC-SHA256 of the raw body bytes with
 * `secret`. Senders (and test servers) sign with it; {@link verifySignature} checks it.
 *
 * SOURCE: seed 000 (foreman client), `WithWebhookSecret`: "HMAC-SHA256 verification on received
 * events" (foreman ADR-0005). The seed does not show the header name; the scheme is an option.
 *
 * @param body the raw request body (a string is taken as UTF-8)
 * @example
 * ```ts
 * signBody('s3cret', '{"job_id":"j1"}'); // 'sha256=5b1c…'
 * ```
 */
export function signBody(secret: string, body: string | Buffer, scheme: SignatureScheme = DEFAULT_SIGNATURE_SCHEME): string {
  return scheme.prefix + createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * Checks a request's signature header against the HMAC-SHA256 of its raw body, in constant time
 * (`crypto.timingSafeEqual` over the digest bytes; a header of the wrong length or not hex fails
 * without comparing).
 *
 * @param secret the shared secret; `undefined` means no verification is configured (`'unsigned'`)
 * @param header the header value as received (`undefined` when absent)
 * @returns `verified`, `unsigned` (no secret configured), `missing-signature` or `bad-signature`
 * @example
 * ```ts
 * verifySignature('s3cret', rawBody, req.headers['x-foreman-signature']); // 'verified' | 'bad-signature' | …
 * ```
 */
export function verifySignature(
  secret: string | undefined,
  body: Buffer,
  header: string | string[] | undefined,
  scheme: SignatureScheme = DEFAULT_SIGNATURE_SCHEME,
): SignatureCheck {
  if (secret === undefined) return 'unsigned';
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return 'missing-signature';
  const expected = createHmac('sha256', secret).update(body).digest();
  const hex = value.startsWith(scheme.prefix) ? value.slice(scheme.prefix.length).trim() : '';
  if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== expected.length * 2) return 'bad-signature';
  return timingSafeEqual(Buffer.from(hex, 'hex'), expected) ? 'verified' : 'bad-signature';
}

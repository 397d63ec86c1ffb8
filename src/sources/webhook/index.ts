/** The webhook receiver source: a local HTTP server, HMAC-SHA256 verification, a bounded buffer by key. */
export { createWebhookReceiver, type WebhookReceiver } from './receiver.ts';
export type { WebhookDelivery, WebhookReceiverOptions, WebhookReceiverStats } from './options.ts';
export { signBody, verifySignature, DEFAULT_SIGNATURE_SCHEME, type SignatureCheck, type SignatureScheme } from './signature.ts';
export { KeyedBuffer, DEFAULT_BUFFER_LIMITS, type KeyedBufferLimits, type BufferRefusal } from './buffer.ts';
export { readBoundedBody, type BodyResult } from './body.ts';

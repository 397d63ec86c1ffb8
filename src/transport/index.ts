/**
 * The transport kit (`actorlog/transport`): what the shipped bindings use to turn the wire into
 * events, for your own invoked actors. Failures are classified once (`httpStatusError`,
 * `networkError`: `TRANSIENT` or `PERMANENT`, a 429/503's `Retry-After` kept as
 * `details.retryAfterMs`; `invalidPayload`: `INVALID_PAYLOAD`; `unlessNotDelivered`:
 * `OUTCOME_UNKNOWN` for a non-idempotent call whose answer was lost), retries back off one way
 * (`RetryOptions`, `backoffDelay`, `seededBackoffDelay` for journaled timers, both honouring
 * `Retry-After`), a call is bounded by a deadline and a stall bound that a dripping body does not
 * re-arm (`watchCall`) and reads its body within a size bound (`readBodyText`), a promise becomes
 * an abortable observable (`fromCall`), wire JSON is decoded within depth and size bounds and
 * checked by a zod schema without throwing (`decodeJson`; `parseJson` without a schema), and what
 * you keep of a raw frame or header set is scrubbed of credentials (`keepRaw`, `keepRawBytes` for
 * bytes, `redactHeaders`, `scrubCredentials`).
 */
export { backoffDelay, DEFAULT_RETRY, resolveRetryOptions, seededBackoffDelay, seededRandom, type RetryOptions } from './backoff.ts';
export { httpStatusError, invalidPayload, isTransientStatus, keepRaw, MAX_RAW_BYTES, networkError, truncateRaw } from './classify.ts';
export { watchCall, type CallLimits, type CallWatch } from './callWatch.ts';
export { CREDENTIAL_HEADERS, REDACTED, redactHeaders } from './credentialHeaders.ts';
export {
  decodeJson,
  DEFAULT_JSON_LIMITS,
  parseJson,
  parseJsonFrame,
  schemaErrorText,
  type Decoded,
  type JsonLimits,
  type JsonRefusal,
  type ParsedFrame,
  type ParsedJson,
} from './boundedJson.ts';
export { fromCall } from './fromCall.ts';
export { notDelivered, unlessNotDelivered } from './outcome.ts';
export { keepRawBytes, type KeptBytes } from './rawBytes.ts';
export { readBodyText, type ReadBodyOptions } from './readBody.ts';
export { MAX_RETRY_AFTER_MS, parseRetryAfter, RETRY_AFTER_STATUSES, retryAfterMsOf, retryAfterOf } from './retryAfter.ts';
export { scrubCredentials } from './scrubCredentials.ts';

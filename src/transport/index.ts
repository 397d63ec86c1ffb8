/**
 * The transport kit (`actorlog/transport`): what the shipped bindings use to turn the wire into
 * events, for your own invoked actors. Failures are classified once (`httpStatusError`,
 * `networkError`: `TRANSIENT` or `PERMANENT`; `invalidPayload`: `INVALID_PAYLOAD`), retries back
 * off the same way (`backoffDelay`), a promise becomes an abortable observable (`fromCall`), a JSON
 * payload is parsed within depth and size bounds without throwing (`parseJson`; `parseJsonFrame`
 * adds a zod schema), and what you keep of a raw frame or header set is scrubbed of credentials
 * (`keepRaw`, `keepRawBytes` for bytes, `redactHeaders`, `scrubCredentials`).
 */
export { backoffDelay, type BackoffOptions } from './backoff.ts';
export { httpStatusError, invalidPayload, isTransientStatus, keepRaw, MAX_RAW_BYTES, networkError, truncateRaw } from './classify.ts';
export { CREDENTIAL_HEADERS, REDACTED, redactHeaders } from './credentialHeaders.ts';
export { DEFAULT_JSON_LIMITS, parseJson, parseJsonFrame, type JsonLimits, type JsonRefusal, type ParsedFrame, type ParsedJson } from './boundedJson.ts';
export { fromCall } from './fromCall.ts';
export { keepRawBytes, type KeptBytes } from './rawBytes.ts';
export { scrubCredentials } from './scrubCredentials.ts';


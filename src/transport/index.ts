/**
 * The transport kit (`actorlog/transport`): what the shipped bindings use to turn the wire into
 * events, for your own invoked actors. Failures are classified once (`httpStatusError`,
 * `networkError`: `TRANSIENT` or `PERMANENT`; `invalidPayload`: `INVALID_PAYLOAD`), retries back
 * off the same way (`backoffDelay`), a promise becomes an abortable observable (`fromCall`), a JSON
 * frame is parsed against a zod schema without throwing (`parseJsonFrame`), and what you keep of a
 * raw frame or header set is scrubbed of credentials (`keepRaw`, `redactHeaders`,
 * `scrubCredentials`).
 */
export { backoffDelay, type BackoffOptions } from './backoff.ts';
export { httpStatusError, invalidPayload, isTransientStatus, keepRaw, MAX_RAW_BYTES, networkError, truncateRaw } from './classify.ts';
export { CREDENTIAL_HEADERS, REDACTED, redactHeaders } from './credentialHeaders.ts';
export { fromCall } from './fromCall.ts';
export { scrubCredentials } from './scrubCredentials.ts';
export { parseJsonFrame, type ParsedFrame } from '../sources/webSocket/parser.ts';

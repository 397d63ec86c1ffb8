import { REDACTED } from './credentialHeaders.ts';

/**
 * The credential forms {@link scrubCredentials} recognises, each unambiguous by its shape, never
 * by a word alone ("Basic usage of git", `next_page_token`, `tokenizer` are ordinary text).
 */
const FORMS: Array<[RegExp, string]> = [
  // An Authorization / Proxy-Authorization value after its key, as a header line, a JSON field
  // (also JSON embedded in a string) or a parameter: the scheme is kept, the credential goes.
  [/(\b(?:proxy-)?authorization\\*["']?[ \t]*[:=][ \t]*\\*["']?[ \t]*)((?:[A-Za-z][\w-]*[ \t]+)?)[^\s"'\\,;&}\]]+/gi, `$1$2${REDACTED}`],
  // A Cookie / Set-Cookie header line: the whole value.
  [/^([ \t]*(?:set-)?cookie[ \t]*:[ \t]*)[^\r\n]+/gim, `$1${REDACTED}`],
  // A "cookie" / "set-cookie" JSON field: a string, or an array of strings.
  [/(["'](?:set-)?cookie["'][ \t]*:[ \t]*)(?:"(?:[^"\\]|\\.)*"|\[[^\]]*\])/gi, `$1"${REDACTED}"`],
  // A JSON Web Token (RFC 7519): two base64url JSON objects ("eyJ" = `{"`) and a signature.
  [/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // The password of a URL's userinfo (RFC 3986 §3.2.1): scheme://user:password@host.
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/?#"'<>]*):[^\s@/?#"'<>]+@/gi, `$1:${REDACTED}@`],
  // OAuth 2.0 parameters that are credentials by definition (RFC 6749 §4-6, RFC 6750 §2.3).
  [/([?&#](?:access_token|refresh_token|id_token|client_secret)=)[^&#\s"'<>]+/gi, `$1${REDACTED}`],
];

/**
 * `text` with unambiguous credential forms replaced by {@link REDACTED}: an `Authorization` or
 * `Proxy-Authorization` value after its key (`Authorization: Bearer abc` -> `Authorization: Bearer
 * [redacted]`, also as a JSON field), `Cookie`/`Set-Cookie` header lines and JSON fields, JSON Web
 * Tokens (`eyJ….eyJ….…`), URL userinfo passwords (`https://u:[redacted]@host`) and the OAuth
 * `access_token`, `refresh_token`, `id_token`, `client_secret` parameters. Plain words are never
 * touched. Applied only to raw text a transport keeps from the wire (the `raw` of `*.invalid`
 * events, an error's server text; see {@link keepRaw}), never to ordinary events.
 *
 * @example
 * ```ts
 * scrubCredentials('GET / HTTP/1.1\r\nAuthorization: Bearer abc123\r\n'); // '…Authorization: Bearer [redacted]\r\n'
 * scrubCredentials('Basic usage of git');                                 // unchanged
 * ```
 */
export function scrubCredentials(text: string): string {
  let out = text;
  for (const [form, replacement] of FORMS) out = out.replace(form, replacement);
  return out;
}

// Invariant 7 (secrets never reach the log), as a rule: secrets are named where they enter, never guessed.
// What transports redact on a real socket: test/integration/redact-transports.test.ts.
import { describe, expect, it } from 'vitest';
import { ActorlogError } from '../../src/index.ts';
import { CREDENTIAL_HEADERS, invalidPayload, keepRaw, MAX_RAW_BYTES, REDACTED, redactHeaders, scrubCredentials } from '../../src/transport/index.ts';
import { journalEventData, journalInput } from '../../src/runtime/eventCodec.ts';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.sGn4tUrE_x';

describe('scrubCredentials: unambiguous credential forms only', () => {
  it('redacts Authorization values after their key, keeping the scheme, in header lines, JSON and embedded JSON', () => {
    expect(scrubCredentials('GET / HTTP/1.1\r\nAuthorization: Bearer abc.123\r\nAccept: */*')).toBe(
      `GET / HTTP/1.1\r\nAuthorization: Bearer ${REDACTED}\r\nAccept: */*`,
    );
    expect(scrubCredentials('proxy-authorization: Basic dXNlcjpwYXNz')).toBe(`proxy-authorization: Basic ${REDACTED}`);
    expect(scrubCredentials('{"headers":{"Authorization":"Bearer abc","accept":"x"}}')).toBe(`{"headers":{"Authorization":"Bearer ${REDACTED}","accept":"x"}}`);
    expect(scrubCredentials('{"authorization":"sk-abc"}')).toBe(`{"authorization":"${REDACTED}"}`);
    expect(scrubCredentials('{"raw":"{\\"authorization\\":\\"Bearer abc\\"}"}')).toBe(`{"raw":"{\\"authorization\\":\\"Bearer ${REDACTED}\\"}"}`);
  });

  it('redacts cookie header lines and fields, JWTs, URL userinfo passwords and OAuth credential parameters', () => {
    expect(scrubCredentials('Set-Cookie: sid=abc; HttpOnly\nCookie: a=1; b=2\nx: y')).toBe(`Set-Cookie: ${REDACTED}\nCookie: ${REDACTED}\nx: y`);
    expect(scrubCredentials('{"set-cookie":["sid=abc","b=2"],"cookie":"a=1"}')).toBe(`{"set-cookie":"${REDACTED}","cookie":"${REDACTED}"}`);
    expect(scrubCredentials(`session ${JWT} ok`)).toBe(`session ${REDACTED} ok`);
    expect(scrubCredentials('fetch https://ada:pa55@example.test/x and http://127.0.0.1:8080/y@z')).toBe(
      `fetch https://ada:${REDACTED}@example.test/x and http://127.0.0.1:8080/y@z`,
    );
    expect(scrubCredentials('/cb?code=1&access_token=abc&page=2#refresh_token=r')).toBe(`/cb?code=1&access_token=${REDACTED}&page=2#refresh_token=${REDACTED}`);
  });

  it('never touches plain words or fields that only sound secret', () => {
    const ordinary = [
      'Basic usage of git',
      'Bearer tokens are described in RFC 6750',
      'Authorization is required',
      'the token limit was reached',
      '{"next_page_token":"npt-1","tokenizer":"cl100k_base","params":{"progressToken":"job-1:p1"},"password_hint":"pet"}',
      'https://api.test/items?next_page_token=abc&secret_santa=1',
      '{"usage":{"total_tokens":12},"author":"ada","eyJ":"x"}',
    ];
    for (const text of ordinary) expect(scrubCredentials(text)).toBe(text);
  });
});

describe('redactHeaders: the credential headers and the declared ones', () => {
  it('redacts authorization, proxy-authorization, cookie, set-cookie and declared names, case-insensitively, without changing the input', () => {
    const headers = {
      Authorization: 'Bearer a',
      'proxy-authorization': 'b',
      Cookie: 'c',
      'set-cookie': ['d', 'e'],
      'X-Api-Key': 'k',
      'x-request-id': 'r',
      'x-tokenizer': 't',
    };
    expect(redactHeaders(headers, ['x-api-key'])).toEqual({
      Authorization: REDACTED,
      'proxy-authorization': REDACTED,
      Cookie: REDACTED,
      'set-cookie': REDACTED,
      'X-Api-Key': REDACTED,
      'x-request-id': 'r',
      'x-tokenizer': 't',
    });
    expect(headers.Authorization).toBe('Bearer a');
    expect(redactHeaders({ 'x-api-key': 'k' })).toEqual({ 'x-api-key': 'k' }); // not declared: not a secret
    expect(CREDENTIAL_HEADERS).toEqual(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);
  });
});

describe('keepRaw and invalidPayload: what an *.invalid event keeps', () => {
  it('scrubs before cutting to 4 KiB, so a credential across the cut is not half kept', () => {
    const raw = `${'x'.repeat(MAX_RAW_BYTES - 30)} Authorization: Bearer ${'s'.repeat(100)} tail`;
    const kept = keepRaw(raw);
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(MAX_RAW_BYTES);
    expect(kept).toBe(`${'x'.repeat(MAX_RAW_BYTES - 30)} Authorization: Bearer ${REDACTED}`.slice(0, MAX_RAW_BYTES)); // cut inside the mark
    expect(kept).not.toContain('sss');
  });

  it("scrubs the raw text and the reason (a parser's message may quote the text)", () => {
    const raw = 'Authorization: Bearer sk-live-1';
    const err = invalidPayload('feed', raw, `not a frame: "${raw}"`);
    expect(err).toBeInstanceOf(ActorlogError);
    expect(err.code).toBe('INVALID_PAYLOAD');
    expect(err.details).toMatchObject({ raw: `Authorization: Bearer ${REDACTED}` });
    expect(`${err.message} ${JSON.stringify(err.details)}`).not.toContain('sk-live-1');
    expect(invalidPayload('feed', '{"kind":"Basic usage of git"}', 'kind: expected a number').details).toMatchObject({ raw: '{"kind":"Basic usage of git"}' });
  });
});

describe('the runtime does not guess: events and input are logged as sent', () => {
  it('journalEventData keeps secret-sounding fields, describes Errors and leaves the live event alone', () => {
    const event = { type: 'page', next_page_token: 'npt-1', auth: 'basic', error: Object.assign(new Error('token expired'), { code: 'PERMANENT' }) };
    expect(journalEventData(event)).toEqual({ next_page_token: 'npt-1', auth: 'basic', error: { name: 'Error', message: 'token expired', code: 'PERMANENT' } });
    expect(event.error).toBeInstanceOf(Error);
    const search = { type: 'search', query: 'Basic usage of git' };
    expect(journalEventData(search)).toEqual({ query: 'Basic usage of git' });
  });

  it('journalInput is the JSON copy of the input (null for none), not redacted', () => {
    const input = { apiKeyName: 'OPENAI', at: new Date(0), skip: undefined };
    expect(journalInput(input)).toEqual({ apiKeyName: 'OPENAI', at: '1970-01-01T00:00:00.000Z' });
    expect(journalInput(undefined)).toBeNull();
  });
});

import { MockAgent } from 'undici';
import { describe, expect, it } from 'vitest';
import { mapMcpMessage } from '../../machines/mcp/actors.ts';
import { opencodeSessionActors } from '../../machines/opencode/actors.ts';
import { createOpencodeClient, opencodeMessageId, opencodeSessionId, promptIdOf, toServerModel, toServerTools } from '../../machines/opencode/client.ts';
import { durableCursor, mapDurableEvent, mapGlobalEvent, type MessageMemo } from '../../machines/opencode/mapEvents.ts';

const SES = 'ses_abc';
const ev = (type: string, properties: Record<string, unknown>) => JSON.stringify({ id: 'evt_1', type, properties: { sessionID: SES, ...properties } });
const durable = (seq: number, type: string, data: Record<string, unknown>) =>
  JSON.stringify({ id: `evt_${seq}`, type, durable: { aggregateID: SES, seq, version: 1 }, data });

describe('OpenCode idempotency keys', () => {
  it('derives a stable message id per (session, prompt) that tells which prompt an answer belongs to', () => {
    const id = opencodeMessageId(SES, 'chat-1:p2');
    expect(id).toMatch(/^msg_[0-9a-f]{8}[A-Za-z0-9_-]+$/);
    expect(opencodeMessageId(SES, 'chat-1:p2')).toBe(id);
    expect(opencodeMessageId('ses_other', 'chat-1:p2')).not.toBe(id);
    expect(promptIdOf(id, SES)).toBe('chat-1:p2');
    expect(promptIdOf(id, 'ses_other')).toBeUndefined();
    expect(promptIdOf('msg_2011dbb06001mGPMNx33TH6QQJ', SES)).toBeUndefined(); // a server-made id
    expect(opencodeSessionId('chat-1')).toMatch(/^ses_[0-9a-f]{26}$/);
  });
});

describe('OpenCode client defaults (seed 001 NewClient)', () => {
  it('talks to http://127.0.0.1:4096 when no url is given, as user "opencode"', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect(); // any other origin fails
    const seen: Array<{ path: string; auth?: string }> = [];
    agent
      .get('http://127.0.0.1:4096')
      .intercept({ path: '/global/health', method: 'GET' })
      .reply(200, (opts) => {
        seen.push({ path: opts.path, auth: (opts.headers as Record<string, string>).authorization });
        return { healthy: true, version: '1.18.33' };
      });
    const client = createOpencodeClient({ password: 'p', dispatcher: agent });
    expect(await client.health()).toEqual({ healthy: true, version: '1.18.33' });
    expect(seen).toEqual([{ path: '/global/health', auth: `Basic ${Buffer.from('opencode:p').toString('base64')}` }]);
    expect(client.globalEventsRequest().url).toBe('http://127.0.0.1:4096/event');
    expect(createOpencodeClient().durableEventsRequest('ses_1', '7').url).toBe('http://127.0.0.1:4096/api/session/ses_1/event?after=7');
    expect(Object.keys(opencodeSessionActors()).sort()).toEqual(['abort', 'close', 'events', 'open', 'prompt']); // no option is required
    await agent.close();
  });

  it('refuses a timeout that is not > 0 (Infinity: none)', () => {
    expect(() => createOpencodeClient({ timeoutMs: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() => createOpencodeClient({ timeoutMs: Number.NaN })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() => createOpencodeClient({ timeoutMs: Infinity })).not.toThrow();
  });

  it("turns the seed's model string and tools list into the forms opencode accepts", () => {
    expect(toServerModel('fake/fast')).toEqual({ providerID: 'fake', modelID: 'fast' });
    expect(toServerModel('openrouter/anthropic/claude')).toEqual({ providerID: 'openrouter', modelID: 'anthropic/claude' });
    expect(toServerModel({ providerID: 'p', modelID: 'm' })).toEqual({ providerID: 'p', modelID: 'm' });
    for (const bad of ['fast', '/fast', 'fake/']) expect(() => toServerModel(bad)).toThrow(expect.objectContaining({ code: 'PERMANENT' }));
    expect(toServerTools(['bash', 'read'])).toEqual({ bash: true, read: true });
    expect(toServerTools({ bash: false })).toEqual({ bash: false });
  });
});

describe('OpenCode global stream (GET /event) mapping', () => {
  it('keeps only this session, maps status, parts of answers, errors, and records bad payloads', () => {
    const memo: MessageMemo = new Map();
    const user = opencodeMessageId(SES, 's:p1');
    expect(mapGlobalEvent(JSON.stringify({ type: 'server.connected', properties: {} }), SES, memo)).toEqual([]);
    expect(mapGlobalEvent(ev('session.status', { sessionID: 'ses_other', status: { type: 'busy' } }), SES, memo)).toEqual([]);
    expect(mapGlobalEvent(ev('session.status', { status: { type: 'busy' } }), SES, memo)).toEqual([
      { type: 'session.status', status: 'busy', kind: 'session.status', meta: { source: 'sse' } },
    ]);
    mapGlobalEvent(ev('message.updated', { info: { id: user, role: 'user' } }), SES, memo);
    mapGlobalEvent(ev('message.updated', { info: { id: 'msg_a', role: 'assistant', parentID: user } }), SES, memo);
    expect(
      mapGlobalEvent(ev('message.part.updated', { part: { id: 'prt_u', messageID: user, type: 'text', text: 'my prompt' }, time: 1 }), SES, memo)[0].type,
    ).toBe('session.event');
    expect(mapGlobalEvent(ev('message.part.delta', { messageID: 'msg_a', partID: 'prt_1', field: 'text', delta: 'Hi' }), SES, memo)).toEqual([
      { type: 'session.part', kind: 'message.part.delta', part: { id: 'prt_1', delta: 'Hi' }, promptId: 's:p1', meta: { source: 'sse' } },
    ]);
    expect(mapGlobalEvent(ev('session.error', { error: { name: 'MessageAbortedError', data: { message: 'Aborted' } } }), SES, memo)[0]).toMatchObject({
      type: 'session.ended',
      reason: 'aborted',
    });
    expect(mapGlobalEvent(ev('session.error', { error: { name: 'APIError', data: { message: 'boom' } } }), SES, memo)[0]).toMatchObject({
      reason: 'failed',
      error: { name: 'APIError', message: 'boom' },
    });
    expect(mapGlobalEvent('{"type":"session.status",', SES, memo)[0]).toMatchObject({ type: 'session.invalid', raw: '{"type":"session.status",' });
    expect(mapGlobalEvent(ev('session.status', { status: { type: 7 } }), SES, memo)[0]).toMatchObject({ type: 'session.invalid' });
  });
});

describe('OpenCode durable stream (GET /api/session/:id/event) mapping', () => {
  it('puts durable.seq in meta.cursor and maps the turn: prompted -> busy, text -> parts, step.ended -> ended', () => {
    expect(durableCursor(durable(7, 'x', {}))).toBe('7');
    expect(durableCursor('not json')).toBeUndefined();
    expect(mapDurableEvent(durable(2, 'session.next.prompted', {}))).toEqual({
      type: 'session.status',
      status: 'busy',
      kind: 'session.next.prompted',
      meta: { source: 'sse', cursor: '2' },
    });
    expect(mapDurableEvent(durable(5, 'session.next.text.ended', { assistantMessageID: 'msg_a', textID: 'text-0', text: 'done' }))).toMatchObject({
      type: 'session.part',
      part: { id: 'msg_a:text-0', type: 'text', text: 'done' },
      meta: { cursor: '5' },
    });
    expect(mapDurableEvent(durable(6, 'session.next.step.ended', { finish: 'tool-calls' })).type).toBe('session.event');
    expect(mapDurableEvent(durable(9, 'session.next.step.ended', { finish: 'stop' }))).toMatchObject({ type: 'session.ended', reason: 'completed' });
    expect(mapDurableEvent(durable(9, 'session.next.step.failed', { error: { type: 'unknown', message: 'Provider turn interrupted' } }))).toMatchObject({
      reason: 'aborted',
    });
    expect(mapDurableEvent('{"id":"evt_1","type":"x"}')).toMatchObject({ type: 'session.invalid', meta: { source: 'sse' } });
  });
});

describe('MCP stream message mapping', () => {
  const meta = { source: 'sse' as const, cursor: 's_1' };
  it('maps the priming event, progress for our token, the result, errors, and bad payloads', () => {
    expect(mapMcpMessage('', 'k:p1', meta, 'prompt')).toEqual({ type: 'session.event', kind: 'mcp.priming', meta, channel: 'prompt' });
    const progress = JSON.stringify({
      jsonrpc: '2.0',
      method: 'notifications/progress',
      params: { progressToken: 'k:p1', progress: 2, total: 5, message: 'two' },
    });
    expect(mapMcpMessage(progress, 'k:p1', meta, 'prompt')).toMatchObject({
      type: 'session.part',
      part: { id: 'k:p1', type: 'progress', progress: 2, total: 5, text: 'two' },
    });
    expect(JSON.stringify(mapMcpMessage(progress, 'k:p1', meta, 'prompt'))).not.toContain('progressToken');
    const result = JSON.stringify({ jsonrpc: '2.0', id: 'k:p1', result: { content: [{ type: 'text', text: 'ok' }] } });
    expect(mapMcpMessage(result, 'k:p1', meta, 'prompt')).toMatchObject({ type: 'session.ended', reason: 'completed', output: 'ok' });
    const toolError = JSON.stringify({ jsonrpc: '2.0', id: 'k:p1', result: { content: [{ type: 'text', text: 'bad' }], isError: true } });
    expect(mapMcpMessage(toolError, 'k:p1', meta, 'prompt')).toMatchObject({ reason: 'failed', error: { name: 'ToolError' } });
    const rpcError = JSON.stringify({ jsonrpc: '2.0', id: 'k:p1', error: { code: -32602, message: 'Unknown tool' } });
    expect(mapMcpMessage(rpcError, 'k:p1', meta, 'prompt')).toMatchObject({ reason: 'failed', error: { code: 'PERMANENT' } });
    expect(mapMcpMessage('{"jsonrpc":"2.0","method":', 'k:p1', meta, 'prompt')).toMatchObject({ type: 'session.invalid', meta });
    expect(mapMcpMessage('{"jsonrpc":"1.0","id":1}', 'k:p1', meta, 'events')).toMatchObject({ type: 'session.invalid' });
  });
});

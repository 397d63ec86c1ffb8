import { describe, expect, it } from 'vitest';
import { createSseDecoder, type SseMessage } from '../../src/sources/sse/parser.ts';

function decode(chunks: Uint8Array[], maxBufferChars?: number) {
  const messages: SseMessage[] = [];
  const retries: number[] = [];
  const comments: string[] = [];
  let overflow = 0;
  const d = createSseDecoder(
    {
      onMessage: (m) => messages.push(m),
      onRetry: (ms) => retries.push(ms),
      onComment: (c) => comments.push(c),
      onOverflow: () => {
        overflow += 1;
      },
    },
    { maxBufferChars },
  );
  for (const c of chunks) d.feed(c);
  return { messages, retries, comments, overflow, decoder: d };
}

const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');

describe('SSE parser (raw bytes in, messages out)', () => {
  it('parses id, event, multi-line data, retry and comments from raw bytes', () => {
    // ": hi\n" "retry: 1500\n" "id: 7\n" "event: message\n" "data: a\n" "data: b\n" "\n"
    const bytes = hex('3a2068690a 72657472793a20313530300a 69643a20370a 6576656e743a206d6573736167650a 646174613a20610a 646174613a20620a 0a');
    const { messages, retries, comments } = decode([bytes]);
    expect(messages).toEqual([{ id: '7', event: 'message', data: 'a\nb' }]);
    expect(retries).toEqual([1500]);
    expect(comments).toEqual(['hi']);
  });

  it('joins a UTF-8 character split across two chunks, and a line split anywhere', () => {
    const all = Buffer.from('data: {"text":"héllo ✓"}\n\n', 'utf8');
    const cut = all.indexOf(0xe2) + 1; // inside the 3-byte ✓
    const split = decode([all.subarray(0, 3), all.subarray(3, cut), all.subarray(cut)]);
    expect(split.messages).toEqual([{ data: '{"text":"héllo ✓"}' }]);
    // one byte at a time
    const bytewise = decode([...all].map((b) => Uint8Array.of(b)));
    expect(bytewise.messages).toEqual(split.messages);
  });

  it('accepts CRLF and CR line ends and strips a leading BOM', () => {
    const { messages } = decode([hex('efbbbf'), Buffer.from('id: 1\r\ndata: x\r\n\r\nid: 2\rdata: y\r\rdata: z\n\n')]);
    expect(messages).toEqual([{ id: '1', data: 'x' }, { id: '2', data: 'y' }, { data: 'z' }]);
    // eventsource-parser reports each event's own `id:` field; the source keeps the last one as its cursor.
  });

  it('dispatches an empty data line (MCP priming event) and keeps an event without a blank line pending', () => {
    const { messages } = decode([Buffer.from('id: s1_1\ndata: \n\ndata: partial')]);
    expect(messages).toEqual([{ id: 's1_1', data: '' }]);
  });

  it('delivers a malformed JSON payload as text: validating it is the binding’s job', () => {
    const { messages } = decode([Buffer.from('data: {"type":"session.status",\n\n')]);
    expect(messages).toEqual([{ data: '{"type":"session.status",' }]);
  });

  it('reports an event larger than the buffer bound as an overflow', () => {
    const { overflow, messages } = decode([Buffer.from(`data: ${'x'.repeat(200)}`)], 100);
    expect(overflow).toBe(1);
    expect(messages).toEqual([]);
  });

  it('records as the overflow head the text fed since the last complete event, across chunks, bounded to 16 KiB', () => {
    const heads: string[] = [];
    const d = createSseDecoder({ onMessage: () => {}, onOverflow: (_e, head) => heads.push(head) }, { maxBufferChars: 20_000 });
    d.feed(Buffer.from('id: 1\ndata: a\n\nid: 2\ndata: b\r\n\r\ndata: big-'));
    d.feed(Buffer.from('y'.repeat(10_000)));
    d.feed(Buffer.from('z'.repeat(15_000)));
    expect(heads).toHaveLength(1);
    expect(heads[0]).toBe(`data: big-${'y'.repeat(10_000)}${'z'.repeat(16 * 1024 - 10_010)}`);
  });

  it('forgets a partial event on reset (a new connection)', () => {
    const r = decode([Buffer.from('data: half')]);
    r.decoder.reset();
    r.decoder.feed(Buffer.from('data: whole\n\n'));
    expect(r.messages).toEqual([{ data: 'whole' }]);
  });
});

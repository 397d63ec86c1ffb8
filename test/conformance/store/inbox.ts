import { describe, expect, it } from 'vitest';
import type { InboxMessage } from '../../../src/log/types.ts';
import { createStream, event, expectCode, type GetStore } from './fixtures.ts';

/** The inbox: messages to a stream, kept once per (stream, causation id), consumed with the append that logs them. */
export function inboxSpecs(store: GetStore): void {
  describe('inbox', () => {
    const message = (streamId: string, causationId: string, type = 'ping', postedAt = 10): InboxMessage => ({
      streamId,
      causationId,
      type,
      data: { from: causationId, list: [1, 'x'] },
      from: 'sender/child',
      postedAt,
    });

    it("posts messages and reads a stream's inbox oldest first, with increasing ids and every field", async () => {
      await store().write({ messages: [message('b', 'c1', 'first', 11), message('a', 'c2'), message('b', 'c3', 'second', 12)] });
      await store().write({ messages: [message('b', 'c4', 'third', 13)] });
      const inbox = await store().readInbox('b');
      expect(inbox.map((m) => m.type)).toEqual(['first', 'second', 'third']);
      expect(inbox.every((m, i) => i === 0 || m.id > inbox[i - 1]!.id)).toBe(true);
      const { id: _id, ...first } = inbox[0]!;
      expect(first).toEqual(message('b', 'c1', 'first', 11));
      expect((await store().readInbox('b', 2)).map((m) => m.causationId)).toEqual(['c1', 'c3']);
      expect(await store().readInbox('nobody')).toEqual([]);
    });

    it('lists the streams with messages waiting, each once, at most `limit`', async () => {
      expect(await store().inboxStreams()).toEqual([]);
      await store().write({ messages: [message('b', 'c1'), message('a', 'c2'), message('b', 'c3'), message('c', 'c4')] });
      expect([...(await store().inboxStreams())].sort()).toEqual(['a', 'b', 'c']);
      const two = await store().inboxStreams(2);
      expect(two).toHaveLength(2);
      expect(new Set(two).size).toBe(2);
      expect(two.every((id) => ['a', 'b', 'c'].includes(id))).toBe(true);
    });

    it('keeps one message per (stream, causation id): a repeated post is ignored, in the same batch or a later one', async () => {
      await store().write({ messages: [message('b', 'c1', 'original'), message('b', 'c1', 'same batch')] });
      await store().write({ messages: [message('b', 'c1', 'later'), message('a', 'c1', 'other stream')] });
      expect((await store().readInbox('b')).map((m) => m.type)).toEqual(['original']);
      expect((await store().readInbox('a')).map((m) => m.type)).toEqual(['other stream']);
    });

    it('consumes messages in the batch that appends them: the inbox empties as the stream logs them', async () => {
      await createStream(store(), 'b');
      await store().write({ messages: [message('b', 'c1'), message('b', 'c2')] });
      const [first, second] = await store().readInbox('b');
      await store().write({
        appends: [
          {
            streamId: 'b',
            expectedVersion: 0,
            events: [event(first!.type, first!.data, { source: 'actor', actor: first!.from, causationId: first!.causationId })],
          },
        ],
        consumed: [{ streamId: 'b', id: first!.id }],
      });
      expect((await store().readInbox('b')).map((m) => m.id)).toEqual([second!.id]);
      expect((await store().readStream('b')).map((r) => r.meta.causationId)).toEqual(['c1']);
      expect(await store().inboxStreams()).toEqual(['b']);
    });

    it('a batch whose append fails consumes nothing: the message stays for the next try', async () => {
      await createStream(store(), 'b');
      await store().write({ messages: [message('b', 'c1')] });
      const [waiting] = await store().readInbox('b');
      await expectCode(
        () => store().write({ appends: [{ streamId: 'b', expectedVersion: 3, events: [event('ping')] }], consumed: [{ streamId: 'b', id: waiting!.id }] }),
        'VERSION_CONFLICT',
      );
      expect(await store().readInbox('b')).toEqual([waiting]);
    });

    it('APPEND_FAILED for message data that is not JSON-safe; nothing posted', async () => {
      await expectCode(() => store().write({ messages: [message('b', 'ok'), { ...message('b', 'bad'), data: { n: 1n } }] }), 'APPEND_FAILED');
      expect(await store().readInbox('b')).toEqual([]);
    });
  });
}

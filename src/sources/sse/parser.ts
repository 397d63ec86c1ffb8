import { createParser, type EventSourceParser, type ParseError } from 'eventsource-parser';

/** One Server-Sent Event as the parser delivers it (WHATWG HTML §9.2.6, "dispatch the event"). */
export interface SseMessage {
  /** The `id:` field, when the event had one (the resume point sent back as `Last-Event-ID`). */
  id?: string;
  /** The `event:` field, when the event had one (the browser default `message` is not filled in). */
  event?: string;
  /** The `data:` lines joined by `\n`; `''` for an event with an empty `data:` line (MCP priming events). */
  data: string;
}

/** What an {@link SseDecoder} reports besides messages. */
export interface SseDecoderHandlers {
  onMessage(message: SseMessage): void;
  /** A `retry:` field: the server's reconnection time, ms. */
  onRetry?(retryMs: number): void;
  /** A comment line (`: keepalive`): a heartbeat that carries no event. */
  onComment?(comment: string): void;
  /**
   * A buffered event grew past `maxBufferChars`; the decoder is then unusable until `reset()`.
   * `head` is the start of the text fed since the last complete event (at most 16 KiB): the raw
   * input to record.
   */
  onOverflow?(error: ParseError, head: string): void;
}

/** A byte-level SSE decoder: UTF-8 decoding across chunk boundaries plus eventsource-parser. */
export interface SseDecoder {
  /** Feeds raw bytes as they arrive from the socket (a chunk may end inside a line or a UTF-8 character). */
  feed(bytes: Uint8Array): void;
  /** Forgets partial input (a new connection starts a new stream). */
  reset(): void;
}

/** Default bound on one buffered event, in characters (4 MiB): a larger one is an overflow. */
export const DEFAULT_MAX_EVENT_CHARS = 4 * 1024 * 1024;

/**
 * Creates the pure parsing half of the SSE source: bytes in, {@link SseMessage}s out. It holds no
 * socket and no timer; eventsource-parser (a well-kept implementation of the WHATWG event stream
 * grammar: `data:`/`id:`/`event:`/`retry:` fields, comments, LF/CR/CRLF line ends, a leading BOM)
 * does the parsing, a streaming `TextDecoder` joins UTF-8 characters split across chunks.
 *
 * @param handlers called synchronously from `feed()`
 * @param options.maxBufferChars bound on one buffered event (chars), @default 4 MiB
 * @example
 * ```ts
 * const decoder = createSseDecoder({ onMessage: (m) => console.log(m.id, m.data) });
 * decoder.feed(Buffer.from('id: 7\ndata: {"a":1}\n\n')); // logs: 7 {"a":1}
 * ```
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
export function createSseDecoder(handlers: SseDecoderHandlers, options: { maxBufferChars?: number } = {}): SseDecoder {
  let text = new TextDecoder('utf-8');
  // For an overflow's record, the start of the text fed since the last complete event, kept lazily
  // (nothing is searched per chunk): the last chunk in which an event ended, and the start of what
  // came after it (bounded). The blank line is looked for only when an overflow asks for the head.
  let ended: string | undefined;
  let after = '';
  let dispatched = false;
  const HEAD = 16 * 1024;
  const head = (): string => {
    if (ended === undefined) return after;
    let end = -1;
    for (const blank of ['\r\n\r\n', '\n\n', '\r\r']) {
      const at = ended.lastIndexOf(blank);
      if (at >= 0 && at + blank.length > end) end = at + blank.length;
    }
    return (ended.slice(end < 0 ? 0 : end) + after).slice(0, HEAD);
  };
  const parser: EventSourceParser = createParser({
    maxBufferSize: options.maxBufferChars ?? DEFAULT_MAX_EVENT_CHARS,
    onEvent: (event) => {
      dispatched = true;
      const message: SseMessage = event.id === undefined ? { data: event.data } : { id: event.id, data: event.data };
      if (event.event !== undefined) message.event = event.event;
      handlers.onMessage(message);
    },
    onRetry: (ms) => handlers.onRetry?.(ms),
    onComment: (comment) => handlers.onComment?.(comment),
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') handlers.onOverflow?.(error, head());
    },
  });
  return {
    feed(bytes) {
      const chunk = text.decode(bytes, { stream: true });
      dispatched = false;
      if (after.length < HEAD) after += chunk.slice(0, HEAD - after.length);
      parser.feed(chunk);
      if (dispatched) {
        // an event ended in this chunk: what follows its last blank line starts the next one
        ended = chunk;
        after = '';
      }
    },
    reset() {
      parser.reset();
      text = new TextDecoder('utf-8');
      ended = undefined;
      after = '';
    },
  };
}

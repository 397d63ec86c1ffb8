/**
 * At the bindings' parse boundaries: a valid payload nested thousands of levels
 * deep (which would overflow `JSON.stringify` in the journal and stop the actor) or over the size
 * bound is refused where the binding parses it, as `INVALID_PAYLOAD` (or an `*.invalid` event) with
 * its raw text kept short, before any event carries it.
 */
import { describe, expect, it } from 'vitest';
import { parseRpcMessage } from '../../machines/mcp/client.ts';
import { parseActivityAnswer } from '../../machines/molecule/schemas.ts';
import { mapDurableEvent } from '../../machines/opencode/mapEvents.ts';
import { MAX_RAW_BYTES } from '../../src/transport/index.ts';

const DEPTH = 4_200;
const deep = (leaf = '1') => '['.repeat(DEPTH) + leaf + ']'.repeat(DEPTH);

describe('the bindings refuse a payload over the depth bound where they parse it', () => {
  it('MCP: a JSON-RPC result nested 4,200 levels deep', () => {
    const raw = `{"jsonrpc":"2.0","id":1,"result":{"content":${deep()}}}`;
    expect(() => parseRpcMessage('tools/call', raw)).toThrow(
      expect.objectContaining({ code: 'INVALID_PAYLOAD', message: expect.stringMatching(/nested too deep/) }),
    );
    try {
      parseRpcMessage('tools/call', raw);
    } catch (err) {
      expect(String((err as { details: { raw: string } }).details.raw).length).toBeLessThanOrEqual(MAX_RAW_BYTES);
    }
  });

  it('molecule: an activity answer whose row nests 4,200 levels deep', () => {
    expect(() => parseActivityAnswer(`[{"id":"a1","metadata":${deep()}}]`)).toThrow(
      expect.objectContaining({ code: 'INVALID_PAYLOAD', message: expect.stringMatching(/nested too deep/) }),
    );
  });

  it('OpenCode: a durable event nested 4,200 levels deep becomes session.invalid', () => {
    const event = mapDurableEvent(`{"type":"session.part","properties":${deep()}}`) as { type: string; error?: string; raw?: string };
    expect(event.type).toBe('session.invalid');
    expect(event.error).toMatch(/nested too deep/);
    expect(event.raw!.length).toBeLessThanOrEqual(MAX_RAW_BYTES);
  });

  it('still reads an ordinary payload', () => {
    expect(parseActivityAnswer('[]')).toEqual([]);
    expect(parseRpcMessage('ping', '{"jsonrpc":"2.0","id":1,"result":{}}')).toMatchObject({ id: 1 });
  });
});

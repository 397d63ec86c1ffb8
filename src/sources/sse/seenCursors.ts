import { hash } from 'node:crypto';
import type { SseMessage } from './parser.ts';

/** How many cursors of each kind (increasing integers, others) the SSE source remembers per subscription. */
export const SEEN_LIMIT = 1024;

/** Events at most this long (event + data, chars) are fingerprinted in JS; longer ones by SHA-256. */
const SHORT = 1024;

/** The fingerprint of the initial cursor, whose content is unknown: a message carrying it is a replay. */
const UNKNOWN = -1;

/**
 * A fingerprint of what an event says (its `event` and `data`): two events with one cursor and other
 * content are two events. A non-negative safe integer. Short events (the usual case: a JSON line) get
 * a 53-bit hash computed in JS over the UTF-16 code units (two 32-bit multiply-xorshift lanes, the
 * lengths folded in), a few tens of ns where a native hash call costs a microsecond; a false match
 * needs the same cursor, the same lengths and a 53-bit collision. Long events hash their SHA-256.
 */
export function fingerprint(m: SseMessage): number {
  const event = m.event ?? '';
  const data = m.data;
  if (event.length + data.length > SHORT) return fingerprintText(hash('sha256', `${event}\n${data}`, 'base64'), 0, 0);
  return fingerprintText(data, fingerprintText(event, 0x811c9dc5 ^ event.length, 0x9e3779b9 ^ data.length), 0x27d4eb2f);
}

function fingerprintText(text: string, seedA: number, seedB: number): number {
  let a = seedA;
  let b = seedB;
  const n = text.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    // two UTF-16 code units per step
    const c = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16);
    a = Math.imul(a ^ c, 0x85ebca6b);
    b = Math.imul(b ^ c, 0xc2b2ae35);
  }
  if (i < n) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x85ebca6b);
    b = Math.imul(b ^ c, 0xc2b2ae35);
  }
  a = Math.imul(a ^ (a >>> 16), 0x27d4eb2f) ^ Math.imul(b ^ (b >>> 13), 0x165667b1);
  b = Math.imul(b ^ (b >>> 16), 0x27d4eb2f) ^ Math.imul(a ^ (a >>> 13), 0x165667b1);
  return 0x100000000 * (b >>> 11) + (a >>> 0); // 21 + 32 bits: a safe integer
}

/** The value of a cursor written as a canonical decimal integer (`0`, `17`; no sign, no leading zero, at most 15 digits), else -1. */
function decimal(cursor: string): number {
  const n = cursor.length;
  if (n === 0 || n > 15 || (n > 1 && cursor.charCodeAt(0) === 48)) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = cursor.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * The cursors an SSE subscription delivered, each with the {@link fingerprint} of its content: the
 * last {@link SEEN_LIMIT} that came as increasing integers (`id: 1`, `id: 2`… the usual case) in a
 * ring of typed arrays (ascending, binary-searched; no allocation per event), and the last
 * {@link SEEN_LIMIT} others in a Map with a ring for eviction order. The initial cursor (a logged
 * one, after recovery) has no known content: a message carrying it is a replay.
 */
export class SeenCursors {
  // increasing integer cursors: values and fingerprints in a ring, oldest at `#head`
  readonly #ids = new Float64Array(SEEN_LIMIT);
  readonly #idPrints = new Float64Array(SEEN_LIMIT);
  #idCount = 0;
  #idHead = 0;
  // any other cursor: cursor -> fingerprint, and the insertion order for eviction
  readonly #other = new Map<string, number>();
  readonly #ring: string[] = [];
  #oldest = 0;

  constructor(initial: string | undefined) {
    if (initial !== undefined) this.#record(initial, decimal(initial), UNKNOWN);
  }

  has(cursor: string): boolean {
    return this.#find(cursor, decimal(cursor)) !== undefined;
  }

  /**
   * What a message with `cursor` is, by the default rule: `replay` when the cursor was delivered with
   * this content (or is the initial cursor: nothing is recorded then), else `new` or `reused` (the
   * cursor was delivered with other content), recorded as delivered with `m`'s content.
   */
  deliver(cursor: string, m: SseMessage): 'replay' | 'new' | 'reused' {
    const value = decimal(cursor);
    const known = this.#find(cursor, value);
    if (known === UNKNOWN) return 'replay';
    const print = fingerprint(m);
    if (known === print) return 'replay';
    this.#record(cursor, value, print);
    return known === undefined ? 'new' : 'reused';
  }

  /** Records `cursor` as delivered with `m`'s content (a custom `isDuplicate` decided it is no replay). */
  remember(cursor: string, m: SseMessage): void {
    this.#record(cursor, decimal(cursor), fingerprint(m));
  }

  /** The fingerprint `cursor` was delivered with, or undefined. */
  #find(cursor: string, value: number): number | undefined {
    if (value >= 0 && this.#idCount > 0) {
      const at = this.#slotOf(value);
      if (at >= 0) return this.#idPrints[at];
    }
    return this.#other.size === 0 ? undefined : this.#other.get(cursor);
  }

  /** The ring slot holding integer cursor `value`, or -1 (binary search over the ascending ring). */
  #slotOf(value: number): number {
    const count = this.#idCount;
    const newest = (this.#idHead + count - 1) % SEEN_LIMIT;
    if (value > this.#ids[newest]! || value < this.#ids[this.#idHead]!) return -1;
    let lo = 0;
    let hi = count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const slot = (this.#idHead + mid) % SEEN_LIMIT;
      const v = this.#ids[slot]!;
      if (v === value) return slot;
      if (v < value) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  #record(cursor: string, value: number, print: number): void {
    if (value >= 0) {
      const count = this.#idCount;
      const slot = count > 0 ? this.#slotOf(value) : -1;
      if (slot >= 0) {
        this.#idPrints[slot] = print;
        return;
      }
      if (count === 0 || value > this.#ids[(this.#idHead + count - 1) % SEEN_LIMIT]!) {
        // a new largest integer: appended, the oldest evicted when the ring is full
        const at = (this.#idHead + count) % SEEN_LIMIT;
        this.#ids[at] = value;
        this.#idPrints[at] = print;
        if (count < SEEN_LIMIT) this.#idCount = count + 1;
        else this.#idHead = (this.#idHead + 1) % SEEN_LIMIT;
        return;
      }
    }
    const known = this.#other.has(cursor);
    this.#other.set(cursor, print);
    if (known) return;
    if (this.#ring.length < SEEN_LIMIT) {
      this.#ring.push(cursor);
      return;
    }
    this.#other.delete(this.#ring[this.#oldest]!);
    this.#ring[this.#oldest] = cursor;
    this.#oldest = (this.#oldest + 1) % SEEN_LIMIT;
  }
}

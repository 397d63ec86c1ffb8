/**
 * A first-in first-out queue with O(1) `push` and `shift` (an array and a head index, compacted
 * once the consumed head outgrows the rest): `Array#shift` moves every element, so a mailbox that
 * takes a burst of n inputs would cost O(n²).
 *
 * @example
 * ```ts
 * const q = new Fifo<number>();
 * q.push(1); q.push(2);
 * q.peek(); // 1
 * q.shift(); // 1
 * q.length; // 1
 * ```
 */
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The first item, left in the queue; undefined when empty. */
  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** Removes and returns the first item; undefined when empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined as T; // not kept alive by the queue
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes and returns every item, in order. */
  drain(): T[] {
    const all = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return all;
  }
}

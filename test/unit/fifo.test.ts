import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/runtime/fifo.ts';

describe('Fifo (the mailbox queue)', () => {
  it('gives items back in the order they came, across its compaction, and drains the rest', () => {
    const q = new Fifo<number>();
    expect(q.peek()).toBeUndefined();
    expect(q.shift()).toBeUndefined();
    for (let i = 0; i < 5000; i++) q.push(i);
    const taken: number[] = [];
    for (let i = 0; i < 3000; i++) taken.push(q.shift()!);
    for (let i = 5000; i < 6000; i++) q.push(i);
    expect(q.length).toBe(3000);
    expect(q.peek()).toBe(3000);
    for (let i = 0; i < 1500; i++) taken.push(q.shift()!);
    const rest = q.drain();
    expect([...taken, ...rest]).toEqual(Array.from({ length: 6000 }, (_, i) => i));
    expect(q.length).toBe(0);
    q.push(7);
    expect(q.shift()).toBe(7);
  });
});

import { describe, expect, it } from 'vitest';
import type { AnyMachineSnapshot } from 'xstate';
import { FoldHistory } from '../../src/runtime/foldHistory.ts';

const snap = (n: number) => ({ value: `s${n}`, context: { n } }) as unknown as AnyMachineSnapshot;

describe('FoldHistory: the snapshots a fold keeps before each event, to undo a failed one', () => {
  it('keeps the last `size` snapshots by version and forgets older ones as the ring wraps', () => {
    const history = new FoldHistory(4);
    for (let v = 1; v <= 10; v++) history.remember(v, snap(v));
    expect(history.before(10)).toEqual(snap(10));
    expect(history.before(7)).toEqual(snap(7));
    expect(history.before(6)).toBeUndefined();
    expect(history.before(1)).toBeUndefined();
    expect(history.before(11)).toBeUndefined();
  });

  it('answers the oldest kept snapshot of a version applied twice', () => {
    const history = new FoldHistory(4);
    history.remember(1, snap(1));
    history.remember(2, snap(20));
    history.remember(3, snap(3));
    history.remember(4, snap(4));
    history.remember(2, snap(21)); // wraps over version 1: the ring now holds 2 (old), 3, 4, 2 (new)
    expect(history.before(1)).toBeUndefined();
    expect(history.before(2)).toEqual(snap(20));
  });
});

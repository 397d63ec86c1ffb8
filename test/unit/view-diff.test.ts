import { describe, expect, it } from 'vitest';
import { diffRows, identity } from '../../cli/snapshotDiff.ts';

const queue = [
  { id: 'a', n: 1 },
  { id: 'b', n: 2 },
  { id: 'c', n: 3 },
  { id: 'd', n: 4 },
];

describe('the snapshot diff (cli/snapshotDiff.ts)', () => {
  it('matches list items by an id-like key: taking the head of a queue is one removal', () => {
    expect(diffRows({ queue }, { queue: queue.slice(1) })).toEqual([{ op: 'remove', path: 'queue/0', before: { id: 'a', n: 1 } }]);
    expect(diffRows({ queue }, { queue: [...queue, { id: 'e', n: 5 }] })).toEqual([{ op: 'add', path: 'queue/4', after: { id: 'e', n: 5 } }]);
  });

  it('matches items without a key by their content, and plain values by themselves', () => {
    const items = [{ t: 'x' }, { t: 'y' }, { t: 'z' }];
    expect(diffRows({ items }, { items: items.slice(1) })).toEqual([{ op: 'remove', path: 'items/0', before: { t: 'x' } }]);
    expect(diffRows({ ids: [1, 2, 3] }, { ids: [2, 3] })).toEqual([{ op: 'remove', path: 'ids/0', before: 1 }]);
  });

  it('changes one field of one item in place, and gives the value each path held when its change came', () => {
    expect(diffRows({ queue }, { queue: queue.map((x) => (x.id === 'c' ? { ...x, n: 30 } : x)) })).toEqual([
      { op: 'replace', path: 'queue/2/n', before: 3, after: 30 },
    ]);
    // the head moved to the end and changed: the change reads the moved item, not what the index held before
    const rows = diffRows({ queue }, { queue: [...queue.slice(1), { id: 'a', n: 9 }] });
    expect(rows).toEqual([
      { op: 'move', path: 'queue/3', before: 'queue/0' },
      { op: 'replace', path: 'queue/3/n', before: 1, after: 9 },
    ]);
  });

  it('names an item by the first id-like key it has', () => {
    expect(identity({ messageId: 'm-1', text: 'hi' })).toBe('messageId:m-1');
    expect(identity({ id: 7, name: 'x' })).toBe('id:7');
    expect(identity({ text: 'hi' })).toBe('={"text":"hi"}');
  });
});

/** The difference between two snapshots, path by path (jsondiffpatch, as JSON Patch operations). */
import { create } from 'jsondiffpatch';
import { format } from 'jsondiffpatch/formatters/jsonpatch';

const differ = create({ arrays: { detectMove: true } });

/** One changed path: `context/attempts`, with the value before and after (absent when added or removed). */
export interface DiffRow {
  op: 'add' | 'remove' | 'replace' | 'move';
  path: string;
  before?: unknown;
  after?: unknown;
}

function at(value: unknown, pointer: string): unknown {
  if (pointer === '') return value;
  let v: unknown = value;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** The paths at which `after` differs from `before` (both JSON), in JSON Pointer form without the leading slash. */
export function diffRows(before: unknown, after: unknown): DiffRow[] {
  const delta = differ.diff(before, after);
  if (!delta) return [];
  return format(delta).map((op) => {
    const path = op.path.slice(1);
    if (op.op === 'add') return { op: 'add', path, after: op.value };
    if (op.op === 'remove') return { op: 'remove', path, before: at(before, op.path) };
    if (op.op === 'replace') return { op: 'replace', path, before: at(before, op.path), after: op.value };
    return { op: 'move', path, before: op.from.slice(1) };
  });
}

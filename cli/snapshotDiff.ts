/**
 * The difference between two snapshots, path by path (jsondiffpatch, as JSON Patch operations): what
 * the viewer's diff shows and `actorlog diff` prints.
 * Lists of objects are matched by identity, not by index: by an id-like key (`id`, `key`,
 * `messageId`, `taskId`, `name`, …, the first one an item has) or else by content, so removing the
 * head of a queue is one removal, not "last removed, every other changed".
 */
import { create } from 'jsondiffpatch';
import { format } from 'jsondiffpatch/formatters/jsonpatch';

/** The keys that identify an object in a list, in the order they are tried. */
export const IDENTITY_KEYS = ['id', 'key', 'uuid', 'messageId', 'taskId', 'jobId', 'requestId', 'eventId', 'streamId', 'sessionId', 'name'] as const;

/** An item's identity in a list: its id-like key's value, else its content (JSON); plain values by themselves. */
export function identity(item: unknown): string {
  if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
    for (const key of IDENTITY_KEYS) {
      const v = (item as Record<string, unknown>)[key];
      if (typeof v === 'string' || typeof v === 'number') return `${key}:${v}`;
    }
  }
  return `=${JSON.stringify(item)}`;
}

const differ = create({ objectHash: (item: object) => identity(item), arrays: { detectMove: true, includeValueOnMove: false } });

/** One changed path: `context/attempts`, with the value before and after (absent when added or removed). */
export interface DiffRow {
  op: 'add' | 'remove' | 'replace' | 'move';
  path: string;
  before?: unknown;
  after?: unknown;
}

const parts = (pointer: string) =>
  pointer
    .slice(1)
    .split('/')
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'));

function at(value: unknown, pointer: string): unknown {
  if (pointer === '') return value;
  let v: unknown = value;
  for (const key of parts(pointer)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** Applies one operation to `doc` in place (the operations of a patch are sequential: each reads the document the ones before left). */
function apply(doc: { root: unknown }, op: { op: string; path: string; value?: unknown; from?: string }): void {
  const edit = (pointer: string, change: (parent: Record<string, unknown> | unknown[], key: string) => void) => {
    const keys = ['root', ...(pointer === '' ? [] : parts(pointer))];
    let parent: unknown = doc;
    for (const key of keys.slice(0, -1)) parent = (parent as Record<string, unknown>)?.[key];
    if (parent !== null && typeof parent === 'object') change(parent as Record<string, unknown>, keys.at(-1)!);
  };
  const remove = (pointer: string) => {
    let removed: unknown;
    edit(pointer, (p, k) => (Array.isArray(p) ? ([removed] = p.splice(Number(k), 1)) : ((removed = p[k]), delete p[k])));
    return removed;
  };
  const add = (pointer: string, value: unknown) =>
    edit(pointer, (p, k) => (Array.isArray(p) ? p.splice(k === '-' ? p.length : Number(k), 0, value) : (p[k] = value)));
  if (op.op === 'remove') remove(op.path);
  else if (op.op === 'add') add(op.path, structuredClone(op.value));
  else if (op.op === 'replace') edit(op.path, (p, k) => ((p as Record<string, unknown>)[k] = structuredClone(op.value)));
  else if (op.op === 'move') add(op.path, remove(op.from!));
}

/** The paths at which `after` differs from `before` (both JSON), in JSON Pointer form without the leading slash; each `before` is the value the path held when its change came. */
export function diffRows(before: unknown, after: unknown): DiffRow[] {
  const delta = differ.diff(before, after);
  if (!delta) return [];
  const doc = { root: structuredClone(before) };
  return format(delta).map((op) => {
    const path = op.path.slice(1);
    const was = at(doc.root, op.path);
    apply(doc, op);
    if (op.op === 'add') return { op: 'add', path, after: op.value };
    if (op.op === 'remove') return { op: 'remove', path, before: was };
    if (op.op === 'replace') return { op: 'replace', path, before: was, after: op.value };
    return { op: 'move', path, before: op.from.slice(1) };
  });
}

/** What a diff compares of a snapshot view: value, status, context, and each child's source, status, state and context. */
export function comparable(
  s: {
    value: unknown;
    status: string;
    context: unknown;
    children: Array<{ path: string; src?: string; status?: string; value?: string; context?: unknown }>;
  } | null,
): unknown {
  if (!s) return null;
  return {
    value: s.value,
    status: s.status,
    context: s.context,
    children: Object.fromEntries(s.children.map((c) => [c.path, { src: c.src, status: c.status, value: c.value, context: c.context }])),
  };
}

import type { AnyActorRef } from 'xstate';

/**
 * Paths of actors within one journaled actor's tree. The root is `''`; a child is its id; a
 * grandchild is `child/grandchild`. A `/` or `%` inside an id is escaped (`%2F`, `%25`), so a path
 * always splits back into the ids it was made of. Paths are what the log records in `meta.target`
 * and `meta.actor`, and what the bookkeeping keys children by: they are the same live and in a fold,
 * since both build the tree from the same invoke and spawn ids.
 * @internal
 */
export const ROOT_PATH = '';

/** An actor ref as the runtime reads it: XState's ref plus the fields it keeps on every actor. @internal */
export interface TreeRef {
  id: string;
  _parent?: TreeRef;
  logic?: unknown;
  getSnapshot(): { status: string; children?: Record<string, TreeRef> };
}

function escapeId(id: string): string {
  return id.replace(/%/g, '%25').replace(/\//g, '%2F');
}

function unescapeId(part: string): string {
  return part.replace(/%2F/g, '/').replace(/%25/g, '%');
}

/** The path of `ref` under `root`, or `undefined` when `ref` is not in that tree. @internal */
export function pathOf(ref: unknown, root: unknown): string | undefined {
  const ids: string[] = [];
  let at = ref as TreeRef | undefined;
  while (at && at !== root) {
    ids.push(escapeId(at.id));
    at = at._parent;
  }
  if (at !== root || at === undefined) return undefined;
  return ids.reverse().join('/');
}

/**
 * The path of `ref` under `root` for the bookkeeping: `undefined` when `ref` is outside the tree, or
 * when another actor has since taken its place at that path (a child stopped and re-invoked under
 * the same id in one transition: what is kept belongs to the new one).
 * @param tree the root as a ref whose snapshot is the tree's current one
 * @internal
 */
export function currentPath(ref: unknown, root: unknown, tree: TreeRef): string | undefined {
  const path = pathOf(ref, root);
  if (path === undefined || path === ROOT_PATH) return path;
  const now = refAt(tree, path);
  return now !== undefined && now !== ref ? undefined : path;
}

/** The ids a path is made of (`[]` for the root). @internal */
export function splitPath(path: string): string[] {
  return path === ROOT_PATH ? [] : path.split('/').map(unescapeId);
}

/** The path of the child `id` of the actor at `parent`. @internal */
export function childPath(parent: string, id: string): string {
  return parent === ROOT_PATH ? escapeId(id) : `${parent}/${escapeId(id)}`;
}

/** True when `path` is `ancestor` itself or lies below it. @internal */
export function isWithin(path: string, ancestor: string): boolean {
  return ancestor === ROOT_PATH || path === ancestor || path.startsWith(`${ancestor}/`);
}

/** The actor at `path` under `root` (following each snapshot's `children`), or `undefined`. @internal */
export function refAt(root: TreeRef, path: string): TreeRef | undefined {
  let at: TreeRef | undefined = root;
  for (const id of splitPath(path)) {
    at = at.getSnapshot().children?.[id];
    if (!at) return undefined;
  }
  return at;
}

/**
 * True when the ref's state is computed from the events it receives, so they are journaled and
 * folded: a state machine, or a transition function (`fromTransition`, a reducer: logic with a
 * `transition` and no `start`). Not a promise, callback or observable: those are I/O. @internal
 */
export function isMachineRef(ref: unknown): boolean {
  const logic = (ref as TreeRef | undefined)?.logic as { getStateNodeById?: unknown; transition?: unknown; start?: unknown } | undefined;
  return typeof logic?.getStateNodeById === 'function' || (typeof logic?.transition === 'function' && logic.start === undefined);
}

type PersistedChild = { snapshot?: { status?: string; input?: unknown; output?: unknown } };

/** A persisted snapshot's child entry at `path` (as `getPersistedSnapshot()` writes it), or `undefined`. @internal */
export function persistedAt(persisted: unknown, path: string): PersistedChild | undefined {
  let entry: { snapshot?: unknown } | undefined = { snapshot: persisted };
  for (const id of splitPath(path)) {
    const children: Record<string, { snapshot?: unknown }> | undefined = (entry?.snapshot as { children?: Record<string, { snapshot?: unknown }> } | undefined)
      ?.children;
    entry = children?.[id];
    if (!entry) return undefined;
  }
  return entry as PersistedChild;
}

/** Every actor of a (live or folded) tree with its path, parents before children. @internal */
export function* walkTree(root: TreeRef, path = ROOT_PATH): Generator<{ path: string; ref: TreeRef }> {
  yield { path, ref: root };
  const children = root.getSnapshot().children ?? {};
  for (const id of Object.keys(children)) yield* walkTree(children[id]!, childPath(path, id));
}

/** Marks a ref as the stand-in of another journaled actor inside a fold. @internal */
export const PEER = Symbol.for('actorlog.peer');

/** The stream id of a peer stand-in made by the fold, or `undefined`. @internal */
export function peerStreamOf(ref: unknown): string | undefined {
  return (ref as { [PEER]?: string } | null | undefined)?.[PEER];
}

/** Refs in the XState types are `AnyActorRef`; the runtime reads them as {@link TreeRef}. @internal */
export function asTree(ref: AnyActorRef): TreeRef {
  return ref as unknown as TreeRef;
}

import type { AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import type { EventRecord } from '../../src/log/types.ts';
import { isMachineRef, refAt, splitPath, walkTree } from '../../src/runtime/actorTree.ts';
import { machineHash } from '../../src/runtime/machineHash.ts';
import { formatStateValue } from '../replay.ts';
import { rootRef, treeSnapshots } from './folds.ts';
import type { ChildView, EventRow, SnapshotView } from './types.ts';

/** A value as JSON (errors as `{ name, message }`); undefined stays undefined. */
export const json = (value: unknown): unknown =>
  value === undefined ? undefined : JSON.parse(JSON.stringify(value, (_k, v) => (v instanceof Error ? { name: v.name, message: v.message } : v)));

/** The machine a child runs, when it is a machine. */
export function logicOf(ref: unknown): AnyStateMachine | undefined {
  return isMachineRef(ref) ? (ref as { logic: AnyStateMachine }).logic : undefined;
}

/**
 * Every child of a folded tree (at any depth), parents first; with `tree` (the snapshots by path,
 * taken at one moment) each child's snapshot is the one it had then.
 */
export function childViews(root: AnyMachineSnapshot, tree: Map<string, AnyMachineSnapshot> = treeSnapshots(root)): ChildView[] {
  const out: ChildView[] = [];
  for (const { path, ref } of walkTree(rootRef(root))) {
    if (path === '') continue;
    const logic = logicOf(ref);
    const snapshot = tree.get(path);
    const src = (ref as { src?: unknown }).src;
    out.push({
      path,
      id: splitPath(path).at(-1) ?? path,
      src: typeof src === 'string' ? src : undefined,
      machine: logic !== undefined,
      ...(logic ? { hash: machineHash(logic) } : {}),
      status: snapshot?.status,
      ...(logic && snapshot ? { value: formatStateValue(snapshot.value), context: json(snapshot.context) ?? null } : {}),
    });
  }
  return out;
}

/** The JSON view of the snapshot of the actor at `path` (`''` the root) in a folded tree, its children below it included; null when no machine is there. */
export function snapshotView(root: AnyMachineSnapshot, path = '', tree: Map<string, AnyMachineSnapshot> = treeSnapshots(root)): SnapshotView | null {
  const snapshot = path === '' ? root : tree.get(path);
  if (!snapshot || (path !== '' && !logicOf(refAt(rootRef(root), path)))) return null;
  const prefix = path === '' ? '' : `${path}/`;
  return {
    value: json(snapshot.value),
    state: formatStateValue(snapshot.value),
    status: snapshot.status,
    context: json(snapshot.context) ?? null,
    ...(snapshot.error !== undefined ? { error: json(snapshot.error) } : {}),
    children: childViews(root, tree)
      .filter((c) => c.path.startsWith(prefix))
      .map((c) => ({ ...c, path: c.path.slice(prefix.length) })),
  };
}

/** An event as a timeline row; with `after`, the state after it. */
export function eventRow(record: EventRecord, after?: AnyMachineSnapshot): EventRow {
  const { meta } = record;
  return {
    version: record.version,
    globalPosition: record.globalPosition,
    type: record.type,
    source: meta.source,
    cursor: meta.cursor,
    actor: meta.actor,
    target: meta.target,
    causationId: meta.causationId,
    recordedAt: meta.recordedAt,
    ...(after ? { state: formatStateValue(after.value), status: after.status } : {}),
  };
}

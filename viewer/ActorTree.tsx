/** The stream's actor tree: the root and every child (invoked or spawned, at any depth); a child machine is selectable, with its own chart and snapshot. */
import type { ChildView } from './api.ts';

export interface ActorTreeProps {
  streamId: string;
  /** The root's machine name. */
  machine: string;
  /** The children after the selected event (full paths, parents first). */
  tree: ChildView[];
  /** The actor shown: `''` the root. */
  selected: string;
  /** The actor the selected event was delivered to. */
  target?: string;
  onSelect: (path: string) => void;
}

const depthOf = (path: string) => (path === '' ? 0 : path.split('/').length);

export function ActorTree(props: ActorTreeProps) {
  const items: Array<{ path: string; label: string; machine: boolean; detail: string; status?: string }> = [
    { path: '', label: 'root', machine: true, detail: props.machine },
    ...props.tree.map((c) => ({ path: c.path, label: c.id, machine: c.machine, detail: c.machine ? (c.value ?? '') : (c.src ?? 'actor'), status: c.status })),
  ];
  // the selected child may have ended since: it stays listed, greyed
  if (props.selected !== '' && !items.some((i) => i.path === props.selected))
    items.push({ path: props.selected, label: props.selected.split('/').at(-1)!, machine: true, detail: 'not in the tree at this event', status: 'gone' });
  return (
    <nav class="actor-tree" aria-label="actor tree">
      <h3>actors</h3>
      <ul>
        {items.map((i) => (
          <li style={`padding-left:${depthOf(i.path) * 12}px`} data-actor={i.path}>
            {i.machine ? (
              <button
                type="button"
                class={`actor${i.path === props.selected ? ' selected' : ''}`}
                aria-pressed={i.path === props.selected}
                onClick={() => props.onSelect(i.path)}
                title={i.path === '' ? `${props.streamId} (the stream's root)` : `${i.path}: ${i.detail}`}
              >
                <span class="name">
                  {i.label}
                  {i.path === props.target ? (
                    <b class="delivered" title="the selected event was delivered here">
                      {' '}
                      ●
                    </b>
                  ) : null}
                </span>
                <small>{i.detail}</small>
              </button>
            ) : (
              <span class="actor other" title={`${i.path}: ${i.detail} (not a machine: no chart)`}>
                <span class="name">{i.label}</span>
                <small>
                  {i.detail}
                  {i.status && i.status !== 'active' ? ` · ${i.status}` : ''}
                </small>
              </span>
            )}
          </li>
        ))}
      </ul>
    </nav>
  );
}

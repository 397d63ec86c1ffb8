/** The snapshot of the shown actor after the selected event: its state, the change from the snapshot before, its children, context, the event itself. */
import { useMemo } from 'preact/hooks';
import { comparable, diffRows } from '../cli/snapshotDiff.ts';
import type { AtResult } from './api.ts';
import { short } from './format.ts';

export function SnapshotPanel(props: { at: AtResult | null }) {
  const { at } = props;
  const rows = useMemo(() => (at ? diffRows(comparable(at.previous), comparable(at.snapshot)) : []), [at]);
  if (!at)
    return (
      <aside class="inspect" aria-label="snapshot">
        <div class="empty">select an event</div>
      </aside>
    );
  const s = at.snapshot;
  const target = at.event?.meta.target;
  return (
    <aside class="inspect" aria-label="snapshot">
      <h2>
        {at.actor ? (
          <>
            <code>{at.actor}</code>{' '}
          </>
        ) : null}
        {at.version === 0 ? (
          'initial state'
        ) : (
          <>
            after v{at.version}: <code>{at.event?.type}</code>
          </>
        )}
      </h2>
      {at.event && target !== undefined && target !== at.actor ? (
        <div class="note">
          delivered to child <code>{target}</code>
        </div>
      ) : null}
      {at.event && target === undefined && at.actor ? <div class="note">delivered to the root</div> : null}
      {at.error ? <div class="warn">{at.error.message}</div> : null}
      {!s && at.actor ? <div class="warn">{at.actor} is not in the tree after this event</div> : null}
      {s ? (
        <>
          <div class="kv">
            <span>state</span>
            <code data-testid="state">{s.state}</code>
          </div>
          <div class="kv">
            <span>status</span>
            <span class={`badge st-${s.status}`}>{s.status}</span>
          </div>
        </>
      ) : null}
      <h3>
        changes from the previous snapshot{' '}
        <small>
          {rows.length} path{rows.length === 1 ? '' : 's'}
        </small>
      </h3>
      <table class="diff" data-testid="diff">
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td class="none">no change</td>
            </tr>
          ) : (
            rows.map((r) => (
              <tr class={`op-${r.op}`} data-op={r.op} data-path={r.path}>
                <td class="path" title={r.path}>
                  <code>{r.path || '(root)'}</code>
                </td>
                <td class="before" title={JSON.stringify(r.before) ?? ''}>
                  {r.op === 'add' ? '' : r.op === 'move' ? `moved from ${String(r.before)}` : short(r.before)}
                </td>
                <td class="arrow">→</td>
                <td class="after" title={JSON.stringify(r.after) ?? ''}>
                  {r.op === 'remove' ? '(removed)' : r.op === 'move' ? '' : short(r.after)}
                </td>
              </tr>
            ))
          )}
        </tbody>
      </table>
      {s && s.children.length ? (
        <>
          <h3>children</h3>
          <table class="children">
            <tbody>
              {s.children.map((c) => (
                <tr>
                  <td>
                    <code>{c.path}</code>
                  </td>
                  <td>{c.src ?? ''}</td>
                  <td>{c.value ?? ''}</td>
                  <td>{c.status ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
      {s ? (
        <details open>
          <summary>context</summary>
          <pre data-testid="context" tabIndex={0}>
            {JSON.stringify(s.context, null, 2)}
          </pre>
        </details>
      ) : null}
      {s?.error ? (
        <details open>
          <summary>error</summary>
          <pre tabIndex={0}>{JSON.stringify(s.error, null, 2)}</pre>
        </details>
      ) : null}
      {at.event ? (
        <details>
          <summary>event data and meta</summary>
          <pre tabIndex={0}>{JSON.stringify({ data: at.event.data, meta: at.event.meta, globalPosition: at.event.globalPosition }, null, 2)}</pre>
        </details>
      ) : null}
    </aside>
  );
}

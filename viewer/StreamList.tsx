/** The list of streams with how each ended, and its filters: search by id, machine, outcome chips with counts. One tab stop; arrow keys move inside it. */
import { useRef } from 'preact/hooks';
import type { StreamsPage } from './api.ts';
import { dateTime } from './format.ts';
import { OutcomeBadge } from './OutcomeBadge.tsx';

/** The list's filters, as the URL keeps them. */
export interface StreamFilter {
  outcome: Set<string>;
  machine: string;
  q: string;
}

export interface StreamListProps extends StreamFilter {
  page: StreamsPage | null;
  selected?: string;
  onFilter: (change: Partial<StreamFilter>) => void;
  onSelect: (streamId: string) => void;
  onMore: () => void;
}

export function StreamList(props: StreamListProps) {
  const { page, selected } = props;
  const list = useRef<HTMLUListElement>(null);
  const items = page?.items ?? [];
  // the roving tab stop: the selected stream, else the first
  const focusable = items.some((s) => s.streamId === selected) ? selected : items[0]?.streamId;
  const onKey = (e: KeyboardEvent) => {
    const options = [...(list.current?.querySelectorAll<HTMLElement>('li[role=option]') ?? [])];
    const at = options.indexOf(document.activeElement as HTMLElement);
    const move = ({ ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10 } as Record<string, number>)[e.key];
    let next: HTMLElement | undefined;
    if (move !== undefined) next = options[Math.min(options.length - 1, Math.max(0, at + move))];
    else if (e.key === 'Home') next = options[0];
    else if (e.key === 'End') next = options.at(-1);
    else if ((e.key === 'Enter' || e.key === ' ') && at >= 0) {
      e.preventDefault();
      e.stopPropagation();
      props.onSelect(options[at]!.dataset.stream!);
      return;
    } else return;
    e.preventDefault();
    e.stopPropagation();
    if (!next) return;
    for (const o of options) o.tabIndex = o === next ? 0 : -1;
    next.focus();
    next.scrollIntoView({ block: 'nearest' });
  };
  const toggle = (label: string) => {
    const next = new Set(props.outcome);
    if (next.has(label)) next.delete(label);
    else next.add(label);
    props.onFilter({ outcome: next });
  };
  // a chosen outcome that no longer matches anything stays listed, at 0, so it can be cleared
  const outcomes = [...(page?.outcomes ?? [])];
  for (const label of props.outcome) if (!outcomes.some((o) => o.label === label)) outcomes.push({ label, tone: 'neutral', count: 0 });
  return (
    <aside class="streams" aria-label="streams">
      <div class="filters">
        <input
          type="search"
          id="search"
          placeholder="search stream id  ( / )"
          aria-label="search by stream id"
          value={props.q}
          onInput={(e) => props.onFilter({ q: e.currentTarget.value })}
        />
        <select aria-label="machine" value={props.machine} onChange={(e) => props.onFilter({ machine: e.currentTarget.value })}>
          <option value="">all machines</option>
          {page?.machines.map((m) => (
            <option value={m}>{m}</option>
          ))}
        </select>
        <div class="chips" role="group" aria-label="how the actors ended">
          {outcomes.map((o) => (
            <button
              type="button"
              class={`chip tone-${o.tone}`}
              aria-pressed={props.outcome.has(o.label)}
              data-outcome={o.label}
              onClick={() => toggle(o.label)}
            >
              {o.label} <b>{o.count}</b>
            </button>
          ))}
        </div>
        <div class="count" data-testid="stream-count" aria-live="polite">
          {page ? `${page.items.length} shown of ${page.total} (${page.all} in the log)` : 'loading…'}
        </div>
      </div>
      <ul class="stream-list" role="listbox" aria-label="streams" ref={list} onKeyDown={onKey}>
        {items.map((s) => (
          <li
            role="option"
            tabIndex={s.streamId === focusable ? 0 : -1}
            aria-selected={s.streamId === selected}
            class={s.streamId === selected ? 'selected' : ''}
            data-stream={s.streamId}
            onClick={() => props.onSelect(s.streamId)}
          >
            <div class="sid" title={s.streamId}>
              {s.streamId}
            </div>
            <div class="meta">
              <span class="machine">{s.machine.name}</span>
              <OutcomeBadge outcome={s.outcome} status={s.status} />
              <span>v{s.version}</span>
              <span class="upd" title="last update (UTC)">
                {dateTime(s.updatedAt)}
              </span>
            </div>
          </li>
        ))}
      </ul>
      {page && page.items.length < page.total ? (
        <button type="button" class="more" onClick={props.onMore}>
          show more
        </button>
      ) : null}
    </aside>
  );
}

/**
 * The `actorlog view` page: streams, the selected actor's statechart, timeline, snapshot and diff,
 * and the whole service at a global position. Everything comes from the viewer's API on the same
 * origin (cli/view/api.ts); nothing from a network.
 */
import { html } from 'htm/preact';
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get, streamPath, STATUSES, type AtResult, type EventRow, type ServicePage, type SnapshotView, type Status, type StreamInfo, type StreamsPage } from './api.ts';
import { Statechart } from './chart.ts';
import type { DefinitionNode } from './chartModel.ts';
import { diffRows } from './diff.ts';
import { Timeline } from './timeline.ts';
import { readHash, writeHash } from './url.ts';

const short = (v: unknown) => {
  const t = v === undefined ? '—' : JSON.stringify(v);
  return t.length > 80 ? `${t.slice(0, 77)}…` : t;
};
const ago = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const isField = (t: EventTarget | null) => t instanceof HTMLElement && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA');

function comparable(s: SnapshotView | null): unknown {
  if (!s) return null;
  return { value: s.value, status: s.status, context: s.context, children: Object.fromEntries(s.children.map((c) => [c.path, { src: c.src, status: c.status, value: c.value }])) };
}

function Streams(props: { page: StreamsPage | null; status: Set<Status>; machine: string; q: string; selected?: string;
  onFilter(f: { status?: Set<Status>; machine?: string; q?: string }): void; onSelect(id: string): void; onMore(): void }) {
  const { page } = props;
  const list = useRef<HTMLUListElement>(null);
  const keys = (e: KeyboardEvent) => {
    if (!page || (e.key !== 'ArrowDown' && e.key !== 'ArrowUp')) return;
    e.preventDefault();
    const items = [...(list.current?.querySelectorAll<HTMLElement>('li[role=option]') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    const next = items[Math.min(items.length - 1, Math.max(0, at + (e.key === 'ArrowDown' ? 1 : -1)))];
    next?.focus();
  };
  return html`<aside class="streams" aria-label="streams">
    <div class="filters">
      <input type="search" placeholder="search stream id  ( / )" aria-label="search by stream id" value=${props.q} onInput=${(e: Event) => props.onFilter({ q: (e.target as HTMLInputElement).value })} id="search" />
      <select aria-label="machine" value=${props.machine} onChange=${(e: Event) => props.onFilter({ machine: (e.target as HTMLSelectElement).value })}>
        <option value="">all machines</option>
        ${page?.machines.map((m) => html`<option value=${m}>${m}</option>`)}
      </select>
      <div class="chips" role="group" aria-label="status">
        ${STATUSES.map((s) => html`<button type="button" class=${`chip st-${s}`} aria-pressed=${props.status.has(s)} data-status=${s}
          onClick=${() => { const next = new Set(props.status); next.has(s) ? next.delete(s) : next.add(s); props.onFilter({ status: next }); }}>${s} <b>${page?.counts[s] ?? 0}</b></button>`)}
      </div>
      <div class="count" data-testid="stream-count">${page ? `${page.items.length} shown of ${page.total} (${page.all} in the log)` : 'loading…'}</div>
    </div>
    <ul class="stream-list" role="listbox" aria-label="streams" ref=${list} onKeyDown=${keys}>
      ${page?.items.map((s) => html`<li role="option" tabindex="0" aria-selected=${s.streamId === props.selected} class=${s.streamId === props.selected ? 'selected' : ''} data-stream=${s.streamId}
          onClick=${() => props.onSelect(s.streamId)} onKeyDown=${(e: KeyboardEvent) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), props.onSelect(s.streamId))}>
        <div class="sid" title=${s.streamId}>${s.streamId}</div>
        <div class="meta"><span class="machine">${s.machine.name}</span><span class=${`badge st-${s.status}`}>${s.status}</span><span>v${s.version}</span><span class="upd" title="last update (UTC)">${ago(s.updatedAt)}</span></div>
      </li>`)}
    </ul>
    ${page && page.items.length < page.total ? html`<button type="button" class="more" onClick=${props.onMore}>show more</button>` : null}
  </aside>`;
}

function Snapshot(props: { at: AtResult | null }) {
  const { at } = props;
  const rows = useMemo(() => (at ? diffRows(comparable(at.previous), comparable(at.snapshot)) : []), [at]);
  if (!at) return html`<aside class="inspect"><div class="empty">select an event</div></aside>`;
  const s = at.snapshot;
  return html`<aside class="inspect" aria-label="snapshot">
    <h2>${at.version === 0 ? 'initial state' : html`after v${at.version}: <code>${at.event?.type}</code>`}</h2>
    ${at.error ? html`<div class="warn">${at.error.message}</div>` : null}
    ${s ? html`<div class="kv"><span>state</span><code data-testid="state">${s.state}</code></div>
      <div class="kv"><span>status</span><span class=${`badge st-${s.status}`}>${s.status}</span></div>` : null}
    <h3>changes from the previous snapshot <small>${rows.length} path${rows.length === 1 ? '' : 's'}</small></h3>
    <table class="diff" data-testid="diff"><tbody>
      ${rows.length === 0 ? html`<tr><td class="none">no change</td></tr>` : rows.map((r) => html`<tr class=${`op-${r.op}`}><td class="path" title=${r.path}><code>${r.path || '(root)'}</code></td>
        <td class="before" title=${JSON.stringify(r.before) ?? ''}>${r.op === 'add' ? '' : short(r.before)}</td><td class="arrow">→</td><td class="after" title=${JSON.stringify(r.after) ?? ''}>${r.op === 'remove' ? '(removed)' : short(r.after)}</td></tr>`)}
    </tbody></table>
    ${s && s.children.length ? html`<h3>children</h3><table class="children"><tbody>${s.children.map((c) => html`<tr><td><code>${c.path}</code></td><td>${c.src ?? ''}</td><td>${c.value ?? ''}</td><td>${c.status ?? ''}</td></tr>`)}</tbody></table>` : null}
    ${s ? html`<details open><summary>context</summary><pre data-testid="context">${JSON.stringify(s.context, null, 2)}</pre></details>` : null}
    ${s?.error ? html`<details open><summary>error</summary><pre>${JSON.stringify(s.error, null, 2)}</pre></details>` : null}
    ${at.event ? html`<details><summary>event data and meta</summary><pre>${JSON.stringify({ data: at.event.data, meta: at.event.meta, globalPosition: at.event.globalPosition }, null, 2)}</pre></details>` : null}
  </aside>`;
}

function Service(props: { head: number; position: number; page: ServicePage | null; onPosition(n: number): void; onOpen(id: string, v: number): void; onMore(): void }) {
  const { page } = props;
  return html`<section class="service" aria-label="the service at a global position">
    <div class="svc-head">
      <h2>service at position</h2>
      <input type="range" min="0" max=${props.head} value=${props.position} aria-label="global position" data-testid="position-slider"
        onInput=${(e: Event) => props.onPosition(Number((e.target as HTMLInputElement).value))} />
      <input type="number" min="0" max=${props.head} value=${props.position} aria-label="global position number" onChange=${(e: Event) => props.onPosition(Number((e.target as HTMLInputElement).value))} />
      <span>of ${props.head} · ${page ? `${page.total} actors existed` : '…'}</span>
    </div>
    <div class="svc-body"><table class="svc"><thead><tr><th>stream</th><th>machine</th><th>state as of N</th><th>status</th><th>last event (v, position)</th><th>source</th></tr></thead><tbody>
      ${page?.items.map((i) => html`<tr tabindex="0" onClick=${() => props.onOpen(i.streamId, i.version)} onKeyDown=${(e: KeyboardEvent) => e.key === 'Enter' && props.onOpen(i.streamId, i.version)}>
        <td><code>${i.streamId}</code></td><td>${i.machine}</td><td><code>${i.state ?? '?'}</code></td><td><span class=${`badge st-${i.status}`}>${i.status ?? ''}</span></td>
        <td>${i.event ? `${i.event.type} (v${i.version}, #${i.event.globalPosition})` : '(created, no event yet)'}</td><td>${i.event?.source ?? ''}</td></tr>`)}
    </tbody></table>${page && page.items.length < page.total ? html`<button type="button" class="more" onClick=${props.onMore}>show more</button>` : null}</div>
  </section>`;
}

function App() {
  const initial = useMemo(() => readHash(), []);
  const [db, setDb] = useState('');
  const [head, setHead] = useState(0);
  const [live, setLive] = useState(false);
  const [status, setStatus] = useState<Set<Status>>(new Set((initial.status ?? '').split(',').filter((s) => STATUSES.includes(s as Status)) as Status[]));
  const [machine, setMachine] = useState(initial.machine ?? '');
  const [q, setQ] = useState(initial.q ?? '');
  const [limit, setLimit] = useState(200);
  const [streams, setStreams] = useState<StreamsPage | null>(null);
  const [streamsTick, setStreamsTick] = useState(0);
  const [selected, setSelected] = useState<string | undefined>(initial.stream);
  const [info, setInfo] = useState<StreamInfo | null>(null);
  const [total, setTotal] = useState(0);
  const [version, setVersion] = useState<number | undefined>(initial.v);
  const [at, setAt] = useState<AtResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [position, setPosition] = useState<number | undefined>(initial.pos);
  const [service, setService] = useState<ServicePage | null>(null);
  const [serviceLimit, setServiceLimit] = useState(100);
  const follow = useRef(initial.v === undefined);

  useEffect(() => void get<{ db: string; head: number }>('info').then((i) => (setDb(i.db), setHead(i.head), (document.title = `${i.db} · actorlog view`))), []);

  // the streams list (debounced while typing)
  useEffect(() => {
    const ctl = new AbortController();
    const t = setTimeout(() => get<StreamsPage>('streams', { status: [...status].join(','), machine, q, limit }, ctl.signal).then(setStreams, () => undefined), 120);
    return () => (clearTimeout(t), ctl.abort());
  }, [status, machine, q, limit, streamsTick]);

  // the selected stream
  useEffect(() => {
    setInfo(null);
    setAt(null);
    if (!selected) return;
    const ctl = new AbortController();
    get<StreamInfo>(streamPath(selected), {}, ctl.signal).then((i) => {
      setInfo(i);
      setTotal(i.stream.version);
      setVersion((v) => (v === undefined || follow.current ? i.stream.version : Math.min(v, i.stream.version)));
      setError(null);
    }, (e: Error) => e.name !== 'AbortError' && setError(e.message));
    return () => ctl.abort();
  }, [selected]);

  // the snapshot at the selected version
  useEffect(() => {
    if (!selected || version === undefined || !info) return;
    const ctl = new AbortController();
    get<AtResult>(streamPath(selected, `/at/${version}`), {}, ctl.signal).then(setAt, (e: Error) => e.name !== 'AbortError' && setError(e.message));
    return () => ctl.abort();
  }, [selected, version, info]);

  // the service at a position (debounced while sliding)
  const pos = position ?? head;
  useEffect(() => {
    const ctl = new AbortController();
    const t = setTimeout(() => get<ServicePage>('service', { position: pos, limit: serviceLimit }, ctl.signal).then(setService, () => undefined), 150);
    return () => (clearTimeout(t), ctl.abort());
  }, [pos, serviceLimit]);

  // live: events appended by any process
  const selectedRef = useRef(selected);
  selectedRef.current = selected;
  const liveRows = useRef(new Map<number, EventRow>());
  useEffect(() => void (liveRows.current = new Map()), [selected]);
  useEffect(() => {
    const source = new EventSource('/api/live');
    // the list, the head and the service follow at most four times a second; the selected stream at once
    let refresh: ReturnType<typeof setTimeout> | undefined;
    let newest = 0;
    const soon = () => (refresh ??= setTimeout(() => ((refresh = undefined), setHead((h) => Math.max(h, newest)), setStreamsTick((t) => t + 1)), 250));
    source.addEventListener('open', () => setLive(true));
    source.addEventListener('error', () => setLive(false));
    source.addEventListener('append', (m) => {
      const r = JSON.parse((m as MessageEvent).data) as EventRow & { streamId: string };
      newest = Math.max(newest, r.globalPosition);
      if (r.streamId === selectedRef.current) {
        liveRows.current.set(r.version, r);
        if (liveRows.current.size > 1_000) liveRows.current.delete(liveRows.current.keys().next().value!);
        setTotal((t) => Math.max(t, r.version));
        if (follow.current) setVersion(r.version);
      }
      soon();
    });
    source.addEventListener('streams', soon);
    return () => (source.close(), clearTimeout(refresh));
  }, []);

  useEffect(() => writeHash({ stream: selected, v: version, pos: position, status: [...status].join(','), machine, q }), [selected, version, position, status, machine, q]);
  useEffect(() => {
    const onHash = () => {
      const h = readHash();
      if (h.stream !== selectedRef.current) setSelected(h.stream);
      if (h.v !== undefined) (follow.current = false), setVersion(h.v);
      if (h.pos !== undefined) setPosition(h.pos);
    };
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  // keys and buttons may come faster than renders: they read and move these at once
  const versionRef = useRef(version);
  const totalRef = useRef(total);
  versionRef.current = version;
  totalRef.current = total;
  const select = useCallback((v: number) => {
    const next = Math.max(0, Math.min(totalRef.current, v));
    follow.current = next === totalRef.current;
    versionRef.current = next;
    setVersion(next);
  }, []);
  const open = useCallback((id: string, v?: number) => {
    follow.current = v === undefined;
    setVersion(v ?? (id === selectedRef.current ? totalRef.current : undefined));
    setSelected(id);
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === '/' && !isField(e.target)) return void (e.preventDefault(), document.getElementById('search')?.focus());
      const at = versionRef.current;
      if (isField(e.target) || at === undefined || !selectedRef.current) return;
      const step = ({ ArrowLeft: -1, ArrowRight: 1, PageUp: -20, PageDown: 20 } as Record<string, number>)[e.key];
      if (step !== undefined) return void (e.preventDefault(), select(at + step));
      if (e.key === 'Home') (e.preventDefault(), select(0));
      if (e.key === 'End') (e.preventDefault(), select(totalRef.current));
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [select]);

  const definition = info?.definition as DefinitionNode | null | undefined;
  return html`
    <header><h1>actorlog view</h1><span class="db">${db}</span><span>head #${head}</span>
      <span class=${`live ${live ? 'on' : 'off'}`} title="events appended by any process appear here">${live ? '● live' : '○ offline'}</span>
      <span class="keys">← → step · PgUp/PgDn ±20 · Home/End · / search</span></header>
    <main>
      <${Streams} page=${streams} status=${status} machine=${machine} q=${q} selected=${selected} onSelect=${(id: string) => open(id)} onMore=${() => setLimit((l) => l + 200)}
        onFilter=${(f: { status?: Set<Status>; machine?: string; q?: string }) => { if (f.status) setStatus(f.status); if (f.machine !== undefined) setMachine(f.machine); if (f.q !== undefined) setQ(f.q); setLimit(200); }} />
      <section class="center">
        ${!selected ? html`<div class="empty big">select a stream on the left</div>` : html`
          <div class="chart-panel" aria-label="statechart">
            <div class="panel-head"><h2><code>${selected}</code></h2>${info ? html`<span>${info.stream.machine.name} <small>${info.stream.machine.hash.slice(0, 12)}</small></span>
              <span class=${`badge st-${info.stream.status}`}>${info.stream.status}</span><small>definition from ${info.definitionSource ?? 'nowhere'}</small>` : null}
              ${info && !info.replay.ok ? html`<span class="warn">${info.replay.message}</span>` : null}${error ? html`<span class="warn">${error}</span>` : null}</div>
            ${definition ? html`<${Statechart} definition=${definition} value=${at?.snapshot?.value} transitions=${at?.transitions ?? []} />` : html`<div class="empty">${info ? 'no definition in the log, and the machine is not registered' : 'loading…'}</div>`}
          </div>
          <div class="timeline-panel">
            <div class="stepper">
              <button type="button" onClick=${() => select((versionRef.current ?? 0) - 1)} aria-label="previous event" disabled=${!version}>←</button>
              <input type="range" min="0" max=${total} value=${version ?? 0} aria-label="stream version" data-testid="version-slider" onInput=${(e: Event) => select(Number((e.target as HTMLInputElement).value))} />
              <button type="button" onClick=${() => select((versionRef.current ?? 0) + 1)} aria-label="next event" disabled=${version === total}>→</button>
              <span data-testid="version-label">v${version ?? 0} of ${total}</span>
            </div>
            <${Timeline} streamId=${selected} total=${total} live=${liveRows.current} selected=${version ?? 0} onSelect=${select} onJump=${(id: string, v: number) => open(id, v)} />
          </div>`}
      </section>
      <${Snapshot} at=${at} />
    </main>
    <${Service} head=${head} position=${pos} page=${service} onPosition=${(n: number) => setPosition(n)} onOpen=${(id: string, v: number) => open(id, v)} onMore=${() => setServiceLimit((l) => l + 100)} />`;
}

render(html`<${App} />`, document.getElementById('app')!);

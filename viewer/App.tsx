/**
 * The `actorlog view` page: streams, the selected actor's statechart, timeline, snapshot and diff,
 * and the whole service at a global position. Everything comes from the viewer's API on the same
 * origin (cli/view/server.ts); nothing from a network.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get, isAbort, streamPath, STREAM_STATUSES, type AtResult, type EventRow, type InfoView, type LiveRow, type ServicePage, type StreamInfo, type StreamStatus, type StreamsPage } from './api.ts';
import type { DefinitionNode } from './chartModel.ts';
import { isField } from './format.ts';
import { ServicePanel } from './ServicePanel.tsx';
import { SnapshotPanel } from './SnapshotPanel.tsx';
import { Statechart } from './Statechart.tsx';
import { StreamList, type StreamFilter } from './StreamList.tsx';
import { Timeline } from './Timeline.tsx';
import { readHash, writeHash } from './url.ts';

export function App() {
  const initial = useMemo(() => readHash(), []);
  const [db, setDb] = useState('');
  const [head, setHead] = useState(0);
  const [live, setLive] = useState(false);
  const [status, setStatus] = useState<Set<StreamStatus>>(new Set((initial.status ?? '').split(',').filter((s): s is StreamStatus => STREAM_STATUSES.includes(s as StreamStatus))));
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

  useEffect(() => void get<InfoView>('info').then((i) => (setDb(i.db), setHead(i.head), (document.title = `${i.db} · actorlog view`))), []);

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
    }, (e: Error) => !isAbort(e) && setError(e.message));
    return () => ctl.abort();
  }, [selected]);

  // the snapshot at the selected version
  useEffect(() => {
    if (!selected || version === undefined || !info) return;
    const ctl = new AbortController();
    get<AtResult>(streamPath(selected, `/at/${version}`), {}, ctl.signal).then(setAt, (e: Error) => !isAbort(e) && setError(e.message));
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
      const r = JSON.parse((m as MessageEvent<string>).data) as LiveRow;
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

  const onFilter = (f: Partial<StreamFilter>) => {
    if (f.status) setStatus(f.status);
    if (f.machine !== undefined) setMachine(f.machine);
    if (f.q !== undefined) setQ(f.q);
    setLimit(200);
  };
  const definition = info?.definition as DefinitionNode | null | undefined;
  return (
    <>
      <header>
        <h1>actorlog view</h1><span class="db">{db}</span><span>head #{head}</span>
        <span class={`live ${live ? 'on' : 'off'}`} title="events appended by any process appear here">{live ? '● live' : '○ offline'}</span>
        <span class="keys">← → step · PgUp/PgDn ±20 · Home/End · / search</span>
      </header>
      <main>
        <StreamList page={streams} status={status} machine={machine} q={q} selected={selected} onSelect={(id) => open(id)} onMore={() => setLimit((l) => l + 200)} onFilter={onFilter} />
        <section class="center">
          {!selected ? <div class="empty big">select a stream on the left</div> : (
            <>
              <div class="chart-panel" aria-label="statechart">
                <div class="panel-head">
                  <h2><code>{selected}</code></h2>
                  {info ? (
                    <>
                      <span>{info.stream.machine.name} <small>{info.stream.machine.hash.slice(0, 12)}</small></span>
                      <span class={`badge st-${info.stream.status}`}>{info.stream.status}</span>
                      <small>definition from {info.definitionSource ?? 'nowhere'}</small>
                    </>
                  ) : null}
                  {info && !info.replay.ok ? <span class="warn">{info.replay.message}</span> : null}
                  {error ? <span class="warn">{error}</span> : null}
                </div>
                {definition ? <Statechart definition={definition} value={at?.snapshot?.value} transitions={at?.transitions ?? []} />
                  : <div class="empty">{info ? 'no definition in the log, and the machine is not registered' : 'loading…'}</div>}
              </div>
              <div class="timeline-panel">
                <div class="stepper">
                  <button type="button" onClick={() => select((versionRef.current ?? 0) - 1)} aria-label="previous event" disabled={!version}>←</button>
                  <input type="range" min="0" max={total} value={version ?? 0} aria-label="stream version" data-testid="version-slider" onInput={(e) => select(Number(e.currentTarget.value))} />
                  <button type="button" onClick={() => select((versionRef.current ?? 0) + 1)} aria-label="next event" disabled={version === total}>→</button>
                  <span data-testid="version-label">v{version ?? 0} of {total}</span>
                </div>
                <Timeline streamId={selected} total={total} live={liveRows.current} selected={version ?? 0} onSelect={select} onJump={(id, v) => open(id, v)} />
              </div>
            </>
          )}
        </section>
        <SnapshotPanel at={at} />
      </main>
      <ServicePanel head={head} position={pos} page={service} onPosition={setPosition} onOpen={(id, v) => open(id, v)} onMore={() => setServiceLimit((l) => l + 100)} />
    </>
  );
}

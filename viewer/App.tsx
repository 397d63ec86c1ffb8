/**
 * The `actorlog view` page: streams and how each ended, the selected actor tree's statecharts (root
 * or any child machine), the sequence of messages between actors, the timeline, the snapshot and its
 * diff, and the whole service at a global position. Everything comes from the viewer's API on the
 * same origin (cli/view/server.ts); nothing from a network.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  get,
  isAbort,
  streamPath,
  type AtResult,
  type DefinitionView,
  type EventRow,
  type InfoView,
  type ServicePage,
  type StreamInfo,
  type StreamsPage,
} from './api.ts';
import { ActorTree } from './ActorTree.tsx';
import type { DefinitionNode } from './chartModel.ts';
import { isField } from './format.ts';
import { MatchList, type EventFilter } from './MatchList.tsx';
import { SequenceDiagram } from './SequenceDiagram.tsx';
import { ServicePanel } from './ServicePanel.tsx';
import { SnapshotPanel } from './SnapshotPanel.tsx';
import { Statechart } from './Statechart.tsx';
import { Stepper } from './Stepper.tsx';
import { StreamHeader } from './StreamHeader.tsx';
import { StreamList, type StreamFilter } from './StreamList.tsx';
import { Timeline } from './Timeline.tsx';
import { TimelineFilters } from './TimelineFilters.tsx';
import { readHash, writeHash, type ViewHash } from './url.ts';
import { useLatest } from './useLatest.ts';
import { useLiveFeed, type LiveBatch } from './useLiveFeed.ts';

/** The list and the selected stream's heading follow live changes at most this often (ms). */
const FOLLOW_MS = 1_000;

export function App() {
  const initial = useMemo(() => readHash(), []);
  const [db, setDb] = useState('');
  const [head, setHead] = useState(0);
  const [outcome, setOutcome] = useState(new Set((initial.outcome ?? '').split(',').filter((s) => s !== '')));
  const [machine, setMachine] = useState(initial.machine ?? '');
  const [q, setQ] = useState(initial.q ?? '');
  const [limit, setLimit] = useState(200);
  const [streams, setStreams] = useState<StreamsPage | null>(null);
  const [streamsTick, setStreamsTick] = useState(0);
  const [selected, setSelected] = useState<string | undefined>(initial.stream);
  const [info, setInfo] = useState<StreamInfo | null>(null);
  const [infoTick, setInfoTick] = useState(0);
  const [total, setTotal] = useState(0);
  const [version, setVersion] = useState<number | undefined>(initial.v);
  const [actor, setActor] = useState(initial.actor ?? '');
  const [tab, setTab] = useState(initial.tab === 'sequence' ? 'sequence' : 'chart');
  const [eventFilter, setEventFilter] = useState<EventFilter>({ type: initial.type, source: initial.source });
  const [childDefinition, setChildDefinition] = useState<DefinitionView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [position, setPosition] = useState<number | undefined>(initial.pos);
  const [service, setService] = useState<ServicePage | null>(null);
  const [serviceLimit, setServiceLimit] = useState(100);
  const follow = useRef(initial.v === undefined);

  useEffect(() => void get<InfoView>('info').then((i) => (setDb(i.db), setHead(i.head), (document.title = `${i.db} · actorlog view`))), []);

  // the streams list (debounced while typing)
  useEffect(() => {
    const ctl = new AbortController();
    // void: the read's failure goes to its rejection handler (the list stays as it was)
    const t = setTimeout(
      () => void get<StreamsPage>('streams', { outcome: [...outcome].join(','), machine, q, limit }, ctl.signal).then(setStreams, () => undefined),
      120,
    );
    return () => (clearTimeout(t), ctl.abort());
  }, [outcome, machine, q, limit, streamsTick]);

  // the selected stream (read again when it changed live, for its outcome and status)
  useEffect(() => {
    if (!selected) return setInfo(null);
    const ctl = new AbortController();
    get<StreamInfo>(streamPath(selected), {}, ctl.signal).then(
      (i) => {
        setInfo(i);
        setTotal((t) => Math.max(t, i.stream.version));
        setVersion((v) => (v === undefined || follow.current ? Math.max(v ?? 0, i.stream.version) : Math.min(v, i.stream.version)));
        setError(null);
      },
      (e: Error) => !isAbort(e) && setError(e.message),
    );
    return () => ctl.abort();
  }, [selected, infoTick]);
  const infoFor = info?.stream.streamId === selected ? info : null;

  // the shown actor's snapshot at the selected version: one read at a time, the newest wanted next
  const atKey = selected && version !== undefined && infoFor ? JSON.stringify([selected, version, actor]) : null;
  const latest = useLatest(
    atKey,
    (key) => {
      const [id, v, path] = JSON.parse(key) as [string, number, string];
      return get<AtResult>(streamPath(id, `/at/${v}`), { actor: path || undefined });
    },
    (e) => setError((e as Error).message),
  );
  const at = latest && JSON.parse(latest.key)[0] === selected ? latest.value : null;

  // a child machine's definition, read once per child shown
  useEffect(() => {
    setChildDefinition(null);
    if (!selected || !actor || !infoFor) return;
    const ctl = new AbortController();
    get<DefinitionView>(streamPath(selected, '/definition'), { actor, v: version ?? infoFor.stream.version }, ctl.signal).then(
      setChildDefinition,
      (e: Error) => !isAbort(e) && setError(e.message),
    );
    return () => ctl.abort();
  }, [selected, actor, infoFor !== null]);

  // the service at a position (debounced while sliding or while the head moves); it folds many
  // streams, so it waits until the selected stream's snapshot is shown
  const pos = position ?? head;
  const serviceReady = !selected || at !== null || error !== null;
  useEffect(() => {
    if (!serviceReady) return;
    const ctl = new AbortController();
    // void: the read's failure goes to its rejection handler (the panel stays as it was)
    const t = setTimeout(
      () => void get<ServicePage>('service', { position: pos, limit: serviceLimit }, ctl.signal).then(setService, () => undefined),
      position === undefined ? 1_000 : 150,
    );
    return () => (clearTimeout(t), ctl.abort());
  }, [pos, serviceLimit, serviceReady]);

  // live: events appended by any process, one batch per frame
  const selectedRef = useRef(selected);
  selectedRef.current = selected;
  const liveRows = useRef(new Map<number, EventRow>());
  useEffect(() => void (liveRows.current = new Map()), [selected]);
  const lastFollow = useRef(0);
  const followTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const refreshSoon = useCallback(() => {
    if (followTimer.current) return;
    const wait = Math.max(0, lastFollow.current + FOLLOW_MS - Date.now());
    followTimer.current = setTimeout(() => {
      followTimer.current = undefined;
      lastFollow.current = Date.now();
      setStreamsTick((t) => t + 1);
      setInfoTick((t) => t + 1);
    }, wait);
  }, []);
  useEffect(() => () => clearTimeout(followTimer.current), []);
  const live = useLiveFeed((batch: LiveBatch) => {
    if (batch.head) setHead((h) => Math.max(h, batch.head));
    let newest = 0;
    for (const r of batch.rows) {
      if (r.streamId !== selectedRef.current) continue;
      liveRows.current.set(r.version, r);
      newest = Math.max(newest, r.version);
    }
    while (liveRows.current.size > 2_000) liveRows.current.delete(liveRows.current.keys().next().value!);
    if (newest) {
      setTotal((t) => Math.max(t, newest));
      if (follow.current) setVersion((v) => Math.max(v ?? 0, newest));
    }
    if (batch.rows.length || batch.streamsChanged) refreshSoon();
  });

  // the URL follows the view; a URL changed from outside (a link, the address bar, back) moves the view
  const written = useRef<string | undefined>(undefined);
  const applyHash = useCallback((h: ViewHash) => {
    if (h.stream !== selectedRef.current) {
      setSelected(h.stream);
      setTotal(0);
    }
    setActor(h.actor ?? '');
    setTab(h.tab === 'sequence' ? 'sequence' : 'chart');
    follow.current = h.v === undefined;
    setVersion(h.v);
    setPosition(h.pos);
    setOutcome(new Set((h.outcome ?? '').split(',').filter((x) => x !== '')));
    setMachine(h.machine ?? '');
    setQ(h.q ?? '');
    setEventFilter({ type: h.type, source: h.source });
  }, []);
  useEffect(() => {
    if (written.current !== undefined && location.hash !== written.current) return applyHash(readHash());
    const view: ViewHash = {
      stream: selected,
      v: version,
      actor: actor || undefined,
      tab: tab === 'chart' ? undefined : tab,
      pos: position,
      outcome: [...outcome].join(','),
      machine,
      q,
      type: eventFilter.type,
      source: eventFilter.source,
    };
    writeHash(view);
    written.current = location.hash;
  }, [selected, version, actor, tab, position, outcome, machine, q, eventFilter]);
  useEffect(() => {
    const onHash = () => location.hash !== written.current && applyHash(readHash());
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
    if (id !== selectedRef.current) {
      setActor('');
      setTotal(0);
      setEventFilter({});
    }
    setVersion(v ?? (id === selectedRef.current ? totalRef.current : undefined));
    setSelected(id);
  }, []);
  const failure = infoFor?.stream.outcome.tone === 'bad' || infoFor?.stream.outcome.kind === 'threw' ? infoFor.stream.outcome.version : undefined;
  const failureRef = useRef(failure);
  failureRef.current = failure;
  const jumpToFailure = useCallback(() => failureRef.current !== undefined && select(failureRef.current), [select]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === '/' && !isField(e.target)) {
        e.preventDefault();
        document.getElementById('search')?.focus();
        return;
      }
      const at = versionRef.current;
      if (isField(e.target) || at === undefined || !selectedRef.current || e.ctrlKey || e.metaKey || e.altKey) return;
      const step = ({ ArrowLeft: -1, ArrowRight: 1, PageUp: -20, PageDown: 20 } as Record<string, number>)[e.key];
      const to = e.key === 'f' ? failureRef.current : step !== undefined ? at + step : e.key === 'Home' ? 0 : e.key === 'End' ? totalRef.current : undefined;
      if (to === undefined) return;
      e.preventDefault();
      select(to);
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [select, jumpToFailure]);

  const onFilter = (f: Partial<StreamFilter>) => {
    if (f.outcome) setOutcome(f.outcome);
    if (f.machine !== undefined) setMachine(f.machine);
    if (f.q !== undefined) setQ(f.q);
    setLimit(200);
  };
  const chart =
    actor === ''
      ? infoFor?.definition
        ? { hash: infoFor.stream.machine.hash, definition: infoFor.definition as DefinitionNode }
        : null
      : childDefinition?.actor === actor
        ? { hash: childDefinition.hash, definition: childDefinition.definition as DefinitionNode }
        : null;
  const filtered = eventFilter.type !== undefined || eventFilter.source !== undefined;
  // the download: the selected stream up to the selected event, whole when it follows the last one
  const upTo = version !== undefined && version < total ? version : undefined;
  const exportTo = upTo === undefined ? undefined : upTo === 0 ? 0 : at?.version === upTo ? at.event?.globalPosition : undefined;
  const download = {
    href: `/api/export?${new URLSearchParams({ stream: selected ?? '', ...(exportTo !== undefined ? { to: String(exportTo) } : {}) })}`,
    upTo: exportTo !== undefined ? upTo : undefined,
  };
  return (
    <>
      <header>
        <h1>actorlog view</h1>
        <span class="db">{db}</span>
        <span>head #{head}</span>
        <span class={`live ${live ? 'on' : 'off'}`} title="events appended by any process appear here">
          {live ? '● live' : '○ offline'}
        </span>
        <span class="keys">← → step · PgUp/PgDn ±20 · Home/End · f failure · / search</span>
      </header>
      <main>
        <StreamList
          page={streams}
          outcome={outcome}
          machine={machine}
          q={q}
          selected={selected}
          onSelect={(id) => open(id)}
          onMore={() => setLimit((l) => l + 200)}
          onFilter={onFilter}
        />
        <section class="center" aria-label="the selected stream">
          {!selected ? (
            <div class="empty big">select a stream on the left</div>
          ) : (
            <>
              <div class="chart-panel">
                <StreamHeader
                  streamId={selected}
                  info={infoFor}
                  error={error}
                  onFailure={failure !== undefined ? jumpToFailure : undefined}
                  download={download}
                />
                <div class="tabs" role="tablist" aria-label="views of the stream">
                  <button type="button" role="tab" aria-selected={tab === 'chart'} id="tab-chart" aria-controls="panel-main" onClick={() => setTab('chart')}>
                    statechart
                  </button>
                  <button
                    type="button"
                    role="tab"
                    aria-selected={tab === 'sequence'}
                    id="tab-sequence"
                    aria-controls="panel-main"
                    data-testid="sequence-tab"
                    onClick={() => setTab('sequence')}
                  >
                    messages between actors
                  </button>
                </div>
                <div class="tab-body" id="panel-main" role="tabpanel" aria-labelledby={`tab-${tab}`}>
                  {tab === 'sequence' ? (
                    <SequenceDiagram streamId={selected} version={version ?? 0} total={total} onOpen={(id, v) => open(id, v)} />
                  ) : (
                    <div class="chart-row">
                      <ActorTree
                        streamId={selected}
                        machine={infoFor?.stream.machine.name ?? ''}
                        tree={at?.tree ?? []}
                        selected={actor}
                        target={at?.event ? (at.event.meta.target ?? '') : undefined}
                        onSelect={setActor}
                      />
                      {chart ? (
                        <Statechart
                          hash={chart.hash}
                          definition={chart.definition}
                          value={at?.actor === actor ? at.snapshot?.value : undefined}
                          transitions={at?.actor === actor ? at.transitions : []}
                          name={actor ? `${selected} / ${actor}` : selected}
                        />
                      ) : (
                        <div class="empty">{infoFor && actor === '' ? 'no definition in the log, and the machine is not registered' : 'loading…'}</div>
                      )}
                    </div>
                  )}
                </div>
              </div>
              <div class="timeline-panel">
                <div class="timeline-tools">
                  <Stepper version={version ?? 0} total={total} onSelect={select} />
                  <TimelineFilters streamId={selected} total={total} filter={eventFilter} onFilter={setEventFilter} />
                </div>
                {filtered ? (
                  <MatchList
                    streamId={selected}
                    filter={eventFilter}
                    total={total}
                    selected={version ?? 0}
                    failure={failure}
                    onSelect={select}
                    onJump={(id, v) => open(id, v)}
                  />
                ) : (
                  <Timeline
                    streamId={selected}
                    total={total}
                    live={liveRows.current}
                    selected={version ?? 0}
                    failure={failure}
                    onSelect={select}
                    onJump={(id, v) => open(id, v)}
                  />
                )}
              </div>
            </>
          )}
        </section>
        <SnapshotPanel at={at?.actor === actor ? at : null} />
      </main>
      <ServicePanel
        head={head}
        position={pos}
        page={service}
        onPosition={setPosition}
        onOpen={(id, v) => open(id, v)}
        onMore={() => setServiceLimit((l) => l + 100)}
      />
    </>
  );
}

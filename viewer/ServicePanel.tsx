/** The whole service at a global position: every actor that existed then, its state and its last event. */
import type { ServicePage } from './api.ts';

export interface ServicePanelProps {
  head: number;
  position: number;
  page: ServicePage | null;
  onPosition: (position: number) => void;
  onOpen: (streamId: string, version: number) => void;
  onMore: () => void;
}

export function ServicePanel(props: ServicePanelProps) {
  const { page } = props;
  return (
    <section class="service" aria-label="the service at a global position">
      <div class="svc-head">
        <h2>service at position</h2>
        <input
          type="range"
          min="0"
          max={props.head}
          value={props.position}
          aria-label="global position"
          data-testid="position-slider"
          onInput={(e) => props.onPosition(Number(e.currentTarget.value))}
        />
        <input
          type="number"
          min="0"
          max={props.head}
          value={props.position}
          aria-label="global position number"
          onChange={(e) => props.onPosition(Number(e.currentTarget.value))}
        />
        <span>
          of {props.head} · {page ? `${page.total} actors existed` : '…'}
        </span>
      </div>
      <div class="svc-body">
        <table class="svc">
          <thead>
            <tr>
              <th>stream</th>
              <th>machine</th>
              <th>state as of N</th>
              <th>status</th>
              <th>last event (v, position)</th>
              <th>source</th>
            </tr>
          </thead>
          <tbody>
            {page?.items.map((i) => (
              <tr tabIndex={0} onClick={() => props.onOpen(i.streamId, i.version)} onKeyDown={(e) => e.key === 'Enter' && props.onOpen(i.streamId, i.version)}>
                <td>
                  <code>{i.streamId}</code>
                </td>
                <td>{i.machine}</td>
                <td>
                  <code>{i.state ?? '?'}</code>
                </td>
                <td>
                  <span class={`badge st-${i.status}`}>{i.status ?? ''}</span>
                </td>
                <td>{i.event ? `${i.event.type} (v${i.version}, #${i.event.globalPosition})` : '(created, no event yet)'}</td>
                <td>{i.event?.source ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {page && page.items.length < page.total ? (
          <button type="button" class="more" onClick={props.onMore}>
            show more
          </button>
        ) : null}
      </div>
    </section>
  );
}

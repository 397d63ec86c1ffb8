/** The selected stream's heading: id, machine, how it ended (following live), where its chart comes from, the jump to its failure. */
import type { StreamInfo } from './api.ts';
import { OutcomeBadge } from './OutcomeBadge.tsx';

export interface StreamHeaderProps {
  streamId: string;
  info: StreamInfo | null;
  error: string | null;
  onFailure?: () => void;
  /** The download of the selection as a log file: the stream up to the selected event (`upTo`), or whole. */
  download: { href: string; upTo?: number };
}

export function StreamHeader(props: StreamHeaderProps) {
  const { info } = props;
  const outcome = info?.stream.outcome;
  return (
    <div class="panel-head">
      <h2>
        <code>{props.streamId}</code>
      </h2>
      {info && outcome ? (
        <>
          <span>
            {info.stream.machine.name} <small>{info.stream.machine.hash.slice(0, 12)}</small>
          </span>
          <OutcomeBadge outcome={outcome} status={info.stream.status} />
          <small data-testid="stream-status">{info.stream.status}</small>
          <small>definition from {info.definitionSource ?? 'nowhere'}</small>
          {props.onFailure && outcome.version !== undefined ? (
            <button type="button" class="jump-failure" onClick={props.onFailure} title={outcome.detail ?? outcome.label} aria-keyshortcuts="f">
              ✖ {outcome.kind === 'threw' ? 'where it threw' : 'how it ended'} (v{outcome.version}) <kbd>f</kbd>
            </button>
          ) : null}
        </>
      ) : null}
      <a
        class="download"
        href={props.download.href}
        download
        data-testid="download"
        title="the stream as a log file of its own (events, snapshots, definitions): open it with actorlog view"
      >
        ⤓ .actorlog{props.download.upTo !== undefined ? ` up to v${props.download.upTo}` : ''}
      </a>
      {info && !info.replay.ok ? <span class="warn">{info.replay.message}</span> : null}
      {props.error ? <span class="warn">{props.error}</span> : null}
    </div>
  );
}

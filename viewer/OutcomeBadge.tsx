/** How a stream ended, as a badge coloured by its tone (a failure red, a cancel or timeout amber). */
import type { Outcome } from './api.ts';

export function OutcomeBadge(props: { outcome: Outcome; status?: string }) {
  const { outcome } = props;
  const title = `${outcome.kind === 'final' ? `final state ${outcome.state}` : outcome.label}${props.status ? ` (stream status ${props.status})` : ''}${outcome.detail ? `: ${outcome.detail}` : ''}`;
  return (
    <span class={`badge tone-${outcome.tone}`} data-outcome={outcome.label} title={title}>
      {outcome.label}
    </span>
  );
}

import type { Diagnostic } from '../connection/events.ts';
import type { YoiEvent, YoiTranscript } from './schemas.ts';
import { displayLabel, type YoiTarget } from './target.ts';

/** What a transcript snapshot turns into: the events to deliver first, and diagnostics. */
export interface TranscriptEvents {
  events: YoiEvent[];
  diagnostics: Diagnostic[];
}

/**
 * The events a transcript projection seeds the observation with (seed 004
 * `transcript_projection_to_events`): first a `snapshot` (greeting: worker name = worker id,
 * provider `backend-runtime-api`, model = runtime id, idle, nothing in flight), then per item a
 * `user_message` (role user), a `text_delta` and a `text_done` (role assistant), or a warning
 * `alert` for any other role (not rendered as chat); each transcript diagnostic becomes a
 * diagnostic `Backend transcript diagnostic [code]: message`. Pure.
 * @example
 * ```ts
 * transcriptProjectionToEvents(target, { items: [{ role: 'user', content: 'hi' }], diagnostics: [] }).events.map((e) => e.type);
 * // ['snapshot', 'user_message']
 * ```
 */
export function transcriptProjectionToEvents(target: YoiTarget, transcript: YoiTranscript): TranscriptEvents {
  const events: YoiEvent[] = [
    {
      type: 'snapshot',
      entries: [],
      greeting: {
        worker_name: target.workerId,
        cwd: '',
        provider: 'backend-runtime-api',
        model: target.runtimeId,
        scope_summary: 'Backend Runtime API worker observation',
        tools: [],
        context_window: 0,
        context_tokens: 0,
      },
      status: 'idle',
      in_flight: { blocks: [] },
    },
  ];
  for (const item of transcript.items) {
    if (item.role === 'user') events.push({ type: 'user_message', segments: [{ type: 'text', text: item.content }] });
    else if (item.role === 'assistant') events.push({ type: 'text_delta', text: item.content }, { type: 'text_done', text: item.content });
    else {
      events.push({
        type: 'alert',
        level: 'warn',
        source: 'worker',
        timestamp_ms: 0,
        message: `Backend transcript item with role \`${item.role}\` is not rendered as chat content`,
      });
    }
  }
  const diagnostics = transcript.diagnostics.map((d) => ({ code: d.code, message: `Backend transcript diagnostic [${d.code}]: ${d.message}` }));
  return { events, diagnostics };
}

/** The diagnostic when the transcript could not be loaded (the observation then starts without suppressing its snapshot). */
export function transcriptUnavailable(target: YoiTarget, error: string): Diagnostic {
  return { code: 'transcript.unavailable', message: `Backend initial transcript unavailable for ${displayLabel(target)}: ${error}` };
}

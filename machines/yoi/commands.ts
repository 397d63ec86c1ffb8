import type { Diagnostic } from '../connection/events.ts';

/** A segment of a `run` input (seed 004 `Segment`): text, or a file reference. */
export type YoiSegment = { type: 'text'; text: string } | { type: 'file_ref'; path: string };

/**
 * A console method (seed 004 `protocol::Method`) as JSON, tagged by `method` in snake case. The
 * application sends it to a yoi connection as `{ type: 'connection.command', command }`.
 */
export type YoiMethod =
  | { method: 'run'; input: YoiSegment[] }
  | { method: 'notify'; message: string }
  | { method: 'cancel' }
  | { method: 'shutdown' }
  | { method: 'pause' }
  | { method: 'resume' }
  | { method: 'compact' }
  | { method: 'list_completions'; [key: string]: unknown }
  | { method: 'list_rewind_targets' }
  | { method: 'rewind_to'; [key: string]: unknown }
  | { method: 'list_workers' }
  | { method: 'restore_worker'; [key: string]: unknown }
  | { method: 'register_peer'; [key: string]: unknown }
  | { method: 'worker_event'; [key: string]: unknown };

/** What a method becomes on the Backend Runtime API (seed 004 `BackendCommand`). */
export type BackendCommand =
  | { kind: 'input'; input: { kind: 'user' | 'system'; content: string } }
  | { kind: 'lifecycle'; action: 'cancel' | 'stop'; reason: string | null }
  | { kind: 'unsupported'; message: string };

const REASON = 'requested from TUI Backend Runtime API client';

/** The text of segments: text as is, a file reference as `@path`, joined without separator (seed 004 `Segment::flatten_to_text`). */
export function flattenSegments(segments: YoiSegment[]): string {
  return segments.map((s) => (s.type === 'text' ? s.text : `@${s.path}`)).join('');
}

/**
 * Maps a console method to a Backend Runtime API command, as seed 004 `backend_command_from_method`
 * does: `run` -> user input (segments flattened), `notify` -> system input, `cancel` -> POST cancel,
 * `shutdown` -> POST stop (with the reason "requested from TUI Backend Runtime API client");
 * everything else is unsupported with the seed's message, and is never sent. Pure.
 * @example
 * ```ts
 * backendCommandFromMethod({ method: 'run', input: [{ type: 'text', text: 'hello' }, { type: 'file_ref', path: 'src/lib.rs' }] });
 * // { kind: 'input', input: { kind: 'user', content: 'hello@src/lib.rs' } }
 * ```
 */
export function backendCommandFromMethod(method: YoiMethod | { method?: unknown }): BackendCommand {
  const m = method as YoiMethod;
  switch (m?.method) {
    case 'run':
      return { kind: 'input', input: { kind: 'user', content: flattenSegments(m.input ?? []) } };
    case 'notify':
      return { kind: 'input', input: { kind: 'system', content: m.message } };
    case 'cancel':
      return { kind: 'lifecycle', action: 'cancel', reason: REASON };
    case 'shutdown':
      return { kind: 'lifecycle', action: 'stop', reason: REASON };
    case 'pause':
      return unsupported('Backend Runtime API does not expose pause/resume for the TUI client yet; command was not sent');
    case 'resume':
      return unsupported('Backend Runtime API does not expose resume for the TUI client yet; command was not sent');
    case 'compact':
      return unsupported('Backend Runtime API does not expose compaction for the TUI client yet; command was not sent');
    case 'list_completions':
      return unsupported('Backend Runtime API does not expose completion lookup for the TUI client yet');
    case 'list_rewind_targets':
    case 'rewind_to':
      return unsupported('Backend Runtime API does not expose rewind controls for the TUI client yet; command was not sent');
    case 'list_workers':
    case 'restore_worker':
    case 'register_peer':
      return unsupported('Backend Runtime API worker-management controls are not available from this Console connection');
    case 'worker_event':
      return unsupported('Backend Runtime API does not accept child Worker lifecycle events from this Console connection');
    default:
      return unsupported(`unknown console method ${JSON.stringify((method as { method?: unknown })?.method)}; command was not sent`);
  }
}

function unsupported(message: string): BackendCommand {
  return { kind: 'unsupported', message };
}

/**
 * The diagnostics of an input or lifecycle answer (seed 004 `enqueue_operation_diagnostics`): one
 * when the state is not `accepted` ("Backend runtime {op} was {state} for {label}"), and one per
 * backend diagnostic ("Backend runtime {op} diagnostic [{code}]: {message}").
 */
export function operationDiagnostics(operation: string, label: string, state: string, diagnostics: Diagnostic[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (state !== 'accepted') out.push({ code: `${operation}.${state}`, message: `Backend runtime ${operation} was ${state} for ${label}` });
  for (const d of diagnostics) out.push({ code: d.code, message: `Backend runtime ${operation} diagnostic [${d.code}]: ${d.message}` });
  return out;
}

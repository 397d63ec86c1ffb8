import { z } from 'zod';

/**
 * zod schemas of the yoi Workspace Backend API payloads a connection reads (seed 004
 * `backend_runtime.rs`: `ClientWorkerEventWsFrame`, `WorkerTranscriptProjection`, `WorkerInputResult`,
 * `WorkerLifecycleResult`, `BackendDiagnostic`). The worker events themselves (`protocol::Event`)
 * are JSON objects tagged by `type` in snake case (`snapshot`, `user_message`, `text_delta`,
 * `text_done`, `alert`, `error`, …); only the tag is checked, the rest is kept as it came.
 */

/** A `protocol::Event` as JSON: `{ type, ... }`. */
export const YoiEventSchema = z.looseObject({ type: z.string().min(1) });
export type YoiEvent = z.infer<typeof YoiEventSchema>;

/** `BackendDiagnostic`. */
export const DiagnosticSchema = z.object({ code: z.string(), message: z.string() });

/** One observation frame: `{ kind: 'event', envelope }` or `{ kind: 'diagnostic', diagnostic }` (serde tag `kind`, snake case). */
export const FrameSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('event'),
    envelope: z.object({ cursor: z.string(), runtime_id: z.string(), worker_id: z.string(), payload: YoiEventSchema }),
  }),
  z.object({ kind: z.literal('diagnostic'), diagnostic: DiagnosticSchema }),
]);
export type YoiFrame = z.infer<typeof FrameSchema>;

/**
 * `WorkerTranscriptProjection`: items and diagnostics default to empty. `cursor` is not in seed
 * 004's struct (serde ignores unknown fields): when a backend sends it (the observation cursor
 * `bo_<16 hex>` of the last event the projection covers), the observation resumes from it, so no
 * event emitted between the transcript load and the WebSocket open is lost (docs/connections.md).
 */
export const TranscriptSchema = z.object({
  items: z.array(z.object({ role: z.string(), content: z.string() })).default([]),
  diagnostics: z.array(DiagnosticSchema).default([]),
  cursor: z.string().optional(),
});
export type YoiTranscript = z.infer<typeof TranscriptSchema>;

/** `WorkerInputResult` / `WorkerLifecycleResult`: a state (`accepted`…) and diagnostics. */
export const OperationResultSchema = z.object({ state: z.string(), diagnostics: z.array(DiagnosticSchema).default([]) });
export type YoiOperationResult = z.infer<typeof OperationResultSchema>;

/** The diagnostic code after which the observation resets its cursor and resubscribes (seed 004). */
export const CURSOR_EXPIRED = 'backend.cursor_unknown_or_expired';

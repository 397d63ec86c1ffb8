import { z } from 'zod';

/**
 * zod schemas of the OpenCode server payloads actorlog reads. Sources: seed 001 (the Go client:
 * `HealthResponse`, `Session`, `SendMessageResponse`, `SubscribeEvents`) and the server's own
 * OpenAPI document (`GET /doc` of opencode 1.18.33: `Event*` schemas of `GET /event`,
 * `SessionV2Info`, `SessionInputAdmitted`, `SessionDurableEvent` of `GET /api/session/:id/event`).
 * Unknown keys are kept (`looseObject`): the server adds fields between versions.
 */

/** Seed 001 `HealthResponse` (GET /global/health). */
export const HealthSchema = z.looseObject({ healthy: z.boolean(), version: z.string() });
export type OpencodeHealth = z.infer<typeof HealthSchema>;

/** Seed 001 `Session` (POST /session, GET /session/:id): `id` is `ses_…`. */
export const SessionSchema = z.looseObject({ id: z.string().startsWith('ses'), title: z.string().optional(), parentID: z.string().optional() });
export type OpencodeSession = z.infer<typeof SessionSchema>;

/** OpenAPI `SessionStatus`: GET /session/status maps busy session ids to it (absent = idle). */
export const SessionStatusSchema = z.looseObject({ type: z.enum(['idle', 'busy', 'retry']), attempt: z.number().optional(), message: z.string().optional() });
export const StatusMapSchema = z.record(z.string(), SessionStatusSchema);

/** OpenAPI `Part` (the fields read here). */
export const PartSchema = z.looseObject({
  id: z.string(),
  messageID: z.string().optional(),
  type: z.string(),
  text: z.string().optional(),
  tool: z.string().optional(),
  reason: z.string().optional(),
  state: z.looseObject({ status: z.string(), output: z.string().optional() }).optional(),
});
export type OpencodePart = z.infer<typeof PartSchema>;

/** OpenAPI `Message` info (the fields read here); `error` is set on an aborted or failed answer. */
export const MessageInfoSchema = z.looseObject({
  id: z.string(),
  role: z.enum(['user', 'assistant']),
  parentID: z.string().optional(),
  error: z.looseObject({ name: z.string(), data: z.looseObject({ message: z.string().optional() }).optional() }).optional(),
  /** ms since the epoch; `completed` is set once an answer is finished (a shell command's included). */
  time: z.looseObject({ created: z.number().optional(), completed: z.number().optional() }).optional(),
});

/** Seed 001 `SendMessageResponse` (POST /session/:id/message, also the answer of /shell): `{ info, parts }`. */
export const MessageWithPartsSchema = z.looseObject({ info: MessageInfoSchema, parts: z.array(PartSchema) });
export type OpencodeMessage = z.infer<typeof MessageWithPartsSchema>;

/** One event of the global stream GET /event (OpenAPI `Event`): `data:` lines only, no `id:`. */
export const GlobalEventSchema = z.looseObject({ id: z.string().optional(), type: z.string(), properties: z.record(z.string(), z.unknown()).default({}) });
export type OpencodeGlobalEvent = z.infer<typeof GlobalEventSchema>;

/** OpenAPI `EventSessionStatus.properties`. */
export const StatusPropsSchema = z.looseObject({ sessionID: z.string(), status: SessionStatusSchema });
/** OpenAPI `EventSessionError.properties` (`MessageAbortedError` after an abort). */
export const ErrorPropsSchema = z.looseObject({
  sessionID: z.string().optional(),
  error: z.looseObject({ name: z.string(), data: z.looseObject({ message: z.string().optional() }).optional() }).optional(),
});
/** OpenAPI `EventMessagePartDelta.properties`. */
export const PartDeltaPropsSchema = z.looseObject({ sessionID: z.string(), messageID: z.string(), partID: z.string(), field: z.string(), delta: z.string() });
/** OpenAPI `EventMessagePartUpdated.properties`. */
export const PartUpdatedPropsSchema = z.looseObject({ sessionID: z.string(), part: PartSchema });
/** OpenAPI `EventMessageUpdated.properties`. */
export const MessageUpdatedPropsSchema = z.looseObject({ sessionID: z.string(), info: MessageInfoSchema });

/** OpenAPI `SessionV2Info` inside `{ data }` (POST /api/session, GET /api/session/:id). */
export const SessionV2ResponseSchema = z.looseObject({ data: z.looseObject({ id: z.string().startsWith('ses'), title: z.string().optional() }) });
/** OpenAPI `SessionInputAdmitted` inside `{ data }` (POST /api/session/:id/prompt). */
export const AdmittedResponseSchema = z.looseObject({ data: z.looseObject({ admittedSeq: z.number().int(), id: z.string() }) });
/** OpenAPI `GET /api/session/active`: running sessions (`{ type: 'running' }`); absent = idle. */
export const ActiveResponseSchema = z.looseObject({ data: z.record(z.string(), z.looseObject({ type: z.string() })) });

/** OpenAPI `SessionDurableEvent`: one event of GET /api/session/:id/event, with its aggregate sequence `durable.seq`. */
export const DurableEventSchema = z.looseObject({
  id: z.string(),
  type: z.string(),
  durable: z.looseObject({ aggregateID: z.string(), seq: z.number().int().nonnegative(), version: z.number().int() }),
  data: z.record(z.string(), z.unknown()),
});
export type OpencodeDurableEvent = z.infer<typeof DurableEventSchema>;

/**
 * The binding kit: what every protocol binding of a generic machine needs, in one place. A binding
 * is then its wire schemas and a small actors file: each actor a {@link WireLogic}, failures
 * classified by `actorlog/transport`, unreadable payloads recorded with {@link recordInvalidThenFail}.
 * @internal (used by machines/; not a public subpath yet)
 */
export { unboundActor, type WireLogic, type WireMeta } from './wireLogic.ts';
export { invalidRecord, recordInvalidThenFail, type InvalidRecord } from './invalid.ts';

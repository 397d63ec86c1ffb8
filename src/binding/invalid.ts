import { concat, of, throwError, type Observable } from 'rxjs';
import { isActorlogError, textOf } from '../errors.ts';

/** The record of a payload that failed its schema: `<machine>.invalid` with the raw text and why. */
export interface InvalidRecord<TType extends string> {
  type: TType;
  /** The raw text as kept by the client (at most 4 KiB, credentials scrubbed: `keepRaw`). */
  raw: string;
  /** Why it was refused (the parse or schema error). */
  error: string;
  meta?: { source?: string; cursor?: string };
}

/**
 * The `*.invalid` event for an error that carries an unreadable payload: an `INVALID_PAYLOAD` error, or
 * an `OUTCOME_UNKNOWN` one that kept the raw answer (`details.raw`); `undefined` for any other error.
 * The error's `details.raw` was kept by the client (`invalidPayload` of `actorlog/transport`).
 */
export function invalidRecord<TType extends string>(type: TType, err: unknown, meta?: InvalidRecord<TType>['meta']): InvalidRecord<TType> | undefined {
  if (!isActorlogError(err, 'INVALID_PAYLOAD') && !(isActorlogError(err, 'OUTCOME_UNKNOWN') && err.details?.raw !== undefined)) return undefined;
  const record: InvalidRecord<TType> = { type, raw: textOf((err as { details?: { raw?: unknown } }).details?.raw ?? ''), error: (err as Error).message };
  if (meta) record.meta = meta;
  return record;
}

/**
 * A `catchError` handler for a protocol actor: on an error with an unreadable payload it emits the
 * `*.invalid` record first (so the log keeps what came), then fails with the same error; any other
 * error passes through. Bad input is recorded, never dropped, and the machine decides what follows.
 * `TEvent` is the machine's wire event union, which holds the `type` record.
 *
 * @example
 * ```ts
 * fromCall((o) => client.getJob(id, o)).pipe(map(toUpdate), catchError(recordInvalidThenFail<JobWireEvent>('job.invalid', { source: 'poll' })));
 * ```
 */
export function recordInvalidThenFail<TEvent extends { type: string }>(
  type: TEvent['type'],
  meta?: Extract<TEvent, { type: TEvent['type'] }> extends { meta?: infer M } ? M : never,
) {
  return (err: unknown): Observable<TEvent> => {
    const record = invalidRecord(type, err, meta as InvalidRecord<string>['meta']);
    return record
      ? concat(
          of(record as unknown as TEvent),
          throwError(() => err),
        )
      : throwError(() => err);
  };
}

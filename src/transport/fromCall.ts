import { Observable } from 'rxjs';

/**
 * A promise-returning request as a cold Observable: each subscription runs `run` once with a fresh
 * AbortSignal, emits its value and completes; unsubscribing (e.g. XState stopping the invoked
 * actor) aborts the request, and an error after the abort is not reported.
 *
 * @example
 * ```ts
 * const task$ = fromCall(({ signal }) => client.getTask(id, { signal }));
 * ```
 */
export function fromCall<T>(run: (options: { signal: AbortSignal }) => Promise<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    const abort = new AbortController();
    run({ signal: abort.signal }).then(
      (value) => {
        subscriber.next(value);
        subscriber.complete();
      },
      (err: unknown) => {
        if (!abort.signal.aborted) subscriber.error(err);
      },
    );
    return () => abort.abort();
  });
}

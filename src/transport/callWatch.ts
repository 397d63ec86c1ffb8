import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import { ActorlogError } from '../errors.ts';
import { networkError } from './classify.ts';

/** The time bounds of one request/response call. Durations in ms. */
export interface CallLimits {
  /**
   * The overall deadline: the whole call, from the request to the last byte of the answer (Go's
   * `http.Client.Timeout`). `Infinity` or omitted: none. Each binding defaults it to what its seed
   * or peer does (OpenCode 30 s, seed 001; MCP 60 s, the SDK's request timeout; foreman none, seed 000).
   */
  timeoutMs?: number;
  /**
   * The stall bound, in two phases: the answer's headers must come within it, and then the whole
   * body within it again. A body that drips (a byte now and then) does not re-arm it, so a server
   * that trickles its answer cannot keep a call open for ever. 0 or omitted: none.
   */
  stallTimeoutMs?: number;
}

/** A watchdog over one call (see {@link watchCall}). */
export interface CallWatch {
  /** Aborts when the deadline or a stall bound passes, or the caller's signal aborts: give it to the request. */
  readonly signal: AbortSignal;
  /** Which bound ended the call, if one did. */
  readonly expired: 'timeout' | 'stall' | undefined;
  /** The answer's headers arrived: the stall bound starts once more, for the whole body. */
  answered(): void;
  /** The call ended: the timers are cancelled. */
  stop(): void;
  /**
   * The error a failure of the call stands for: `TRANSIENT` with `details { cause: 'timeout',
   * timeoutMs }` or `{ cause: 'stall', stallTimeoutMs }` when a bound passed; `ABORTED` when the
   * caller aborted; else `networkError(label, err)` (an `ActorlogError` passes unchanged).
   */
  error(err: unknown): ActorlogError;
}

/**
 * Watches one request/response call on an injected scheduler (tests pass a `VirtualTimeScheduler`):
 * the overall deadline and the stall bound ({@link CallLimits}) start now. The clients of the
 * shipped bindings read their answers under one, so a slow or trickling peer ends a call `TRANSIENT`.
 *
 * @throws ActorlogError `INVALID_OPTIONS` for a negative bound
 * @example
 * ```ts
 * const watch = watchCall('A2A tasks/get', { timeoutMs: 30_000, stallTimeoutMs: 45_000 }, scheduler, signal);
 * try {
 *   const res = await request(url, { signal: watch.signal });
 *   watch.answered();
 *   text = await readBodyText(res.body, { label, maxBytes });
 * } catch (err) { throw watch.error(err); } finally { watch.stop(); }
 * ```
 */
export function watchCall(label: string, limits: CallLimits, scheduler: SchedulerLike = asyncScheduler, outer?: AbortSignal): CallWatch {
  const timeoutMs = limits.timeoutMs ?? Infinity;
  const stallMs = limits.stallTimeoutMs ?? 0;
  for (const [name, v] of [
    ['timeoutMs', timeoutMs],
    ['stallTimeoutMs', stallMs],
  ] as const) {
    if (Number.isNaN(v) || v < 0)
      throw new ActorlogError('INVALID_OPTIONS', `${label}: ${name} must be >= 0 ms or Infinity (got ${v})`, { details: { option: name } });
  }
  const abort = new AbortController();
  let expired: 'timeout' | 'stall' | undefined;
  let stall: Subscription | undefined;
  const expire = (why: 'timeout' | 'stall') => () => {
    if (!abort.signal.aborted) {
      expired = why;
      abort.abort();
    }
  };
  const deadline = Number.isFinite(timeoutMs) && timeoutMs > 0 ? scheduler.schedule(expire('timeout'), timeoutMs) : undefined;
  const armStall = () => {
    stall?.unsubscribe();
    if (Number.isFinite(stallMs) && stallMs > 0 && !abort.signal.aborted) stall = scheduler.schedule(expire('stall'), stallMs);
  };
  const onOuter = () => abort.abort(outer?.reason);
  if (outer?.aborted) abort.abort(outer.reason);
  else outer?.addEventListener('abort', onOuter, { once: true });
  armStall();
  return {
    signal: abort.signal,
    get expired() {
      return expired;
    },
    answered: armStall,
    stop() {
      deadline?.unsubscribe();
      stall?.unsubscribe();
      outer?.removeEventListener('abort', onOuter);
    },
    error(err) {
      if (expired === 'timeout')
        return new ActorlogError('TRANSIENT', `${label}: timed out after ${timeoutMs} ms`, { cause: err, details: { cause: 'timeout', timeoutMs } });
      if (expired === 'stall')
        return new ActorlogError('TRANSIENT', `${label}: no complete answer within ${stallMs} ms (stalled)`, {
          cause: err,
          details: { cause: 'stall', stallTimeoutMs: stallMs },
        });
      if (err instanceof ActorlogError) return err;
      if (outer?.aborted) return new ActorlogError('ABORTED', `${label}: aborted`, { cause: err });
      return networkError(label, err);
    },
  };
}

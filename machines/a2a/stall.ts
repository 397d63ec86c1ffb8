import type { SchedulerLike, Subscription } from 'rxjs';
import { ActorlogError } from '../../src/errors.ts';

/** The stall bound of A2A calls and streams when none is given, ms: the same as the SSE source's (MCP, OpenCode). */
export const DEFAULT_A2A_STALL_TIMEOUT_MS = 45_000;

/** A watchdog over one request: `signal` aborts when no byte arrived for `stallMs`; `stalledError()` tells why. */
export interface StallWatch {
  /** Aborts on a stall or when the caller's signal aborts. */
  readonly signal: AbortSignal;
  /** True once the watchdog fired. */
  readonly stalled: boolean;
  /** Re-arms the timer: call it when the response's headers and each body chunk arrive. */
  touch(): void;
  /** Cancels the timer (the request ended). */
  stop(): void;
  /** The TRANSIENT error of a stall, `details { cause: 'stall', stallTimeoutMs }`, as the SSE source reports it. */
  stalledError(cause?: unknown): ActorlogError;
}

/**
 * Watches one request for a stall on an injected scheduler (tests pass a VirtualTimeScheduler): the
 * timer starts now and restarts on every {@link StallWatch.touch}. `stallMs` 0 disables it.
 * @example
 * ```ts
 * const watch = watchStall('A2A tasks/get', 45_000, asyncScheduler, signal);
 * try { const res = await request(url, { signal: watch.signal }); watch.touch(); … } finally { watch.stop(); }
 * ```
 */
export function watchStall(label: string, stallMs: number, scheduler: SchedulerLike, outer?: AbortSignal): StallWatch {
  const abort = new AbortController();
  let timer: Subscription | undefined;
  let stalled = false;
  const onOuter = () => abort.abort(outer?.reason);
  if (outer?.aborted) abort.abort(outer.reason);
  else outer?.addEventListener('abort', onOuter, { once: true });
  const watch: StallWatch = {
    signal: abort.signal,
    get stalled() { return stalled; },
    touch() {
      timer?.unsubscribe();
      if (stallMs > 0 && !abort.signal.aborted) timer = scheduler.schedule(() => { stalled = true; abort.abort(); }, stallMs);
    },
    stop() {
      timer?.unsubscribe();
      outer?.removeEventListener('abort', onOuter);
    },
    stalledError: (cause) => new ActorlogError('TRANSIENT', `${label}: no data for ${stallMs} ms (stalled)`, {
      cause, details: { cause: 'stall', stallTimeoutMs: stallMs },
    }),
  };
  watch.touch();
  return watch;
}

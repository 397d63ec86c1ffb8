import { monitorEventLoopDelay } from 'node:perf_hooks';

/** Event-loop delay over one measurement, in milliseconds (percentiles of `monitorEventLoopDelay`). */
export interface LoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** A running event-loop delay monitor: {@link LoopDelayWatch.stop} ends it and returns the figures. */
export interface LoopDelayWatch {
  stop(): LoopDelay;
}

const ms = (ns: number) => Math.round(ns / 1e4) / 100;

/**
 * Starts `perf_hooks.monitorEventLoopDelay` with a 1 ms resolution (its timer fires every ms; a
 * sample is how late it ran), to be stopped when the measured load is over. A run shorter than a
 * few samples reports zeros rather than NaN.
 *
 * @example
 * ```ts
 * const watch = watchLoopDelay();
 * await load();
 * const { p50Ms, p99Ms } = watch.stop();
 * ```
 */
export function watchLoopDelay(): LoopDelayWatch {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  return {
    stop() {
      histogram.disable();
      if (histogram.count === 0) return { p50Ms: 0, p99Ms: 0, maxMs: 0 };
      return { p50Ms: ms(histogram.percentile(50)), p99Ms: ms(histogram.percentile(99)), maxMs: ms(histogram.max) };
    },
  };
}

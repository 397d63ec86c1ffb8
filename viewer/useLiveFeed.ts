/**
 * The live feed (`/api/live`), batched for the page: however many `appends` frames arrive, the page
 * hears of them once per animation frame (or per 100 ms while it is hidden), as one batch.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { LiveRow } from './api.ts';

/** What arrived since the last batch. */
export interface LiveBatch {
  /** The newest global position seen. */
  head: number;
  rows: LiveRow[];
  /** A stream's status or version changed (streams without events: a status change). */
  streamsChanged: boolean;
}

/** Subscribes to the live feed for the page's life; returns whether it is connected. `onBatch` may change between renders. */
export function useLiveFeed(onBatch: (batch: LiveBatch) => void): boolean {
  const [connected, setConnected] = useState(false);
  const handler = useRef(onBatch);
  handler.current = onBatch;
  useEffect(() => {
    const source = new EventSource('/api/live');
    let batch: LiveBatch = { head: 0, rows: [], streamsChanged: false };
    let scheduled: number | undefined;
    const flush = () => {
      scheduled = undefined;
      const b = batch;
      batch = { head: b.head, rows: [], streamsChanged: false };
      handler.current(b);
    };
    const schedule = () => {
      if (scheduled !== undefined) return;
      scheduled = document.hidden ? (setTimeout(flush, 100) as unknown as number) : requestAnimationFrame(flush);
    };
    source.addEventListener('open', () => setConnected(true));
    source.addEventListener('error', () => setConnected(false));
    source.addEventListener('appends', (m) => {
      const { head, rows } = JSON.parse((m as MessageEvent<string>).data) as { head: number; rows: LiveRow[] };
      batch.head = Math.max(batch.head, head);
      batch.rows.push(...rows);
      schedule();
    });
    source.addEventListener('streams', () => ((batch.streamsChanged = true), schedule()));
    return () => {
      source.close();
      if (scheduled !== undefined) {
        cancelAnimationFrame(scheduled);
        clearTimeout(scheduled);
      }
    };
  }, []);
  return connected;
}

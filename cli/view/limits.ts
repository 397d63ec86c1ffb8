/** Most rows one windowed read of the viewer's API returns (events, streams, service). */
export const MAX_WINDOW = 500;

/** An integer query parameter: absent or not an integer gives `fallback`, else it is clamped to `[min, max]`. */
export function clamp(value: string | null, min: number, max: number, fallback: number): number {
  const n = value === null || value === '' ? NaN : Number(value);
  return Number.isInteger(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

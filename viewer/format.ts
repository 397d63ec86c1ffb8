/** Small text helpers of the page. */

/** A JSON value on one line, cut to `max` characters. */
export function short(value: unknown, max = 80): string {
  const text = value === undefined ? '—' : (JSON.stringify(value) ?? typeof value);
  return text.length > max ? `${text.slice(0, max - 3)}…` : text;
}

/** An epoch-ms time as `YYYY-MM-DD hh:mm:ss` (UTC). */
export const dateTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

/** An epoch-ms time as `hh:mm:ss.mmm` (UTC). */
export const clockTime = (ms: number) => new Date(ms).toISOString().slice(11, 23);

/** True when a key press happened in a text field (the page's own keys then stay out of the way). */
export function isField(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.tagName === 'INPUT' || target.tagName === 'SELECT' || target.tagName === 'TEXTAREA');
}

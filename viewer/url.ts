/** The view in the URL's hash, so a link reproduces it: `#stream=job-7&v=12&actor=worker&pos=340`. */
export interface ViewHash {
  stream?: string;
  v?: number;
  /** The actor of the stream's tree shown (a child machine's path); absent: the root. */
  actor?: string;
  /** The center tab: `chart` (default) or `sequence`. */
  tab?: string;
  pos?: number;
  /** The list's filters. */
  outcome?: string;
  machine?: string;
  q?: string;
  /** The timeline's filters. */
  type?: string;
  source?: string;
}

const NUMBERS = new Set(['v', 'pos']);

export function readHash(hash = location.hash): ViewHash {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const out: Record<string, string | number | undefined> = {};
  for (const [k, v] of p) {
    if (NUMBERS.has(k)) out[k] = /^\d+$/.test(v) ? Number(v) : undefined;
    else if (v !== '') out[k] = v;
  }
  return out as ViewHash;
}

export function writeHash(view: ViewHash): void {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(view)) if (v !== undefined && v !== '') p.set(k, String(v));
  const next = `#${p.toString()}`;
  if (next !== location.hash) history.replaceState(null, '', next);
}

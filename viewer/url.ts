/** The view in the URL's hash, so a link reproduces it: `#stream=job-7&v=12&pos=340`. */
export interface ViewHash {
  stream?: string;
  v?: number;
  pos?: number;
  status?: string;
  machine?: string;
  q?: string;
}

export function readHash(hash = location.hash): ViewHash {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const num = (k: string) => (p.has(k) && /^\d+$/.test(p.get(k)!) ? Number(p.get(k)) : undefined);
  return { stream: p.get('stream') || undefined, v: num('v'), pos: num('pos'), status: p.get('status') || undefined, machine: p.get('machine') || undefined, q: p.get('q') || undefined };
}

export function writeHash(view: ViewHash): void {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(view)) if (v !== undefined && v !== '') p.set(k, String(v));
  const next = `#${p.toString()}`;
  if (next !== location.hash) history.replaceState(null, '', next);
}

/**
 * A read that keeps up without piling up: at most one request in flight; when the wanted key moves
 * on meanwhile, the newest key is read once the request returns (the keys between are skipped), and
 * the last answer stays at hand until then (with the key it answers, so the caller can tell a stale one).
 */
import { useEffect, useRef, useState } from 'preact/hooks';

export function useLatest<T>(key: string | null, read: (key: string) => Promise<T>, onError?: (err: unknown) => void): { key: string; value: T } | null {
  const [value, setValue] = useState<{ key: string; value: T } | null>(null);
  const state = useRef({ inFlight: false, wanted: key, read, onError });
  state.current.wanted = key;
  state.current.read = read;
  state.current.onError = onError;
  useEffect(() => {
    const s = state.current;
    const pump = () => {
      const k = s.wanted;
      if (s.inFlight || k === null) return;
      s.inFlight = true;
      s.read(k)
        .then(
          (v) => setValue({ key: k, value: v }),
          (err: unknown) => s.onError?.(err),
        )
        .finally(() => {
          s.inFlight = false;
          if (s.wanted !== k) pump();
        });
    };
    pump();
  }, [key]);
  return key === null ? null : value;
}

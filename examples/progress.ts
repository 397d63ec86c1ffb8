import type { AnyMachineSnapshot } from 'xstate';

/** The label of a job snapshot for progress lines: the remote-facing state (`working`, `done`…). */
export function jobLabel(snapshot: AnyMachineSnapshot): string {
  const value = snapshot.value as string | Record<string, unknown>;
  if (typeof value === 'string') return value;
  const inner = value.active;
  return typeof inner === 'string' ? inner : Object.keys(inner as object)[0];
}

/**
 * Progress output of the main job: a line with jobs counted by state, every `intervalMs`
 * (rewritten in place on a terminal, one line per tick otherwise).
 */
export function createProgress(snapshots: () => AnyMachineSnapshot[], startedAt: number) {
  const line = () => {
    const counts: Record<string, number> = {};
    for (const s of snapshots()) counts[jobLabel(s)] = (counts[jobLabel(s)] ?? 0) + 1;
    const parts = Object.entries(counts).map(([state, n]) => `${state} ${n}`);
    return `[${((Date.now() - startedAt) / 1000).toFixed(1)} s] ${parts.join(' · ')}`;
  };
  const print = () => {
    if (process.stdout.isTTY) process.stdout.write(`\r${line()}\x1b[K`);
    else console.log(line());
  };
  return {
    print,
    start(intervalMs: number): () => void {
      const timer = setInterval(print, intervalMs);
      return () => clearInterval(timer);
    },
  };
}

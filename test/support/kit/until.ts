/**
 * Waits until `condition` holds, checking it once per turn of the event loop (`everyMs` 0, the
 * default: what settles in-process, with no timer) or every `everyMs` ms (what another process or a
 * server does). Rejects naming `what` when it still does not hold after `timeoutMs` (default 10 s),
 * so a test that waits for something that never comes fails with a reason instead of hanging.
 */
export async function until(condition: () => boolean | Promise<boolean>, what: string, options: { timeoutMs?: number; everyMs?: number } = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => (options.everyMs ? setTimeout(resolve, options.everyMs) : setImmediate(resolve)));
  }
}

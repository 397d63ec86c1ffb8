/**
 * Waits until `condition` holds, checking it once per turn of the event loop (`everyMs` 0, the
 * default: what settles in-process, with no timer) or every `everyMs` ms (what another process or a
 * server does). Rejects naming `what` when it still does not hold after `timeoutMs` (default 10 s),
 * so a test that waits for something that never comes fails with a reason instead of hanging;
 * `what` may be a function, called at the timeout, to describe the state things were left in.
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string | (() => string | Promise<string>),
  options: { timeoutMs?: number; everyMs?: number } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : await what()}`);
    await new Promise((resolve) => (options.everyMs ? setTimeout(resolve, options.everyMs) : setImmediate(resolve)));
  }
}

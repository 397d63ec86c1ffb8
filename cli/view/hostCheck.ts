/**
 * True when a request's `Host` header names this viewer: `127.0.0.1`, `localhost` or `[::1]`, with
 * its port. A page on another site whose name an attacker re-points at 127.0.0.1 (DNS rebinding)
 * sends its own name as `Host`, so the viewer refuses it, whatever address it connected to.
 */
export function allowedHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const h = host.trim().toLowerCase();
  return h === `127.0.0.1:${port}` || h === `localhost:${port}` || h === `[::1]:${port}`;
}

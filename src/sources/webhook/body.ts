import type { IncomingMessage } from 'node:http';

/** The body of a request, or why it was not read. */
export type BodyResult =
  | { ok: true; body: Buffer }
  /** Over `maxBytes`: its first bytes (at most 4 KiB; none when the declared length was refused unread) and its size (declared, or read so far). */
  | { ok: false; reason: 'too-large'; head: Buffer; bytes: number }
  | { ok: false; reason: 'aborted' };

/**
 * Reads a request body up to `maxBytes` bytes. A declared `content-length` over the limit is
 * refused before reading; a body that grows past it stops being read (the caller answers 413 and
 * closes the connection). Nothing is buffered beyond `maxBytes`.
 *
 * @example
 * ```ts
 * const r = await readBoundedBody(req, 1 << 20);
 * if (!r.ok) return reply(res, r.reason === 'too-large' ? 413 : 400);
 * ```
 */
export function readBoundedBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve({ ok: false, reason: 'too-large', head: Buffer.alloc(0), bytes: declared });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyResult) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.pause();
        finish({ ok: false, reason: 'too-large', head: Buffer.concat([...chunks, chunk]).subarray(0, 4096), bytes: size });
      } else chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => finish({ ok: true, body: Buffer.concat(chunks, size) }));
    req.once('error', () => finish({ ok: false, reason: 'aborted' }));
    req.once('close', () => finish(req.complete ? { ok: true, body: Buffer.concat(chunks, size) } : { ok: false, reason: 'aborted' }));
  });
}

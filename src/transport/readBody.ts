import { ActorlogError } from '../errors.ts';
import { invalidPayload, networkError } from './classify.ts';

/** Options of {@link readBodyText}. */
export interface ReadBodyOptions {
  /** What is read, for messages (`foreman GET /jobs/{id}`); never a URL with credentials. */
  label: string;
  /** The most bytes read; one more ends the read with `INVALID_PAYLOAD`. Each binding sets its own (e.g. 64 MiB for results). */
  maxBytes: number;
}

/**
 * Reads a response body whole as UTF-8 text, within `maxBytes`. A body over the bound is not
 * buffered further: the read stops, the body is destroyed, and the call fails `INVALID_PAYLOAD`
 * with `details.raw` (its first bytes, scrubbed, <= 4 KiB), `details.error` naming the bound, and
 * `details.reason` `too-large`, so the binding records it (`*.invalid`) and ends the call with a
 * clear error, never a silent wait. A network failure mid-body is `networkError`'s `TRANSIENT`.
 *
 * @throws ActorlogError `INVALID_PAYLOAD` (over `maxBytes`), `TRANSIENT`, `ABORTED`
 * @example
 * ```ts
 * const text = await readBodyText(res.body, { label: 'foreman GET /jobs/{id}', maxBytes: 64 * 1024 * 1024 });
 * ```
 */
export async function readBodyText(body: AsyncIterable<Uint8Array> & { destroy?: (err?: Error) => unknown }, options: ReadBodyOptions): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (size > options.maxBytes) {
        body.destroy?.();
        const head = Buffer.concat(chunks)
          .subarray(0, 16 * 1024)
          .toString('utf8');
        const err = invalidPayload(options.label, head, `body larger than maxBytes ${options.maxBytes}`);
        throw new ActorlogError('INVALID_PAYLOAD', err.message, { details: { ...err.details, reason: 'too-large', maxBytes: options.maxBytes } });
      }
      chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
  } catch (err) {
    throw err instanceof ActorlogError ? err : networkError(options.label, err);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

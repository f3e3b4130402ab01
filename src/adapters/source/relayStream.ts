import { Readable } from 'node:stream';
import { SourceError } from '../../domain/errors';
import { sourceCancelled } from './sourceErrors';

/**
 * Hands a storage SDK's body stream on as a plain byte stream whose every failure is a SourceError:
 * a socket dropped mid-body becomes NETWORK (the engine retries that range), an abort of `signal`
 * becomes CANCELLED, and `finish` may fail the stream after its last byte (a local file that
 * changed while it was read). Destroying the returned stream destroys the body.
 */
export function relayStream(
  body: AsyncIterable<Buffer | Uint8Array> & { destroy?: (error?: Error) => unknown },
  mapError: (e: unknown) => SourceError,
  options: { where: string; signal?: AbortSignal; finish?: () => Promise<void> },
): Readable {
  const { signal } = options;
  const cancelError = (): SourceError => sourceCancelled(options.where);

  let drained = false;
  async function* relay(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of body) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      drained = true;
      await options.finish?.();
    } catch (e) {
      if (signal?.aborted) throw cancelError();
      throw e instanceof SourceError ? e : mapError(e);
    }
  }

  const out = Readable.from(relay(), { objectMode: false });
  // Readable.from can only stop the relay at its next chunk; a stalled body must be closed now,
  // or its socket would stay open until the server sends again.
  out.once('close', () => {
    if (!drained) body.destroy?.();
  });
  if (signal) {
    const onAbort = (): void => {
      out.destroy(cancelError());
    };
    if (signal.aborted) onAbort();
    else {
      signal.addEventListener('abort', onAbort, { once: true });
      out.once('close', () => signal.removeEventListener('abort', onAbort));
    }
  }
  return out;
}

/** A stream with no bytes, for empty ranges (HTTP cannot ask for zero bytes). */
export function emptyStream(): Readable {
  return Readable.from([], { objectMode: false });
}


import { Readable, finished } from 'node:stream';
import { SourceError } from '../../domain/errors';
import { sourceCancelled } from './sourceErrors';

type Body = AsyncIterable<Buffer | Uint8Array> & { destroy?: (error?: Error) => unknown };

/**
 * Hands a storage SDK's body stream on as a plain byte stream whose every failure is a SourceError:
 * a socket dropped mid-body becomes NETWORK (the engine retries that range), an abort of `signal`
 * becomes CANCELLED, and `finish` may fail the stream after its last byte (a local file that
 * changed while it was read). Destroying the returned stream destroys the body.
 *
 * A Node stream body is relayed by its events, chunk for chunk with its backpressure (pause when
 * the relay is full, resume when it is read); an async-iterable-only body goes through an async
 * generator. Both behave the same; the events cost no promise per chunk, which for a 1 GiB body
 * of 64 KiB chunks is measurable CPU (bench/cpuProbe.ts).
 */
export function relayStream(body: Body, mapError: (e: unknown) => SourceError, options: { where: string; signal?: AbortSignal; finish?: () => Promise<void> }): Readable {
  const cancelError = (): SourceError => sourceCancelled(options.where);
  const asSourceError = (e: unknown): SourceError => (options.signal?.aborted ? cancelError() : e instanceof SourceError ? e : mapError(e));
  const relay = isNodeReadable(body) ? relayEvents(body, asSourceError, options.finish) : relayIterator(body, asSourceError, options.finish);
  const { out } = relay;
  // A stalled body must be closed now, or its socket would stay open until the server sends again.
  out.once('close', () => {
    if (!relay.drained()) body.destroy?.();
  });
  const { signal } = options;
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

interface Relay {
  out: Readable;
  /** Every byte of the body was read (so destroying it is not needed). */
  drained(): boolean;
}

function isNodeReadable(body: Body): body is Body & Readable {
  const candidate = body as Partial<Readable>;
  return typeof candidate.on === 'function' && typeof candidate.pause === 'function' && typeof candidate.resume === 'function';
}

function relayEvents(body: Readable, asSourceError: (e: unknown) => SourceError, finish?: () => Promise<void>): Relay {
  let drained = false;
  const out = new Readable({
    // Bodies arrive in socket-read chunks (64 KiB); one chunk queued is enough to keep reading.
    highWaterMark: 64 * 1024,
    read: () => {
      body.resume();
    },
  });
  body.on('data', (chunk: Buffer | Uint8Array) => {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (!out.push(buffer)) body.pause();
  });
  // finished() also reports a body that closes before its end (a cut connection) as an error.
  finished(body, (error) => {
    if (out.destroyed) return;
    if (error) {
      out.destroy(asSourceError(error));
      return;
    }
    drained = true;
    if (!finish) {
      out.push(null);
      return;
    }
    finish().then(
      () => out.push(null),
      (e: unknown) => out.destroy(asSourceError(e)),
    );
  });
  return { out, drained: () => drained };
}

function relayIterator(body: Body, asSourceError: (e: unknown) => SourceError, finish?: () => Promise<void>): Relay {
  let drained = false;
  async function* relay(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of body) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      drained = true;
      await finish?.();
    } catch (e) {
      throw asSourceError(e);
    }
  }
  return { out: Readable.from(relay(), { objectMode: false }), drained: () => drained };
}

/** A stream with no bytes, for empty ranges (HTTP cannot ask for zero bytes). */
export function emptyStream(): Readable {
  return Readable.from([], { objectMode: false });
}

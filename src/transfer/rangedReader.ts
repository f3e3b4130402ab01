import { finished, type Readable } from 'node:stream';
import { SourceError, cancelled } from '../domain/errors';
import type { ObjectInfo, StorageSource } from '../ports/storageSource';
import { countRead } from './youngGarbage';

export interface RangedReadOptions {
  partSize: number;
  /** Most ranged reads in flight at once. */
  concurrency: number;
  /** How far ahead of the consumer reads are started (see readRanges). */
  readAhead: number;
  signal?: AbortSignal;
}

/**
 * The bytes [start, end) of `object`, in order, fetched as ranged reads of `partSize` and handed on
 * chunk by chunk while each still downloads (no concatenation).
 *
 * A part's read starts once the consumer is within `readAhead` bytes of where that part begins,
 * with at most `concurrency` in flight: the next part's first bytes are waiting when the current
 * one ends (no request round trip between parts), yet no stream is opened long before it is
 * needed. The part being consumed stops reading once it holds `PART_BUFFER` bytes nobody has
 * taken, a part waiting its turn after its first chunk; the rest waits in the kernel's socket
 * buffers (TCP backpressure), not on the heap. Buffers that sit in user space long enough are
 * promoted to V8's old generation and freed only by a full GC: a second part opened at once and
 * stalled behind the first for a whole part cost more client CPU, more RSS and more server CPU
 * than one opened just in time (measured with `npm run bench:compare`).
 */
const PART_BUFFER = 1024 * 1024;

export async function* readRanges(
  source: StorageSource,
  container: string,
  object: ObjectInfo,
  start: number,
  end: number,
  options: RangedReadOptions,
): AsyncGenerator<Buffer> {
  if (end <= start) return;
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const parts: Part[] = [];
  /** Where the next part to launch begins, and the first byte the consumer has not taken. */
  let next = start;
  let consumed = start;
  const launch = (): void => {
    while (next < end && (parts.length === 0 || (parts.length < options.concurrency && next - consumed <= options.readAhead))) {
      const partEnd = Math.min(end, next + options.partSize);
      parts.push(new Part(source, container, object, next, partEnd, controller.signal));
      next = partEnd;
    }
  };
  try {
    launch();
    parts[0]?.becomeHead();
    while (parts.length > 0) {
      const head = parts[0]!;
      for (;;) {
        const chunk = await head.take();
        if (chunk === undefined) break;
        consumed += chunk.length;
        countRead(chunk.length);
        launch();
        yield chunk;
      }
      parts.shift();
      launch();
      parts[0]?.becomeHead();
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    controller.abort(cancelled('The read'));
    for (const p of parts) p.destroy();
  }
}

/** One ranged read: a small queue of chunks between the stream and the in-order consumer. */
class Part {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes this part reads ahead of its consumer: one chunk until its turn comes (becomeHead). */
  private limit = 1;
  private finished = false;
  private failure: unknown;
  private wake?: () => void;
  private resumeReading?: () => void;
  private stream?: Readable;

  constructor(
    source: StorageSource,
    container: string,
    object: ObjectInfo,
    private readonly start: number,
    private readonly end: number,
    signal: AbortSignal,
  ) {
    this.run(source, container, object, signal).catch((e) => this.fail(e));
  }

  private async run(source: StorageSource, container: string, object: ObjectInfo, signal: AbortSignal): Promise<void> {
    const stream = (this.stream = await source.read(container, object, { start: this.start, end: this.end }, signal));
    let received = 0;
    // Events, not `for await`: no promise per chunk (measured with bench/cpuProbe.ts).
    await new Promise<void>((resolve, reject) => {
      this.resumeReading = () => stream.resume();
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        this.chunks.push(chunk);
        this.buffered += chunk.length;
        this.notify();
        if (this.buffered >= this.limit) stream.pause();
      });
      finished(stream, (error) => (error ? reject(error) : resolve()));
    });
    if (received !== this.end - this.start) {
      // A stream that ends early is a dropped connection, not a short object: retry, don't truncate.
      throw new SourceError(
        'NETWORK',
        `Reading bytes ${this.start}-${this.end - 1} of ${object.key} ended after ${received} of ${this.end - this.start} bytes.`,
        { hint: 'The connection to the storage dropped; the transfer retries.' },
      );
    }
    this.finished = true;
    this.notify();
  }

  private fail(e: unknown): void {
    this.failure = e ?? new Error('read failed');
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** The next chunk, or undefined when the part is complete. */
  async take(): Promise<Buffer | undefined> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk) {
        this.buffered -= chunk.length;
        if (this.buffered < this.limit / 2) this.unblock();
        return chunk;
      }
      if (this.failure !== undefined) throw this.failure;
      if (this.finished) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private unblock(): void {
    this.resumeReading?.();
  }

  /** The parts before this one are done: read ahead as far as PART_BUFFER from now on. */
  becomeHead(): void {
    this.limit = PART_BUFFER;
    this.unblock();
  }

  destroy(): void {
    this.unblock();
    this.stream?.destroy();
  }
}

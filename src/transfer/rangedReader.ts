import type { Readable } from 'node:stream';
import { SourceError, cancelled } from '../errors';
import type { ObjectInfo, StorageSource } from '../ports/storageSource';

export interface RangedReadOptions {
  partSize: number;
  concurrency: number;
  signal?: AbortSignal;
}

/**
 * The bytes [start, end) of `object`, in order, fetched as up to `concurrency` ranged reads in
 * parallel and reassembled in order. One HTTP stream rarely fills the pipe from an object store;
 * several do. The head part is handed on chunk by chunk while it still downloads (no
 * concatenation), and each part stops reading once it holds `PART_BUFFER` bytes nobody has taken:
 * the rest waits in the kernel's socket buffers (TCP backpressure), not on the heap. Buffers that
 * sit in user space long enough get promoted to V8's old generation and are freed only by a rare
 * full GC, which is what made RSS grow with the file size before this limit (measured with
 * `npm run bench`).
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
  let next = start;
  const launch = (): void => {
    while (next < end && parts.length < Math.max(1, options.concurrency)) {
      const partEnd = Math.min(end, next + options.partSize);
      parts.push(new Part(source, container, object, next, partEnd, controller.signal));
      next = partEnd;
    }
  };
  try {
    launch();
    while (parts.length > 0) {
      const head = parts[0]!;
      for (;;) {
        const chunk = await head.take();
        if (chunk === undefined) break;
        yield chunk;
      }
      parts.shift();
      launch();
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
    this.stream = await source.read(container, object, { start: this.start, end: this.end }, signal);
    let received = 0;
    for await (const chunk of this.stream as AsyncIterable<Buffer>) {
      received += chunk.length;
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      this.notify();
      if (this.buffered >= PART_BUFFER) await new Promise<void>((resolve) => (this.resumeReading = resolve));
    }
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
        if (this.buffered < PART_BUFFER / 2) this.unblock();
        return chunk;
      }
      if (this.failure !== undefined) throw this.failure;
      if (this.finished) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private unblock(): void {
    const resume = this.resumeReading;
    this.resumeReading = undefined;
    resume?.();
  }

  destroy(): void {
    this.unblock();
    this.stream?.destroy();
  }
}

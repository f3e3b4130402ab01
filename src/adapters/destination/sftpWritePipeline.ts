import { cancelled, type FerryError } from '../../domain/errors';
import { isGenericFailure } from './sftpErrors';

/** One positioned write request on an open handle; `done` is called once with the server's answer. */
export interface PositionalWriter {
  write(buffer: Buffer, length: number, position: number, done: (error?: Error | null) => void): void;
}

export interface WritePipelineOptions {
  /** Largest write the server takes (limits@openssh.com max-write, else 32 KiB). */
  maxWrite: number;
  /** Writes in flight at once; 1 sends the next only after the previous is acknowledged. */
  maxInFlight: number;
  /** With a write outstanding and no acknowledgement for this long, the pipeline fails with `timeoutError()`. */
  idleTimeoutMs: number;
  signal?: AbortSignal;
  /** Bytes acknowledged since the start offset, contiguous, never decreasing. */
  onAcknowledged?: (bytes: number) => void;
  /** Called once when a generic FAILURE under concurrency makes the pipeline fall back to one write in flight. */
  onSerialized?: () => void;
  mapError(error: unknown): FerryError;
  timeoutError(): FerryError;
}

interface Pending {
  position: number;
  buffer: Buffer;
  length: number;
  /** Sent while more than one write could be in flight. */
  concurrent: boolean;
  /** A view of the producer's chunk (not one of ours to reuse). */
  borrowed?: boolean;
}

/**
 * Streams an async iterable to positioned writes with up to `maxInFlight` requests outstanding
 * (one at a time is what makes SFTP slow over any latency). Incoming chunks of any size are
 * copied into reused buffers of exactly `maxWrite` bytes, so the server gets full-size writes
 * whatever the producer yields, and memory stays at about `maxInFlight + 1` buffers. A chunk that
 * holds whole writes (a stripe) is sent from views of itself instead, without a copy: a producer
 * must leave the chunks it yields unchanged until `run` settles.
 *
 * Some servers answer concurrent writes with a bare FAILURE; when that happens the failed writes
 * are sent again one at a time and the pipeline stays serial (`onSerialized`). A write that fails
 * on its own, or with another status, fails the whole pipeline.
 */
export class WritePipeline {
  private readonly inFlight = new Map<number, Pending>();
  private readonly retry: Pending[] = [];
  private readonly spare: Buffer[] = [];
  private limit: number;
  private next: number;
  private reported = 0;
  private lastProgress = performance.now();
  private failure?: FerryError;
  private wake?: () => void;
  private interrupt?: (error: FerryError) => void;

  constructor(private readonly writer: PositionalWriter, private readonly offset: number, private readonly options: WritePipelineOptions) {
    this.limit = Math.max(1, Math.floor(options.maxInFlight));
    this.next = offset;
  }

  /** Writes every byte of `data` from the start offset; resolves once all are acknowledged. Returns the byte count. */
  async run(data: AsyncIterable<Buffer>): Promise<number> {
    const { signal, maxWrite, idleTimeoutMs } = this.options;
    if (signal?.aborted) throw cancelled('The SFTP write');
    const onAbort = (): void => this.fail(cancelled('The SFTP write'));
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setInterval(() => {
      const waiting = this.inFlight.size > 0 || this.retry.length > 0;
      if (waiting && performance.now() - this.lastProgress >= idleTimeoutMs) this.fail(this.options.timeoutError());
    }, Math.max(10, Math.min(1000, idleTimeoutMs / 4)));
    const iterator = data[Symbol.asyncIterator]();
    let finished = false;
    try {
      let current: Buffer | undefined;
      let fill = 0;
      for (;;) {
        const item = await this.nextOrFailure(iterator);
        if (item.done) break;
        const chunk = item.value;
        let at = 0;
        while (at < chunk.length) {
          if (!current && chunk.length - at >= maxWrite) {
            await this.sendNext(chunk.subarray(at, at + maxWrite), maxWrite, true);
            at += maxWrite;
            continue;
          }
          current ??= this.spare.pop() ?? Buffer.allocUnsafe(maxWrite);
          const take = Math.min(maxWrite - fill, chunk.length - at);
          chunk.copy(current, fill, at, at + take);
          fill += take;
          at += take;
          if (fill === maxWrite) {
            await this.sendNext(current, fill);
            current = undefined;
            fill = 0;
          }
        }
        if (this.failure) throw this.failure;
      }
      finished = true;
      if (current && fill > 0) await this.sendNext(current, fill);
      await this.drain();
      const total = this.next - this.offset;
      if (this.reported < total || total === 0) this.options.onAcknowledged?.(total);
      return total;
    } finally {
      clearInterval(timer);
      signal?.removeEventListener('abort', onAbort);
      if (!finished) void Promise.resolve(iterator.return?.()).catch(() => undefined);
    }
  }

  /**
   * The producer's next chunk, or the pipeline's failure if that comes first (a cancel while the
   * producer is stalled). Deliberately not `Promise.race([next, failedPromise])`: racing a promise
   * that stays pending adds a reaction to it on every call, and each reaction kept its chunk alive
   * (RSS grew with the file size, measured with `npm run bench`).
   */
  private nextOrFailure(iterator: AsyncIterator<Buffer>): Promise<IteratorResult<Buffer>> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.interrupt = reject;
      iterator.next().then(resolve, reject);
    }).finally(() => { this.interrupt = undefined; }) as Promise<IteratorResult<Buffer>>;
  }

  private fail(error: FerryError): void {
    if (this.failure) return;
    this.failure = error;
    this.interrupt?.(error);
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async waitForChange(): Promise<void> {
    // fail() wakes this too, so no race with the failure promise is needed (see run()).
    await new Promise<void>((resolve) => { this.wake = resolve; });
  }

  /** Sends `length` bytes of `buffer` as the next write once a slot is free; `borrowed`: a view of the producer's chunk. */
  private async sendNext(buffer: Buffer, length: number, borrowed = false): Promise<void> {
    await this.slot();
    this.send({ position: this.next, buffer, length, concurrent: false, ...(borrowed ? { borrowed } : {}) });
    this.next += length;
  }

  /** Resolves when a new write may be sent (failed writes first go out again). */
  private async slot(): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      this.pumpRetries();
      if (this.retry.length === 0 && this.inFlight.size < this.limit) return;
      await this.waitForChange();
    }
  }

  /** Resolves when every write is acknowledged. */
  private async drain(): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      this.pumpRetries();
      if (this.retry.length === 0 && this.inFlight.size === 0) return;
      await this.waitForChange();
    }
  }

  private pumpRetries(): void {
    while (this.retry.length > 0 && this.inFlight.size < this.limit) this.send(this.retry.shift()!);
  }

  private send(pending: Pending): void {
    // An idle producer is not a stalled server: the clock starts with the first outstanding write.
    if (this.inFlight.size === 0) this.lastProgress = performance.now();
    pending.concurrent = this.limit > 1;
    this.inFlight.set(pending.position, pending);
    try {
      this.writer.write(pending.buffer, pending.length, pending.position, (error) => this.settle(pending, error));
    } catch (error) {
      this.settle(pending, error as Error);
    }
  }

  private settle(pending: Pending, error?: Error | null): void {
    if (this.inFlight.get(pending.position) !== pending) return;
    this.inFlight.delete(pending.position);
    if (this.failure) return;
    if (error) {
      if (!(pending.concurrent && isGenericFailure(error))) return this.fail(this.options.mapError(error));
      if (this.limit > 1) {
        this.limit = 1;
        this.options.onSerialized?.();
      }
      const at = this.retry.findIndex((p) => p.position > pending.position);
      this.retry.splice(at === -1 ? this.retry.length : at, 0, pending);
    } else {
      if (!pending.borrowed) this.spare.push(pending.buffer);
      this.lastProgress = performance.now();
      this.report();
    }
    this.notify();
  }

  /** Reports the bytes acknowledged without a gap: up to the first write still outstanding. */
  private report(): void {
    let lowest = this.next;
    for (const position of this.inFlight.keys()) if (position < lowest) lowest = position;
    if (this.retry.length > 0 && this.retry[0]!.position < lowest) lowest = this.retry[0]!.position;
    const acknowledged = lowest - this.offset;
    if (acknowledged > this.reported) {
      this.reported = acknowledged;
      this.options.onAcknowledged?.(acknowledged);
    }
  }
}

import type { Readable } from 'node:stream';
import { toWire } from '../../domain/errorWire';
import { SourceError } from '../../domain/errors';
import { isPortable, type LendRequest, type LentCredential } from '../../ports/portableSource';
import type { SecretStore } from '../../ports/secretStore';
import type { StorageSource } from '../../ports/storageSource';
import type { FromWorker, Port, RemoteCall, ToWorker } from './threadMessages';

/**
 * Bytes of one read the worker may hold before it has handed them on: the stream is paused at
 * this much in flight, so a slow destination slows the source instead of filling memory.
 */
export const READ_WINDOW = 2 * 1024 * 1024;

/**
 * The worker's source and secret store, served from the thread that holds them: the requester's
 * sign-in and any password typed on a card stay in this thread; the worker receives the bytes it
 * reads (when it cannot open the source itself), the secret values it resolves and the
 * credentials a portable source lends, one call at a time, in memory.
 */
export class ThreadHost {
  private readonly reads = new Map<number, { stream?: Readable; controller: AbortController; unacked: number }>();
  /** The job is over: messages still queued for it are dropped, and nothing new is opened. */
  private closed = false;

  constructor(
    private readonly port: Port<ToWorker, FromWorker>,
    private readonly source: StorageSource,
    private readonly secrets: SecretStore,
  ) {}

  /** Handles the worker's calls and reads; other messages are the caller's. */
  handle(message: FromWorker): boolean {
    if (this.closed) return true;
    switch (message.kind) {
      case 'call':
        void this.answer(message.call, message);
        return true;
      case 'read':
        void this.open(message.read, message.container, message.object, message.range);
        return true;
      case 'read-ack': {
        const read = this.reads.get(message.read);
        if (read) {
          read.unacked -= message.bytes;
          if (read.unacked < READ_WINDOW && read.stream?.isPaused()) read.stream.resume();
        }
        return true;
      }
      case 'read-cancel':
        this.cancel(message.read);
        return true;
      default:
        return false;
    }
  }

  /** Ends every read still open (the job is over). */
  close(): void {
    this.closed = true;
    for (const id of [...this.reads.keys()]) this.cancel(id);
  }

  private async answer(call: number, request: RemoteCall): Promise<void> {
    try {
      const value = await this.invoke(request);
      if (!this.closed) this.port.postMessage({ kind: 'answer', call, value });
    } catch (e) {
      if (!this.closed) this.port.postMessage({ kind: 'call-failed', call, error: toWire(e) });
    }
  }

  private invoke(request: RemoteCall): Promise<unknown> {
    switch (request.method) {
      case 'stat': return this.source.stat(...request.args);
      case 'list': return this.source.list(...request.args);
      case 'listContainers': return this.source.listContainers();
      case 'resolve': return this.secrets.resolve(request.args[0]);
      case 'lend': return this.lend(request.args[0]);
    }
  }

  private lend(request: LendRequest): Promise<LentCredential> {
    if (isPortable(this.source) && this.source.lend) return this.source.lend(request);
    return Promise.reject(new SourceError('UNSUPPORTED', `The ${this.source.scheme} source has no credential to lend.`));
  }

  private async open(id: number, container: string, object: Parameters<StorageSource['read']>[1], range: Parameters<StorageSource['read']>[2]): Promise<void> {
    const read: { stream?: Readable; controller: AbortController; unacked: number } = { controller: new AbortController(), unacked: 0 };
    this.reads.set(id, read);
    let stream: Readable;
    try {
      stream = await this.source.read(container, object, range, read.controller.signal);
    } catch (e) {
      this.reads.delete(id);
      if (!read.controller.signal.aborted) this.port.postMessage({ kind: 'read-failed', read: id, error: toWire(e) });
      return;
    }
    // Whatever the stream still says is unwanted now; without a listener an error would be uncaught.
    stream.on('error', () => undefined);
    if (read.controller.signal.aborted) {
      stream.destroy();
      return;
    }
    read.stream = stream;
    this.port.postMessage({ kind: 'opened', read: id });
    stream.on('data', (chunk: Buffer) => {
      // A copy of exactly the chunk, handed over without a second copy: the chunk's own memory
      // may be shared with other buffers (a socket read, a pool), so it cannot be transferred.
      const data = new Uint8Array(chunk);
      read.unacked += data.byteLength;
      this.port.postMessage({ kind: 'chunk', read: id, data }, [data.buffer as ArrayBuffer]);
      if (read.unacked >= READ_WINDOW) stream.pause();
    });
    stream.once('end', () => {
      this.reads.delete(id);
      this.port.postMessage({ kind: 'end', read: id });
    });
    stream.once('error', (e) => {
      if (this.reads.delete(id)) this.port.postMessage({ kind: 'read-failed', read: id, error: toWire(e) });
    });
  }

  private cancel(id: number): void {
    const read = this.reads.get(id);
    if (!read) return;
    this.reads.delete(id);
    read.controller.abort();
    read.stream?.destroy();
  }
}

import { Readable } from 'node:stream';
import { fromWire } from '../../domain/errorWire';
import { SourceError } from '../../domain/errors';
import type { LendRequest, LentCredential } from '../../ports/portableSource';
import type { SecretStore } from '../../ports/secretStore';
import type { ByteRange, ContainerInfo, ListOptions, ListPage, ObjectInfo, StorageSource } from '../../ports/storageSource';
import type { FromWorker, Port, RemoteCall, ThreadJobData, ToWorker } from './threadMessages';

/**
 * The worker's side of ThreadHost: a StorageSource and a SecretStore whose every call goes to the
 * thread that holds the real ones. A read is a stream fed by that thread's chunks; each chunk is
 * acknowledged once the engine has taken it, which is what lets the other side send more.
 */
export class RemoteSource implements StorageSource {
  readonly scheme: string;
  readonly parallelReads: number;
  private nextId = 1;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly reads = new Map<number, RemoteRead>();

  constructor(private readonly port: Port<FromWorker, ToWorker>, info: ThreadJobData['source']) {
    this.scheme = info.scheme;
    this.parallelReads = info.parallelReads;
  }

  /** Feeds answers and chunks to their calls and reads; false for messages that are not theirs. */
  handle(message: ToWorker): boolean {
    switch (message.kind) {
      case 'answer':
      case 'call-failed': {
        const call = this.calls.get(message.call);
        this.calls.delete(message.call);
        if (message.kind === 'answer') call?.resolve(message.value);
        else call?.reject(fromWire(message.error));
        return true;
      }
      case 'opened':
      case 'chunk':
      case 'end':
      case 'read-failed':
        this.reads.get(message.read)?.take(message);
        return true;
      default:
        return false;
    }
  }

  readonly secrets: SecretStore = { resolve: (ref) => this.call({ method: 'resolve', args: [ref] }) as Promise<string> };

  /** The starting thread's source lends its credential (for the source the worker opened from its recipe). */
  lend(request: LendRequest): Promise<LentCredential> {
    return this.call({ method: 'lend', args: [request] }) as Promise<LentCredential>;
  }

  listContainers(): Promise<ContainerInfo[]> {
    return this.call({ method: 'listContainers', args: [] }) as Promise<ContainerInfo[]>;
  }

  list(container: string, options?: ListOptions): Promise<ListPage> {
    return this.call({ method: 'list', args: [container, options] }) as Promise<ListPage>;
  }

  stat(container: string, key: string): Promise<ObjectInfo> {
    return this.call({ method: 'stat', args: [container, key] }) as Promise<ObjectInfo>;
  }

  read(container: string, object: ObjectInfo, range: ByteRange, signal?: AbortSignal): Promise<Readable> {
    if (signal?.aborted) return Promise.reject(cancelled());
    const id = this.nextId++;
    return new Promise<Readable>((resolve, reject) => {
      const read = new RemoteRead(
        () => this.port.postMessage({ kind: 'read-ack', read: id, bytes: read.takeUnacked() }),
        () => {
          this.reads.delete(id);
          signal?.removeEventListener('abort', onAbort);
        },
        () => this.port.postMessage({ kind: 'read-cancel', read: id }),
        resolve,
        reject,
      );
      const onAbort = (): void => read.abort(cancelled());
      signal?.addEventListener('abort', onAbort, { once: true });
      this.reads.set(id, read);
      this.port.postMessage({ kind: 'read', read: id, container, object, range });
    });
  }

  /**
   * The other thread is gone (it closed the job's port after the job settled there): every call
   * and read still waiting fails now instead of waiting for an answer that cannot come.
   */
  abandon(): void {
    const gone = (): SourceError => new SourceError('CANCELLED', 'The transfer ended in the thread that started it.');
    for (const call of this.calls.values()) call.reject(gone());
    this.calls.clear();
    for (const read of [...this.reads.values()]) read.abort(gone());
  }

  private call(request: RemoteCall): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.port.postMessage({ kind: 'call', call: id, ...request });
    });
  }
}

function cancelled(): SourceError {
  return new SourceError('CANCELLED', 'The read was cancelled.');
}

/** One read's stream in the worker: opened, fed and ended by the other thread's messages. */
class RemoteRead {
  private stream?: Readable;
  private unacked = 0;
  private settled = false;

  constructor(
    private readonly ack: () => void,
    private readonly forget: () => void,
    private readonly cancel: () => void,
    private readonly opened: (stream: Readable) => void,
    private readonly failed: (e: Error) => void,
  ) {}

  takeUnacked(): number {
    const bytes = this.unacked;
    this.unacked = 0;
    return bytes;
  }

  take(message: Extract<ToWorker, { read: number }>): void {
    switch (message.kind) {
      case 'opened':
        this.stream = new Readable({
          read: () => {
            if (this.unacked > 0) this.ack();
          },
          destroy: (error, callback) => {
            // Destroyed before the end (a cancel, a failed attempt): the other side stops reading.
            if (!this.settled) this.cancel();
            this.settled = true;
            this.forget();
            callback(error);
          },
        });
        this.opened(this.stream);
        return;
      case 'chunk':
        this.unacked += message.data.byteLength;
        this.stream?.push(Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength));
        return;
      case 'end':
        this.settled = true;
        this.forget();
        this.stream?.push(null);
        return;
      case 'read-failed':
        this.settled = true;
        this.forget();
        if (this.stream) this.stream.destroy(fromWire(message.error));
        else this.failed(fromWire(message.error));
        return;
    }
  }

  /** The caller's signal aborted: before the stream opened the read fails, after it the stream does. */
  abort(error: Error): void {
    if (this.stream) {
      this.stream.destroy(error);
      return;
    }
    this.settled = true;
    this.cancel();
    this.forget();
    this.failed(error);
  }
}

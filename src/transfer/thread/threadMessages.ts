import type { MessagePort } from 'node:worker_threads';
import type { DestinationSpec } from '../../domain/destinationSpec';
import type { WireError } from '../../domain/errorWire';
import type { LendRequest, SourceRecipe } from '../../ports/portableSource';
import type { ByteRange, ListOptions, ObjectInfo } from '../../ports/storageSource';
import type { TransferEvent, TransferProgress, TransferRequest, TransferResult } from '../types';

/**
 * The messages between the thread that owns a transfer's source and secrets (the bot's) and the
 * worker thread that runs the engine. Everything here survives structured clone; errors travel
 * as WireError so their class and code survive too.
 */

/** One transfer, as data: what the worker receives with the job's own MessagePort. */
export interface ThreadJobData {
  request: ThreadRequest;
  /**
   * What the worker's stand-in for the source reports before it asks for anything, and the
   * source's recipe when it has one: the worker then opens the source itself and reads nothing
   * through the starting thread.
   */
  source: { scheme: string; parallelReads: number; recipe?: SourceRecipe };
}

/** A TransferRequest without the live parts: the destination as its spec, no source, signal or callbacks. */
export type ThreadRequest = Omit<TransferRequest, 'source' | 'destination' | 'signal' | 'onProgress' | 'onEvent'> & {
  destination: DestinationSpec;
};

/** Calls the worker makes on the source and the secret store of the thread that started it. */
export type RemoteCall =
  | { method: 'stat'; args: [container: string, key: string] }
  | { method: 'list'; args: [container: string, options?: ListOptions] }
  | { method: 'listContainers'; args: [] }
  | { method: 'resolve'; args: [ref: string] }
  | { method: 'lend'; args: [request: LendRequest] };

export type FromWorker =
  | ({ kind: 'call'; call: number } & RemoteCall)
  | { kind: 'read'; read: number; container: string; object: ObjectInfo; range: ByteRange }
  /** The worker has handed on `bytes` more of the read's bytes: that many more may come. */
  | { kind: 'read-ack'; read: number; bytes: number }
  | { kind: 'read-cancel'; read: number }
  | { kind: 'progress'; progress: TransferProgress }
  | { kind: 'event'; event: TransferEvent }
  | { kind: 'done'; result: TransferResult }
  | { kind: 'failed'; error: WireError };

export type ToWorker =
  | { kind: 'cancel' }
  | { kind: 'answer'; call: number; value: unknown }
  | { kind: 'call-failed'; call: number; error: WireError }
  | { kind: 'opened'; read: number }
  | { kind: 'chunk'; read: number; data: Uint8Array }
  | { kind: 'end'; read: number }
  | { kind: 'read-failed'; read: number; error: WireError };

/** How a job reaches a worker: its data and the port it talks over (transferred with it). */
export interface JobMessage {
  kind: 'job';
  data: ThreadJobData;
  port: MessagePort;
}

/** The part of a MessagePort (or a Worker, or parentPort) the two sides use. */
export interface Port<Out, In> {
  postMessage(message: Out, transfer?: ArrayBuffer[]): void;
  on(event: 'message', listener: (message: In) => void): unknown;
  off(event: 'message', listener: (message: In) => void): unknown;
  /** A MessagePort says when the other end closed it. */
  once?(event: 'close', listener: () => void): unknown;
}

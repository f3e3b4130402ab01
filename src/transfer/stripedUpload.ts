import { setMaxListeners } from 'node:events';
import { TransferError, type FerryError } from '../domain/errors';
import type { DestinationSession } from '../ports/destination';
import type { RangeWriter } from '../ports/rangeWriter';
import type { ObjectInfo, StorageSource } from '../ports/storageSource';
import { readRanges, type RangedReadOptions } from './rangedReader';
import type { ByteRange, RangeSet } from './rangeSet';
import type { ResumableHash } from './resumableHash';

export type StripeSession = DestinationSession & RangeWriter;

export interface StripedUploadOptions {
  source: StorageSource;
  container: string;
  object: ObjectInfo;
  temporaryPath: string;
  /** One per connection (or channel); each takes the next stripe as soon as it is free. */
  sessions: StripeSession[];
  /** More sessions that start taking stripes each when its promise resolves (none rejects). */
  joining?: Promise<StripeSession[]>[];
  /** Told which of `joining` took part (those that came too late did not, and wrote nothing). */
  onJoined?(sessions: StripeSession[]): void;
  /** Fed once, in order, with every byte from `hash.bytes` on. */
  hash: ResumableHash;
  /** What the server has acknowledged; grows as stripes are confirmed (also when the attempt fails). */
  acknowledged: RangeSet;
  stripeSize: number;
  /**
   * No stripe is written beyond the first unacknowledged byte plus this many bytes, so a file an
   * earlier process left holds no hole below its size minus the window (see the engine's resume
   * after a restart). It also bounds the memory: at most window / stripeSize stripes are held.
   */
  window: number;
  read: Omit<RangedReadOptions, 'signal'>;
  signal: AbortSignal;
  /** Bytes moved (read or acknowledged): keeps the idle watchdog quiet. */
  onActivity(): void;
  /** Bytes the server holds so far (acknowledged, stripes in progress included). */
  onProgress(bytes: number): void;
}

/** Stripes each connection writes at once (see the workers below). */
const STRIPES_PER_CONNECTION = 2;

interface Stripe {
  start: number;
  end: number;
  /** Its bytes, a view of `store` (only the part not yet acknowledged when it is cut into pieces). */
  bytes: Buffer;
  store: StripeStore;
}

/** One stripe-sized buffer from the pool, shared by the pieces of a stripe; back to the pool with the last. */
interface StripeStore {
  buffer: Buffer;
  pieces: number;
}

/**
 * Sends one file over several connections at once, each writing its own stripes of the same
 * temporary file at their offsets. The source is still read once, in order, so the SHA-256 sees
 * every byte exactly once; the gaps a failed attempt left below the read position are read again
 * (not hashed again) and sent first. Bytes the server already acknowledged are never sent again.
 *
 * Resolves when every byte of the object is acknowledged; on the first failure every connection's
 * write is aborted and that failure is thrown (the engine retries; `acknowledged` says what landed).
 */
export async function uploadStriped(o: StripedUploadOptions): Promise<void> {
  const size = o.object.size;
  const controller = new AbortController();
  // Every stripe write listens on it (and its pipeline's timers): two per worker, far above Node's 10.
  const listenersFor = (sessions: number): number => Math.max(10, sessions * STRIPES_PER_CONNECTION * 4);
  setMaxListeners(listenersFor(o.sessions.length), controller.signal);
  const onAbort = (): void => controller.abort(o.signal.reason);
  if (o.signal.aborted) onAbort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  // Memory: two stripes being written per connection and one waiting for each, and never more
  // than the window holds.
  const stripesFor = (sessions: number): number => Math.max(1, Math.min(Math.floor(o.window / o.stripeSize), sessions * (STRIPES_PER_CONNECTION + 1)));
  let maxStripes = stripesFor(o.sessions.length);
  const queue: Stripe[] = [];
  /** Stripes held in memory: queued or being written. */
  let held = 0;
  /**
   * Stripe buffers, reused: the source's chunks are copied in as they arrive and die young. Held
   * as they were for a stripe's whole write, they outlived several scavenges, reached V8's old
   * generation and were freed only by full GCs (4 connections over 50 ms, 256 MiB: client CPU
   * 1.6-1.9 s before, 1.3-1.4 s after). Each stripe then goes out from its buffer without another
   * copy (see WritePipeline).
   */
  const pool: Buffer[] = [];
  const release = (store: StripeStore): void => {
    if (--store.pieces === 0) pool.push(store.buffer);
  };
  const partial = new Map<Stripe, number>();
  let failure: FerryError | undefined;
  let producing = true;
  let wake: (() => void)[] = [];
  const notify = (): void => {
    const waiting = wake;
    wake = [];
    for (const w of waiting) w();
  };
  const changed = (): Promise<void> => new Promise((resolve) => wake.push(resolve));
  const fail = (e: unknown): void => {
    failure ??= e as FerryError;
    controller.abort(failure);
    notify();
  };
  const progress = (): void => {
    let inProgress = 0;
    for (const n of partial.values()) inProgress += n;
    o.onProgress(o.acknowledged.covered + inProgress);
  };

  /** Waits until a stripe ending at `end` may be held: a free slot, and within the window. */
  const admit = async (end: number): Promise<void> => {
    while (!failure && (held >= maxStripes || end > o.acknowledged.prefix + o.window)) await changed();
    if (failure) throw failure;
  };

  const produce = async (): Promise<void> => {
    const gaps = o.acknowledged.gaps(0, o.hash.bytes);
    for (const gap of gaps) await readRegion(gap, false);
    if (o.hash.bytes < size) await readRegion({ start: o.hash.bytes, end: size }, true);
  };

  /** Reads `region` in order, cutting it at stripe boundaries; only bytes not yet acknowledged are queued. */
  const readRegion = async (region: ByteRange, hashing: boolean): Promise<void> => {
    let position = region.start;
    let current: { start: number; end: number; store: StripeStore } | undefined;
    const flush = async (): Promise<void> => {
      if (!current) return;
      const { start, end, store } = current;
      current = undefined;
      for (const piece of o.acknowledged.gaps(start, end)) {
        queue.push({ start: piece.start, end: piece.end, bytes: store.buffer.subarray(piece.start - start, piece.end - start), store });
        store.pieces++;
        held++;
      }
      held--; // the stripe being filled was counted on admission
      release(store); // the filling's own hold: with no piece left to send, the buffer is free again
      notify();
    };
    const chunks = readRanges(o.source, o.container, o.object, region.start, region.end, { ...o.read, signal: controller.signal });
    for await (const chunk of chunks) {
      if (failure) throw failure;
      if (hashing) o.hash.update(chunk);
      o.onActivity();
      let at = 0;
      while (at < chunk.length) {
        if (!current) {
          const stripeEnd = Math.min(region.end, (Math.floor(position / o.stripeSize) + 1) * o.stripeSize);
          await admit(stripeEnd);
          held++;
          current = { start: position, end: stripeEnd, store: { buffer: pool.pop() ?? Buffer.allocUnsafe(o.stripeSize), pieces: 1 } };
        }
        const take = Math.min(chunk.length - at, current.end - position);
        chunk.copy(current.store.buffer, position - current.start, at, at + take);
        at += take;
        position += take;
        if (position === current.end) await flush();
      }
    }
    await flush();
  };

  const work = async (session: StripeSession): Promise<void> => {
    for (;;) {
      while (!failure && queue.length === 0 && producing) await changed();
      if (failure) return;
      const stripe = queue.shift();
      if (!stripe) return;
      partial.set(stripe, 0);
      try {
        await session.writeRange(o.temporaryPath, once(stripe.bytes), {
          offset: stripe.start,
          signal: controller.signal,
          onAcknowledged: (n) => {
            partial.set(stripe, n);
            o.onActivity();
            progress();
          },
        });
        o.acknowledged.add(stripe.start, stripe.end);
      } catch (e) {
        // What the server confirmed before the failure stays confirmed: only the rest is a gap.
        o.acknowledged.add(stripe.start, stripe.start + (partial.get(stripe) ?? 0));
        fail(e);
      } finally {
        partial.delete(stripe);
        release(stripe.store);
        held--;
        progress();
        notify();
      }
    }
  };

  try {
    // Two stripes at a time on each connection: while one drains its last writes and closes its
    // handle (round trips with nothing to send), the other keeps the channel's window full.
    const workers = o.sessions.flatMap((s) => Array.from({ length: STRIPES_PER_CONNECTION }, () => work(s)));
    let sessions = o.sessions.length;
    for (const joining of o.joining ?? []) {
      void joining.then((late) => {
        if (failure || (!producing && queue.length === 0)) return;
        sessions += late.length;
        maxStripes = stripesFor(sessions);
        setMaxListeners(listenersFor(sessions), controller.signal);
        workers.push(...late.flatMap((s) => Array.from({ length: STRIPES_PER_CONNECTION }, () => work(s))));
        o.onJoined?.(late);
        notify();
      });
    }
    await produce().catch(fail);
    producing = false;
    notify();
    // Workers that joined while these ran are awaited too.
    for (let awaited = 0; awaited < workers.length; ) {
      const batch = workers.slice(awaited);
      awaited = workers.length;
      await Promise.all(batch);
    }
    if (failure) throw failure;
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    if (!controller.signal.aborted) controller.abort();
  }
  if (!o.acknowledged.has(0, size) || o.hash.bytes !== size) {
    throw new TransferError('SIZE_MISMATCH', `Read ${o.hash.bytes} bytes of ${o.object.key}, expected ${size}.`, {
      hint: 'The source object may have changed; start the transfer again.',
    });
  }
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

import { FerryError, TransferError, DestinationError, cancelled, isNetworkErrno } from '../domain/errors';
import { alreadyExists } from '../domain/errorFactories';
import { canHashRemotely, type DestinationSession } from '../ports/destination';
import { canWriteRanges } from '../ports/rangeWriter';
import type { ObjectInfo } from '../ports/storageSource';
import { backoffDelay, sleep } from './backoff';
import { IdleWatchdog } from './idleWatchdog';
import { ProgressMeter } from './progressMeter';
import { readRanges } from './rangedReader';
import { checkRemotePath, dirname, temporaryPathFor } from './remotePath';
import { ResumableHash } from './resumableHash';
import { placeFinalFile } from './finalPlacement';
import { RangeSet } from './rangeSet';
import { StripedConnections, isStripingRefusal, type PendingConnections } from './stripedConnections';
import { uploadStriped } from './stripedUpload';
import type { TransferRequest, TransferResult, TransferTuning, VerificationLevel } from './types';

export const DEFAULT_TUNING: TransferTuning = {
  // Few, large ranged GETs: every GET has a fixed cost on both ends (measured on s3rver: 8 MiB
  // parts cost the client 0.3 and the server 0.8 more CPU s/GiB than 64 MiB parts). The next GET
  // starts 16 MiB before the current one is used up, which hides its first-byte latency (tens of
  // ms on S3, 16 MiB lasts about 80 ms at 200 MiB/s) without a second stream stalled for a whole part.
  partSize: 64 * 1024 * 1024,
  readConcurrency: 2,
  readAhead: 16 * 1024 * 1024,
  backoffBaseMs: 1000,
  backoffMaxMs: 30_000,
  progressIntervalMs: 1000,
  idleTimeoutMs: 60_000,
  freshRetriesAfterBytes: 16 * 1024 * 1024,
  // 2 MiB stripes, as much as one SSH channel's window takes per round trip; the window holds
  // three per channel at 4 connections of 2 channels (two being written, one waiting), so a slow
  // one does not idle the others. At 50 ms round trip 2 MiB / 48 MiB moved 256 MiB at 81-86 MiB/s
  // against 4 MiB / 32 MiB's 58-72 (through bench/delayProxy.ts, 2026-12-03).
  stripeSize: 2 * 1024 * 1024,
  stripeWindow: 48 * 1024 * 1024,
  // Below this one connection is as good: the extra SSH handshakes (several round trips each)
  // cost about what striping a smaller file would save, even at 50 ms.
  stripedMinSize: 64 * 1024 * 1024,
  // Two SSH channels per striping connection: one channel's 2 MiB window caps it at about 30 MiB/s
  // at 50 ms; a second carries as much again without another handshake (at 100 ms, 4 connections
  // went from 37 to 52 MiB/s; a third channel measured no better than two, 2026-12-03).
  channelsPerConnection: 2,
};

/**
 * Connections per transfer for destinations that write at offsets (SFTP). One by default: striping
 * pays only over distance (4 connections: 2.6x and 3.3x `sftp put` at 50 and 100 ms round trip
 * on 256 MiB), and costs CPU and 70-115 MiB more peak RSS (bench, 2026-12-04). `--connections 4`, or
 * `connections` on a saved destination, turns it on.
 */
export const DEFAULT_CONNECTIONS = 1;

/**
 * Moves one object from a source to a destination: streamed (no local disk), written under a
 * temporary name, verified (size always, SHA-256 against the source's and the server's checksum
 * where they exist), then renamed into place. Transient faults are retried with backoff and the
 * write resumes from the last byte the server holds; permanent ones fail at once. On any failure
 * or cancel the temporary file is removed, so nothing half-written stands anywhere.
 *
 * Throws FerryError (never anything else) with a stable code.
 */
export async function runTransfer(request: TransferRequest): Promise<TransferResult> {
  const tuning = { ...DEFAULT_TUNING, ...request.tuning };
  const retries = request.retries ?? 3;
  const finalPath = checkRemotePath(request.remotePath, 'destination path');
  const signal = request.signal;
  const started = performance.now();
  const emit = request.onEvent ?? (() => undefined);

  let attempts = 0;
  /** Failures since the last resume that started well past the one before: what `retries` limits. */
  let failuresInARow = 0;
  const failAttempt = async (e: unknown): Promise<void> => {
    const error = asFerryError(e, signal);
    failuresInARow++;
    if (error.code === 'CANCELLED' || !error.retryable || failuresInARow > retries) throw error;
    const retryInMs = backoffDelay(failuresInARow, tuning.backoffBaseMs, tuning.backoffMaxMs);
    emit({ type: 'attempt-failed', attempt: attempts, code: error.code, message: error.message, retryInMs });
    await sleep(retryInMs, signal).catch(() => { throw cancelled(); });
  };

  // The object's exact version, pinned for every ranged read that follows.
  let object: ObjectInfo | undefined = request.object;
  while (!object) {
    attempts++;
    try {
      object = await request.source.stat(request.container, request.key, signal);
    } catch (e) {
      await failAttempt(e);
    }
  }
  attempts = 0;
  failuresInARow = 0;

  const pinned = object;
  const temporaryPath = request.resumeTemporaryPath ? checkRemotePath(request.resumeTemporaryPath, 'temporary path') : temporaryPathFor(finalPath);
  const algorithms = pinned.checksums?.md5 ? ['sha256', 'md5'] : ['sha256'];
  const hash = new ResumableHash(algorithms);
  const meter = new ProgressMeter(pinned.size, request.onProgress, tuning.progressIntervalMs);
  const resumedFromBytes: number[] = [];
  let session: DestinationSession | undefined;
  /** A file left by an earlier process counts as written as far as the server holds it. */
  let acknowledged = request.resumeTemporaryPath ? pinned.size : 0;
  /** Where the latest write started; a resume well past it shows the last attempt made progress. */
  let lastStart = 0;
  /** The folder exists and the 'fail' policy was checked (done once, by the first attempt that connects). */
  let prepared = false;
  /** A write has started, so a later attempt resumes from what the server holds. */
  let writeStarted = request.resumeTemporaryPath !== undefined;
  /** The rename was sent; if its reply was lost, the file may already stand under its final name. */
  let renameSent = false;
  let verified: { sha256: string; level: VerificationLevel } | undefined;
  /** Set once every byte is on the server; a later retry then only verifies and renames. */
  let digests: Record<string, string> | undefined;
  let result: TransferResult | undefined;
  /** Striping state: what the server acknowledged, and how many connections it takes. */
  const ranges = new RangeSet();
  const striping = new StripedConnections(request.destination, request.connections ?? DEFAULT_CONNECTIONS, emit, signal, tuning.channelsPerConnection);
  /** A file an earlier process left was checked for where its trustworthy bytes end. */
  let restartChecked = request.resumeTemporaryPath === undefined;
  emit({ type: 'started', object: pinned, destination: request.destination.label, remotePath: finalPath, temporaryPath });

  try {
    for (;;) {
      attempts++;
      meter.attempt = attempts;
      /** This attempt writes stripes over several connections. */
      let stripedNow = false;
      /** The extra connections, opened while the first one prepares the folder. */
      let pending: PendingConnections | undefined;
      try {
        if (signal?.aborted) throw cancelled();
        const stripes = !digests && striping.wanted && pinned.size >= tuning.stripedMinSize;
        // The extra connections start once the first one's login is accepted (where the
        // destination says when), while its channels open: not before, so a server that takes
        // one login at a time does not give its slot to an extra one.
        const early = stripes ? { ...striping.connectOptions, onAuthenticated: () => void (pending ??= striping.begin()) } : undefined;
        session ??= await request.destination.connect(signal, early);
        if (stripes && canWriteRanges(session)) {
          pending ??= striping.begin();
          striping.addFirst(pending, session);
        } else if (pending) {
          // Begun early for a session that turns out not to write ranges.
          await striping.discard(pending);
          pending = undefined;
        }
        if (!prepared) {
          await prepareDestination(session, finalPath, request.overwrite, signal);
          prepared = true;
        }
        if (renameSent && verified && (await landedUnderFinalName(session))) {
          result = completed(finalPath, verified);
          return result;
        }
        if (!restartChecked) {
          await trustLeftFile(session);
          restartChecked = true;
        }
        if (pending) {
          // The stripes start on the first connection and its own channels; each extra connection
          // joins when it is in (a handshake of several round trips), its channels after it.
          const firstLanes = await pending.firstLanes;
          const { joining } = pending;
          const accepted = striping.accept(attempts, pending);
          // Its failure (a cancel) is the upload's too; handled here so it is never an unhandled rejection.
          accepted.catch(() => undefined);
          pending = undefined;
          // Nothing to stripe over yet: wait for the extras, and without any take the one-stream path.
          const worthIt = firstLanes.length > 0 || (await accepted.then((n) => n > 0, () => false));
          try {
            if (worthIt) {
              stripedNow = true;
              await uploadOverStripes([session, ...firstLanes], joining);
              stripedNow = false;
              digests = hash.digest();
            }
          } finally {
            // Each extra is closed once it has opened. Not awaited when the upload is done: a
            // handshake still under way, or a goodbye (a round trip), must not hold up the
            // verification and the rename on the first connection.
            const closing = Promise.all([accepted.catch(() => undefined), ...joining.map((j) => j.then((s) => StripedConnections.close(s)))]).then(() => StripedConnections.close(firstLanes));
            if (!digests || !worthIt) await closing;
          }
        }
        if (!digests) {
          const offset = writeStarted ? await resumeOffset(session, temporaryPath, acknowledged, pinned.size, signal) : 0;
          writeStarted = true;
          // Measured by where the server lets us resume, which every destination reports (FTP
          // acknowledges nothing until a whole upload ends).
          if (offset - lastStart >= tuning.freshRetriesAfterBytes) failuresInARow = 0;
          lastStart = offset;
          if (offset > 0) {
            resumedFromBytes.push(offset);
            emit({ type: 'resumed', attempt: attempts, fromByte: offset });
          }
          await upload(session, offset);
          digests = hash.digest();
        }
        const verification = (verified = await verify(session, digests));
        renameSent = true;
        const placed = await placeFinalFile(session, temporaryPath, finalPath, request.overwrite, signal);
        emit({ type: 'renamed', from: temporaryPath, to: placed });
        result = completed(placed, verification);
        return result;
      } catch (e) {
        // A failed attempt's connection is suspect: drop it and reconnect on the next one.
        await session?.close();
        session = undefined;
        if (pending) await striping.discard(pending);
        // A server that refuses writes at offsets gets the rest over one connection, at once.
        if (stripedNow && !signal?.aborted && isStripingRefusal(e) && striping.refuseOffsets(attempts, e)) continue;
        await failAttempt(e);
      }
    }
  } finally {
    meter.stop();
    if (!result) await removeTemporary();
    await session?.close();
  }

  function completed(placed: string, verification: { sha256: string; level: VerificationLevel }): TransferResult {
    meter.set(pinned.size);
    meter.flush();
    return {
      status: 'completed',
      bytes: pinned.size,
      sha256: verification.sha256,
      seconds: (performance.now() - started) / 1000,
      attempts,
      resumedFromBytes,
      verification: verification.level,
      finalPath: placed,
    };
  }

  /**
   * After a rename whose reply was lost: the temporary file is gone and the final name holds a
   * file of the right size, so the rename took effect. Only for 'fail' and 'replace', where the
   * final name is known; the bytes were verified before the rename was sent.
   */
  async function landedUnderFinalName(s: DestinationSession): Promise<boolean> {
    if (request.overwrite === 'rename' || (await s.stat(temporaryPath, signal))) return false;
    return (await s.stat(finalPath, signal))?.size === pinned.size;
  }

  async function upload(s: DestinationSession, offset: number): Promise<void> {
    const hashFrom = hash.rewind(offset);
    const watchdog = new IdleWatchdog(tuning.idleTimeoutMs, signal);
    meter.set(offset);
    meter.flush();
    try {
      await s.write(temporaryPath, feed(hashFrom, offset, watchdog), {
        offset,
        signal: watchdog.signal,
        onAcknowledged: (n) => {
          acknowledged = offset + n;
          watchdog.touch();
        },
      });
    } catch (e) {
      throw watchdog.timedOut ? watchdog.timeoutError() : e;
    } finally {
      watchdog.stop();
    }
    if (hash.bytes !== pinned.size) {
      throw new TransferError('SIZE_MISMATCH', `Read ${hash.bytes} bytes of ${pinned.key}, expected ${pinned.size}.`, {
        hint: 'The source object may have changed; start the transfer again.',
      });
    }
    acknowledged = pinned.size;
  }

  /**
   * One attempt over several connections: the gaps an earlier attempt left go first, then the
   * rest of the object. `acknowledged` follows the contiguous prefix, so a fall-back to one
   * connection continues from there.
   */
  async function uploadOverStripes(sessions: DestinationSession[], joining: Promise<DestinationSession[]>[]): Promise<void> {
    const start = ranges.covered;
    if (writeStarted && start - lastStart >= tuning.freshRetriesAfterBytes) failuresInARow = 0;
    lastStart = start;
    const gaps = ranges.gaps(0, hash.bytes);
    if (writeStarted && (start > 0 || gaps.length > 0)) {
      resumedFromBytes.push(ranges.prefix);
      emit({ type: 'resumed', attempt: attempts, fromByte: ranges.prefix });
      if (gaps.length > 0) emit({ type: 'gaps-resent', attempt: attempts, gaps, bytes: gaps.reduce((n, g) => n + g.end - g.start, 0) });
    }
    writeStarted = true;
    const watchdog = new IdleWatchdog(tuning.idleTimeoutMs, signal);
    const joined: DestinationSession[] = [];
    meter.set(start);
    meter.flush();
    try {
      await uploadStriped({
        source: request.source,
        container: request.container,
        object: pinned,
        temporaryPath,
        sessions: sessions.filter(canWriteRanges),
        joining: joining.map((p) => p.then((j) => j.filter(canWriteRanges))),
        onJoined: (late) => void joined.push(...late),
        hash,
        acknowledged: ranges,
        stripeSize: tuning.stripeSize,
        window: Math.max(tuning.stripeWindow, tuning.stripeSize),
        read: { partSize: tuning.partSize, concurrency: Math.min(tuning.readConcurrency, request.source.parallelReads), readAhead: tuning.readAhead },
        signal: watchdog.signal,
        onActivity: () => watchdog.touch(),
        onProgress: (bytes) => meter.set(bytes),
      });
      // Only the sessions that wrote hold a handle: those that came too late are not waited for.
      await Promise.all([...sessions, ...joined].filter(canWriteRanges).map((s) => s.endRanges(temporaryPath, watchdog.signal)));
    } catch (e) {
      throw watchdog.timedOut ? watchdog.timeoutError() : e;
    } finally {
      watchdog.stop();
      acknowledged = ranges.prefix;
    }
  }

  /**
   * Resuming a file an earlier process left: on a destination that writes ranges, and for an
   * object large enough to stripe, that process may have striped, so only the bytes a window below
   * its size are sure to hold no hole; the rest is sent again. A file longer than the object is
   * started afresh.
   */
  async function trustLeftFile(s: DestinationSession): Promise<void> {
    if (!canWriteRanges(s) || pinned.size < tuning.stripedMinSize) return;
    const held = (await s.stat(temporaryPath, signal))?.size ?? 0;
    const trusted = held > pinned.size ? 0 : Math.max(0, held - Math.max(tuning.stripeWindow, tuning.stripeSize));
    // Stripes never truncate: a longer file is emptied now.
    if (held > pinned.size) await s.write(temporaryPath, (async function* () {})(), { offset: 0, ...(signal ? { signal } : {}) });
    acknowledged = trusted;
    ranges.add(0, trusted);
  }

  /** Source bytes from `hashFrom`: all of them feed the hash, those from `offset` on are sent. */
  async function* feed(hashFrom: number, offset: number, watchdog: IdleWatchdog): AsyncGenerator<Buffer> {
    let position = hashFrom;
    const chunks = readRanges(request.source, request.container, pinned, hashFrom, pinned.size, {
      partSize: tuning.partSize,
      concurrency: Math.min(tuning.readConcurrency, request.source.parallelReads),
      readAhead: tuning.readAhead,
      signal: watchdog.signal,
    });
    for await (const chunk of chunks) {
      hash.update(chunk);
      const end = position + chunk.length;
      const out = position >= offset ? chunk : end > offset ? chunk.subarray(offset - position) : undefined;
      position = end;
      watchdog.touch();
      if (out) {
        meter.set(position);
        yield out;
      }
    }
  }

  async function verify(s: DestinationSession, digests: Record<string, string>): Promise<{ sha256: string; level: VerificationLevel }> {
    const sha256 = digests.sha256!;
    const remote = await s.stat(temporaryPath, signal);
    if (!remote || remote.size !== pinned.size) {
      throw new TransferError(
        'SIZE_MISMATCH',
        `The server holds ${remote?.size ?? 0} bytes of ${temporaryPath}, expected ${pinned.size}.`,
        { hint: 'The server may be out of space or truncating uploads; check it, then retry.' },
      );
    }
    let sourceChecked = false;
    const expected = pinned.checksums;
    for (const [algorithm, value] of [['sha256', expected?.sha256], ['md5', expected?.md5]] as const) {
      if (!value) continue;
      if (value !== digests[algorithm]) {
        throw new TransferError('CHECKSUM_MISMATCH', `The ${algorithm} of the bytes sent does not match the source's stored checksum for ${pinned.key}.`, {
          hint: 'The source object may be corrupt or have changed; nothing was kept on the server.',
        });
      }
      sourceChecked = true;
    }
    let serverChecked = false;
    if (request.remoteHash !== false && canHashRemotely(s)) {
      const theirs = await s.remoteSha256(temporaryPath, signal);
      if (theirs !== undefined) {
        if (theirs !== sha256) {
          throw new TransferError('CHECKSUM_MISMATCH', `The server's SHA-256 of ${temporaryPath} differs from the bytes sent.`, {
            hint: 'The upload was corrupted on the way or on the server; nothing was kept. Retry.',
            retryable: false,
          });
        }
        serverChecked = true;
      }
    }
    const level: VerificationLevel = sourceChecked
      ? serverChecked ? 'size+source-checksum+server-hash' : 'size+source-checksum'
      : serverChecked ? 'size+server-hash' : 'size';
    emit({ type: 'verified', level, sha256 });
    return { sha256, level };
  }

  async function removeTemporary(): Promise<void> {
    // Best effort: reuse the session, or open a fresh one when the failure broke it. Bounded in
    // time, so a cancel against an unreachable server still ends promptly.
    let s = session;
    try {
      if (!writeStarted) return;
      const timeout = AbortSignal.timeout(Math.min(tuning.idleTimeoutMs, 15_000));
      s ??= await request.destination.connect(timeout);
      await s.remove(temporaryPath, timeout);
      emit({ type: 'cleaned-up', path: temporaryPath });
    } catch {
      // The original error matters more; a leftover temporary name is never the final name.
    } finally {
      if (s && s !== session) await s.close();
    }
  }
}

/**
 * Before the first byte: the target folder exists, and under the 'fail' policy an existing final
 * name is refused now rather than after a 5 TB upload (the rename checks again at the end).
 */
async function prepareDestination(session: DestinationSession, finalPath: string, overwrite: TransferRequest['overwrite'], signal?: AbortSignal): Promise<void> {
  await session.ensureDir(dirname(finalPath), signal);
  if (overwrite === 'fail' && (await session.stat(finalPath, signal))) {
    throw alreadyExists(finalPath);
  }
}

/**
 * Where a resumed write starts: what the server holds, but for offset-capable servers no further
 * than what it acknowledged (bytes beyond that may be holes); append-only servers (FTP APPE) can
 * only continue at their size.
 */
async function resumeOffset(session: DestinationSession, temporaryPath: string, acknowledged: number, size: number, signal?: AbortSignal): Promise<number> {
  const held = (await session.stat(temporaryPath, signal))?.size ?? 0;
  const offset = session.resumeMode === 'append' ? held : Math.min(held, acknowledged);
  return offset <= size ? offset : 0;
}

/** Every failure leaves as a FerryError; an abort from the caller always reads as CANCELLED. */
function asFerryError(e: unknown, signal?: AbortSignal): FerryError {
  if (signal?.aborted) return cancelled();
  if (e instanceof FerryError) return e;
  if (isNetworkErrno(e)) {
    return new TransferError('NETWORK', `The connection dropped (${(e as { code: string }).code}).`, {
      hint: 'The transfer retries; check the network if it keeps failing.',
      cause: e,
    });
  }
  return new TransferError('INTERNAL', `Unexpected failure: ${(e as Error)?.message ?? String(e)}`, {
    hint: 'Report this with the request ID; the log has the detail.',
    cause: e,
  });
}

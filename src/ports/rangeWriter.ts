import type { DestinationSession, WriteOptions } from './destination';

/**
 * Optional ability: a session writes any byte range of a file, so several sessions (one per
 * connection) can fill disjoint stripes of the same temporary file at once (SFTP).
 */
export interface RangeWriter {
  /**
   * Writes every byte `data` yields at `options.offset` onward into `path`, creating the file if
   * it is missing and never truncating it, whatever its current size (the bytes before the offset
   * may still be on their way over another connection). Resolves once the server has confirmed
   * all of them; `onAcknowledged` reports the contiguous bytes confirmed since the offset.
   * Throws what `DestinationSession.write` throws.
   */
  writeRange(path: string, data: AsyncIterable<Buffer>, options: WriteOptions): Promise<void>;
  /**
   * Ends this session's stripes of `path` (closes what writeRange kept open), so a write error the
   * server reports only at close shows here, and nothing is open when the file is renamed.
   * Fine when nothing was written. Throws what `write` throws.
   */
  endRanges(path: string, signal?: AbortSignal): Promise<void>;
  /**
   * Another session over the same connection that writes ranges too, where the protocol has
   * independent channels (SSH: each has its own flow-control window, so two carry twice what one
   * does over a long round trip, without another handshake). Closing it leaves this one open.
   */
  openLane?(signal?: AbortSignal): Promise<DestinationSession & RangeWriter>;
}

export function canWriteRanges(session: DestinationSession): session is DestinationSession & RangeWriter {
  return typeof (session as Partial<RangeWriter>).writeRange === 'function';
}

import { FerryError, cancelled, type ErrorCode } from '../domain/errors';
import type { Destination, DestinationSession } from '../ports/destination';
import { canWriteRanges } from '../ports/rangeWriter';
import type { TransferEvent } from './types';

/** Connections being opened for an attempt (see StripedConnections.begin). */
export type PendingConnections = Promise<PromiseSettledResult<DestinationSession>[]>;

/** The most connections one transfer opens, whatever is asked. */
export const MAX_CONNECTIONS = 16;

/**
 * How many connections a striped transfer writes over, and the extra sessions of one attempt.
 * Starts at what was asked; a server that refuses some of the extra logins (MaxStartups, a
 * per-user session limit, a firewall's connection cap) gets only as many as it accepted from then
 * on, and one that refuses writes at offsets gets one connection, and the single-stream path.
 */
export class StripedConnections {
  private planned: number;
  private readonly requested: number;

  constructor(
    private readonly destination: Destination,
    requested: number,
    private readonly emit: (event: TransferEvent) => void,
    private readonly signal?: AbortSignal,
  ) {
    this.requested = Math.min(MAX_CONNECTIONS, Math.max(1, Math.floor(Number.isFinite(requested) ? requested : 1)));
    this.planned = this.requested;
  }

  /** Whether more than one connection is still worth trying. */
  get wanted(): boolean {
    return this.planned > 1;
  }

  /**
   * Starts opening the connections beyond the attempt's first, at once and while the first one
   * connects (each is several round trips). Hand the result to `accept` or `discard`.
   */
  begin(): PendingConnections {
    return Promise.allSettled(Array.from({ length: this.planned - 1 }, () => this.destination.connect(this.signal)));
  }

  /**
   * The extra sessions that opened. Those that failed are not tried again in this transfer (the
   * first connection works, so the server is limiting us); when none opens, the transfer
   * continues over one connection.
   */
  async accept(attempt: number, pending: PendingConnections): Promise<DestinationSession[]> {
    const settled = await pending;
    const sessions: DestinationSession[] = [];
    let reason: ErrorCode | undefined;
    for (const s of settled) {
      if (s.status === 'fulfilled' && canWriteRanges(s.value)) sessions.push(s.value);
      else if (s.status === 'fulfilled') await s.value.close();
      else reason ??= s.reason instanceof FerryError ? s.reason.code : 'NETWORK';
    }
    if (this.signal?.aborted) {
      await StripedConnections.close(sessions);
      throw cancelled();
    }
    this.planned = 1 + sessions.length;
    this.emit({ type: 'connections', attempt, requested: this.requested, accepted: this.planned, ...(reason ? { reason } : {}) });
    return sessions;
  }

  /** Closes what `begin` opened, unused (the attempt failed before striping, or cannot stripe). */
  async discard(pending: PendingConnections): Promise<void> {
    const settled = await pending;
    await StripedConnections.close(settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])));
  }

  /**
   * A stripe write failed the way a server that cannot write at offsets fails: one connection
   * from now on. Returns whether that changed anything (true once), so the caller retries at once.
   */
  refuseOffsets(attempt: number, error: unknown): boolean {
    if (this.offsetsRefused) return false;
    this.offsetsRefused = true;
    this.planned = 1;
    this.emit({ type: 'connections', attempt, requested: this.requested, accepted: 1, reason: (error as FerryError).code });
    return true;
  }

  private offsetsRefused = false;

  /** Closes an attempt's extra sessions; never throws. */
  static async close(sessions: DestinationSession[]): Promise<void> {
    await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
  }
}

/**
 * Failures that say the server will not take writes at arbitrary offsets (an SFTP front end over
 * object storage that only appends, or refuses a write past the end), rather than a fault.
 */
export function isStripingRefusal(error: unknown): boolean {
  return error instanceof FerryError && error.area === 'destination' && (error.code === 'UNSUPPORTED' || error.code === 'SERVER_ERROR');
}

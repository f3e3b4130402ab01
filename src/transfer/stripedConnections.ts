import { FerryError, cancelled, type ErrorCode } from '../domain/errors';
import type { ConnectOptions, Destination, DestinationSession } from '../ports/destination';
import { canWriteRanges } from '../ports/rangeWriter';
import type { TransferEvent } from './types';

/** A connection opened for an attempt, with the further channels it opened (see StripedConnections.begin). */
interface Opened {
  session: DestinationSession;
  /** Never rejects. */
  lanes: Promise<DestinationSession[]>;
}

/** Connections being opened for an attempt (see StripedConnections.begin). */
export interface PendingConnections {
  extras: Promise<PromiseSettledResult<Opened>[]>;
  /** Each extra connection, and then its channels, as it opens (never rejects; [] for a failure). */
  joining: Promise<DestinationSession[]>[];
  /** The first connection's further channels (none until `addFirst`). */
  firstLanes: Promise<DestinationSession[]>;
}

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
    /** Channels per connection, where the destination has them (RangeWriter.openLane). */
    private readonly channelsPerConnection = 1,
  ) {
    this.requested = Math.min(MAX_CONNECTIONS, Math.max(1, Math.floor(Number.isFinite(requested) ? requested : 1)));
    this.planned = this.requested;
  }

  /** For every connection of a striped attempt: its further channels open together with it. */
  get connectOptions(): ConnectOptions {
    return { lanes: this.channelsPerConnection - 1 };
  }

  /** Whether more than one connection is still worth trying. */
  get wanted(): boolean {
    return this.planned > 1;
  }

  /**
   * Starts opening the connections beyond the attempt's first, at once and while the first one
   * opens its channels and prepares the folder (each is several round trips), each with its
   * further channels. Give it the first connection with `addFirst`; hand the result to `accept`
   * or `discard`.
   */
  begin(): PendingConnections {
    const each = Array.from({ length: this.planned - 1 }, async (): Promise<Opened> => {
      const session = await this.destination.connect(this.signal, this.connectOptions);
      return { session, lanes: this.lanes(session) };
    });
    // Each extra joins the stripes on its own (one slow handshake holds up no other); `extras`
    // is for the bookkeeping once all are settled.
    const joining = each.flatMap((p) => [
      p.then((o) => (canWriteRanges(o.session) ? [o.session] : []), () => []),
      p.then((o) => (canWriteRanges(o.session) ? o.lanes : []), () => []),
    ]);
    return { extras: Promise.allSettled(each), joining, firstLanes: Promise.resolve([]) };
  }

  /** The first connection is in: its further channels join the stripes with it. */
  addFirst(pending: PendingConnections, first: DestinationSession): void {
    pending.firstLanes = this.lanes(first);
  }

  /**
   * A connection's further channels; one the server refuses (OpenSSH's MaxSessions, a server with
   * one channel per connection) is simply not used.
   */
  private async lanes(session: DestinationSession): Promise<DestinationSession[]> {
    if (!canWriteRanges(session) || !session.openLane || this.channelsPerConnection <= 1) return [];
    const open = session.openLane.bind(session);
    const settled = await Promise.allSettled(Array.from({ length: this.channelsPerConnection - 1 }, () => open(this.signal)));
    return settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  }

  /**
   * Once every extra connection has settled: how many opened (they and their channels reach the
   * stripes through `pending.joining`, and the caller closes them from there). Connections that
   * failed are not tried again in this transfer (the first connection works, so the server is
   * limiting us); one that cannot write ranges is closed here.
   */
  async accept(attempt: number, pending: PendingConnections): Promise<number> {
    const settled = await pending.extras;
    let connections = 0;
    const unused: Promise<DestinationSession[]>[] = [];
    let reason: ErrorCode | undefined;
    for (const s of settled) {
      if (s.status === 'fulfilled' && canWriteRanges(s.value.session)) connections++;
      else if (s.status === 'fulfilled') unused.push(s.value.lanes.then((l) => [...l, s.value.session]));
      else reason ??= s.reason instanceof FerryError ? s.reason.code : 'NETWORK';
    }
    await StripedConnections.close((await Promise.all(unused)).flat());
    if (this.signal?.aborted) throw cancelled();
    this.planned = 1 + connections;
    this.emit({ type: 'connections', attempt, requested: this.requested, accepted: this.planned, ...(reason ? { reason } : {}) });
    return connections;
  }

  /** Closes what `begin` opened, unused (the attempt failed before striping, or cannot stripe). */
  async discard(pending: PendingConnections): Promise<void> {
    const [settled, firstLanes] = await Promise.all([pending.extras, pending.firstLanes]);
    const opened = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const lanes = await Promise.all(opened.map((o) => o.lanes));
    await StripedConnections.close([...firstLanes, ...lanes.flat(), ...opened.map((o) => o.session)]);
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

import type { TransferProgress } from './types';

/**
 * Turns a byte counter into progress events: rate over a sliding window (so a stall shows as a
 * falling rate, not a stale average), ETA from that rate, and at most one event per interval
 * (plus the final one) so a chat card or terminal is never flooded.
 *
 * Events come from the byte counter and from a ticker: when bytes stop moving (a stalled server,
 * a backoff between attempts) the last bytes counted still reach the card and the rate falls,
 * instead of the card freezing on whatever the last throttled event happened to show.
 */
export class ProgressMeter {
  private samples: { t: number; bytes: number }[] = [];
  private lastEmit = -Infinity;
  private bytes = 0;
  private ticker?: NodeJS.Timeout;
  attempt = 1;

  constructor(
    private readonly total: number,
    private readonly emit: ((p: TransferProgress) => void) | undefined,
    private readonly intervalMs: number,
    private readonly windowMs = 5000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Sets the absolute number of bytes handed to the destination. */
  set(bytes: number): void {
    this.bytes = bytes;
    const t = this.now();
    if (t - this.lastEmit >= this.intervalMs) this.report(t);
    this.startTicking();
  }

  /** Stops the ticker; call once the transfer has ended (the meter may be flushed after). */
  stop(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /** Emits now regardless of the interval (start, resume, end). */
  flush(): void {
    this.report(this.now());
  }

  snapshot(t = this.now()): TransferProgress {
    const samples = this.samples;
    samples.push({ t, bytes: this.bytes });
    while (samples.length > 2 && t - samples[0]!.t > this.windowMs) samples.shift();
    const first = samples[0]!;
    const seconds = (t - first.t) / 1000;
    const rate = seconds > 0 ? Math.max(0, (this.bytes - first.bytes) / seconds) : 0;
    const left = this.total - this.bytes;
    return {
      bytes: this.bytes,
      total: this.total,
      percent: this.total === 0 ? 100 : Math.min(100, Math.floor((this.bytes / this.total) * 1000) / 10),
      rate,
      etaSeconds: left <= 0 ? 0 : rate > 0 ? left / rate : undefined,
      attempt: this.attempt,
    };
  }

  private startTicking(): void {
    if (this.ticker || !this.emit || this.intervalMs <= 0) return;
    this.ticker = setInterval(() => {
      const t = this.now();
      if (t - this.lastEmit >= this.intervalMs) this.report(t);
    }, this.intervalMs);
    // Never the reason a process stays alive.
    this.ticker.unref();
  }

  private report(t: number): void {
    this.lastEmit = t;
    const p = this.snapshot(t);
    this.emit?.(p);
  }
}

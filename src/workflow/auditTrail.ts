import type { AuditEvent, AuditLog, AuditRecord } from '../ports/auditLog';
import type { WorkflowLog } from '../ports/workflowLog';

/** How long to wait before trying a down audit store again, growing to a minute. */
const RETRY_MS = [1_000, 2_000, 5_000, 10_000, 30_000, 60_000];

/**
 * The workflow's way to the audit log. Events are written in the order they happened: when the
 * store refuses one, it and every later event wait in order in memory and are written when the
 * store comes back (retried with growing pauses), so an outage in the middle of a transfer loses
 * nothing and reorders nothing. While events wait, `available` is false and no new transfer is
 * started (a transfer nobody can audit must not begin). A user's step never fails because of it.
 * Waiting events live in this process only: a crash during an outage loses them (the log says so).
 */
export class AuditTrail {
  private readonly waiting: AuditEvent[] = [];
  private flushing?: Promise<void>;
  private failures = 0;
  private timer?: NodeJS.Timeout;
  private last?: AuditRecord;

  constructor(
    private readonly audit: AuditLog,
    private readonly log: WorkflowLog,
  ) {}

  /** False while events wait for the store to come back. */
  get available(): boolean {
    return this.waiting.length === 0;
  }

  /** The newest record written (its seq and hash are the chain head as this process knows it). */
  get head(): AuditRecord | undefined {
    return this.last;
  }

  /** Appends `event` after every event before it; resolves when written or queued, never rejects. */
  async record(event: AuditEvent): Promise<void> {
    this.waiting.push(event);
    await this.flush();
  }

  /**
   * Records `event` and says whether it (and everything before it) is in the store now: the
   * check before a step that must not happen unaudited, such as starting a transfer. When false
   * the event still waits in order, like any other.
   */
  async recordNow(event: AuditEvent): Promise<boolean> {
    await this.record(event);
    return this.available;
  }

  private flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const event = this.waiting[0]!;
      try {
        this.last = await this.audit.append(event);
        this.waiting.shift();
        this.failures = 0;
      } catch (e) {
        this.failures++;
        this.log.error(
          { auditEvent: event.type, requestId: event.requestId, waiting: this.waiting.length, error: (e as Error).message },
          'audit append failed; the event waits, in order, until the audit store is back',
        );
        this.scheduleRetry();
        return;
      }
    }
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private scheduleRetry(): void {
    if (this.timer) return;
    const delay = RETRY_MS[Math.min(this.failures - 1, RETRY_MS.length - 1)]!;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delay);
    this.timer.unref();
  }
}

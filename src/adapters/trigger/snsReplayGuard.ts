/**
 * Which SNS messages were already delivered, so a captured message posted again is not acted on
 * twice. A message older than `maxAgeMs` is refused outright, so IDs need to be remembered only
 * that long; past `maxEntries` the oldest are forgotten first (memory stays bounded whatever
 * the traffic; what is forgotten is also nearly too old to be accepted).
 */
export class SnsReplayGuard {
  /** MessageId → when it may be forgotten; in insertion order, so the oldest come first. */
  private readonly seen = new Map<string, number>();

  constructor(
    readonly maxAgeMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
    /** How far in the future a Timestamp may be (clock skew between SNS and us). */
    private readonly skewMs = 5 * 60_000,
  ) {}

  /** Why a message with this Timestamp is refused, or undefined when its age is acceptable. */
  ageProblem(timestamp: string): 'invalid' | 'too old' | 'in the future' | undefined {
    const at = Date.parse(timestamp);
    if (Number.isNaN(at)) return 'invalid';
    const now = this.now();
    if (at < now - this.maxAgeMs) return 'too old';
    if (at > now + this.skewMs) return 'in the future';
    return undefined;
  }

  wasDelivered(messageId: string): boolean {
    this.prune();
    return this.seen.has(messageId);
  }

  markDelivered(messageId: string): void {
    this.seen.delete(messageId);
    this.seen.set(messageId, this.now() + this.maxAgeMs + this.skewMs);
    this.prune();
  }

  get size(): number {
    return this.seen.size;
  }

  private prune(): void {
    const now = this.now();
    for (const [id, until] of this.seen) {
      if (until > now && this.seen.size <= this.maxEntries) break;
      this.seen.delete(id);
    }
  }
}

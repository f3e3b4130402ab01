/**
 * Per-request things that must never be stored: the password typed on the destination card, the
 * destination form waiting on a host-key confirmation (with that password), and what a Retry needs
 * (the opened destination and the single-object source). Memory only, wiped when the request ends
 * and in any case `ttlMs` after the last write, so an abandoned request leaves nothing behind.
 *
 * While a transfer runs its entry is held (`hold`): it does not expire however long the transfer
 * takes, so a transfer that fails after hours still has what its Retry needs. `release` (the
 * transfer ended and may be retried) starts the time-to-live again.
 */
export class SecretVault<T extends object> {
  private readonly entries = new Map<string, { value: T; timer?: NodeJS.Timeout; held: boolean }>();

  constructor(private readonly ttlMs: number) {}

  get(requestId: string): T | undefined {
    return this.entries.get(requestId)?.value;
  }

  /** Merges `patch` into the request's entry and restarts its time-to-live (unless it is held). */
  patch(requestId: string, patch: Partial<T>): T {
    const old = this.entries.get(requestId);
    const value = { ...(old?.value ?? {}), ...patch } as T;
    const held = old?.held ?? false;
    this.set(requestId, value, held);
    return value;
  }

  /** Stops the entry's time-to-live until `release` (a transfer that needs it is running). */
  hold(requestId: string): void {
    const old = this.entries.get(requestId);
    if (old) this.set(requestId, old.value, true);
  }

  /** Ends a `hold`: the entry expires `ttlMs` from now unless written or wiped first. */
  release(requestId: string): void {
    const old = this.entries.get(requestId);
    if (old) this.set(requestId, old.value, false);
  }

  wipe(requestId: string): void {
    const old = this.entries.get(requestId);
    if (!old) return;
    clearTimeout(old.timer);
    this.entries.delete(requestId);
  }

  wipeAll(): void {
    for (const id of [...this.entries.keys()]) this.wipe(id);
  }

  private set(requestId: string, value: T, held: boolean): void {
    clearTimeout(this.entries.get(requestId)?.timer);
    let timer: NodeJS.Timeout | undefined;
    if (!held) {
      timer = setTimeout(() => this.wipe(requestId), this.ttlMs);
      timer.unref();
    }
    this.entries.set(requestId, { value, timer, held });
  }
}
